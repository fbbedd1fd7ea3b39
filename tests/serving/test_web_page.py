"""The web page in a real browser: Playwright drives Debian's chromium against uvicorn on a free port.

The page serves two models (popularity and EASE) and must show a column per model, side by
side, each holding that model's answer; a server with one model shows one column, unlabelled.
Each title has its explanation under it ("because you watched ..."), the user's movies beside the list.

Skipped (with the reason) when the `playwright` package or /usr/bin/chromium is missing;
`apt-get install -y chromium` provides the browser (Playwright's own browser download is never used).
"""

from __future__ import annotations

import json
import socket
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
MODELS = ("pop", "ease")  # served names (the folders' names), in the page's column order
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:
    pytest.skip("the playwright package is not installed (pip install playwright)", allow_module_level=True)
if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} not found (apt-get install -y chromium)", allow_module_level=True)

import uvicorn  # noqa: E402

from movierec.cli.main import main  # noqa: E402
from movierec.serving.api import create_app  # noqa: E402


@contextmanager
def _serving(app) -> Iterator[str]:
    """The URL of uvicorn serving `app` from a background thread."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))  # the OS picks a free port; uvicorn serves on this very socket, so no race
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        for _ in range(200):
            if server.started or not thread.is_alive():
                break
            threading.Event().wait(0.025)
        assert server.started, "uvicorn did not start"
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture(scope="module")
def trained(tmp_path_factory, block_data) -> Path:
    """A folder with `pop/` (popularity) and `ease/` model directories trained through the CLI."""
    folder = tmp_path_factory.mktemp("web")
    block_data.ratings.to_csv(folder / "r.csv", index=False)
    block_data.items.to_csv(folder / "i.csv", index=False)
    for preset, out in (("popularity", "pop"), ("ease", "ease")):
        args = ["train", "--ratings", str(folder / "r.csv"), "--items", str(folder / "i.csv"),
                "--preset", preset, "--out", str(folder / out)]  # fmt: skip
        assert main(args) == 0
    return folder


@pytest.fixture(scope="module")
def base_url(trained):
    """The page serving two models, popularity then EASE: a column for each."""
    with _serving(create_app([trained / "pop", trained / "ease"])) as url:
        yield url


@pytest.fixture(scope="module")
def single_url(trained):
    """The page serving the popularity model alone."""
    with _serving(create_app(trained / "pop")) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@contextmanager
def _open(browser, url: str, model_info: str):
    context = browser.new_context(viewport={"width": 1200, "height": 760})
    page = context.new_page()
    page.set_default_timeout(10_000)
    outside, errors = [], []
    page.on("request", lambda r: None if r.url.startswith(url) else outside.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url + "/")
    expect(page.locator("#model-info")).to_have_text(model_info)
    yield page
    context.close()
    assert outside == []  # the page never talks to another host
    assert errors == []  # no uncaught JavaScript error


@pytest.fixture
def page(browser, base_url):
    info = "2 models: pop (popularity · 40 users · 30 movies) | ease (ease · 40 users · 30 movies)"
    with _open(browser, base_url, info) as page:
        yield page


def _api(base_url: str, path: str, body: dict | None = None) -> dict:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base_url + path, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def _titles(page, results: str, model: str) -> list[str]:
    return page.locator(f"{results} .column[data-model='{model}'] table td.title button").all_inner_texts()


def _check_columns(page, base_url: str, results: str, path: str, body: dict | None = None, rows: int = 5) -> None:
    """Both model columns hold that model's answer, side by side, under the model's name."""
    boxes = []
    for model in MODELS:
        expect(page.locator(f"{results} .column[data-model='{model}'] tbody tr")).to_have_count(rows)
        expected = _api(base_url, f"/models/{model}{path}", body)["items"]
        assert _titles(page, results, model) == [item["title"] for item in expected]
        column = page.locator(f"{results} .column[data-model='{model}']")
        assert column.locator("h3").inner_text().startswith(model)
        boxes.append(column.bounding_box())
    assert boxes[0]["x"] + boxes[0]["width"] <= boxes[1]["x"] and boxes[0]["y"] == boxes[1]["y"]


def test_known_user(page, base_url):
    page.fill("#user-id", "u1")
    page.fill("#user-k", "5")
    page.click("#user-submit")
    _check_columns(page, base_url, "#user-results", "/users/u1/recommendations?k=5")
    assert _titles(page, "#user-results", "pop") != _titles(page, "#user-results", "ease")  # two models, two lists
    assert page.inner_text("#user-error") == ""


def test_one_model_shows_one_column(browser, single_url):
    with _open(browser, single_url, "model popularity · 40 users · 30 movies") as page:
        page.fill("#user-id", "u1")
        page.fill("#user-k", "5")
        page.click("#user-submit")
        expect(page.locator("#user-results tbody tr")).to_have_count(5)
        expected = _api(single_url, "/users/u1/recommendations?k=5")["items"]
        assert _titles(page, "#user-results", "pop") == [item["title"] for item in expected]
        expect(page.locator("#user-results .column")).to_have_count(1)
        expect(page.locator("#user-results h3")).to_have_count(0)  # no model heading for a single model


@pytest.mark.parametrize(
    ("user", "k", "phrase"),
    [("nobody", "5", "unknown user id 'nobody'"), ("u1", "0", "k: Input should be greater than or equal to 1")],
)
def test_known_user_errors(page, user, k, phrase):
    page.fill("#user-id", user)
    page.fill("#user-k", k)
    page.click("#user-submit")
    expect(page.locator("#user-error")).to_contain_text(phrase)
    expect(page.locator("#user-results table")).to_have_count(0)


def test_new_user(page, base_url, tmp_path):
    for query, title in [("movie 1 (", "Movie 1 (1990)"), ("MOVIE 2 (", "Movie 2 (1991)")]:
        page.fill("#search", query)
        page.locator("#search-results button", has_text=title).click()
    expect(page.locator("#liked li")).to_have_count(2)
    page.fill("#new-k", "5")
    page.click("#new-submit")
    _check_columns(page, base_url, "#new-results", "/recommendations", {"liked": ["m1", "m2"], "k": 5})
    for model in MODELS:
        assert not {"Movie 1 (1990)", "Movie 2 (1991)"} & set(_titles(page, "#new-results", model))
    # fill the other half too, so the screenshot shows the whole page at work
    page.fill("#user-id", "u21")
    page.click("#user-submit")
    expect(page.locator("#user-results tbody tr")).to_have_count(20)
    screenshot = tmp_path / "page.png"  # pytest keeps the last runs' tmp_path folders: the test artefact
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.stat().st_size > 10_000


def test_new_user_needs_a_liked_movie(page):
    page.click("#new-submit")
    expect(page.locator("#new-error")).to_contain_text("liked: List should have at least 1 item")


def test_clicking_a_title_shows_similar_movies(page, base_url):
    page.fill("#user-id", "u1")
    page.fill("#user-k", "5")
    page.click("#user-submit")
    expect(page.locator("#user-results tbody tr")).to_have_count(10)
    first = page.locator("#user-results .column[data-model='ease'] td.title button").first
    title = first.inner_text()
    first.click()
    expect(page.locator("#similar-title")).to_contain_text(f"Movies most like {title}")
    item_id = page.locator("#user-results .column[data-model='ease'] td.id").first.inner_text()
    _check_columns(page, base_url, "#similar-results", f"/movies/{item_id}/similar?k=10", rows=10)
    assert page.inner_text("#similar-error") == ""


def test_explanations_under_each_title_with_the_history_beside(page, base_url, tmp_path):
    page.fill("#user-id", "u3")
    page.fill("#user-k", "5")
    page.click("#user-submit")  # "say why" is ticked by default
    answers = {model: _api(base_url, f"/models/{model}/users/u3/recommendations?k=5&explain=true") for model in MODELS}
    for model in MODELS:
        column = f"#user-results .column[data-model='{model}']"
        expect(page.locator(f"{column} tbody tr")).to_have_count(5)
        lines = page.locator(f"{column} td.title .because").all_inner_texts()
        history = page.locator(f"{column} aside.history li").all_inner_texts()
        assert history == [h["title"] for h in answers[model]["history"]] and len(history) > 0
        if model == "pop":
            assert lines == ["because it is popular (no movie of the history ranks it)"] * 5
            continue
        for line, item in zip(lines, answers[model]["items"], strict=True):  # the API's reasons, as printed
            named = [f"{r['title']} " for r in item["because"]]
            assert line.startswith("because you watched ") and all(title in line for title in named)
            assert {r["title"] for r in item["because"]} <= set(history)  # only movies of the user's history
        assert "because you watched" in lines[0]
    # a new user: the liked movies beside the list, and named in the reasons
    for query, title in [("movie 1 (", "Movie 1 (1990)"), ("MOVIE 2 (", "Movie 2 (1991)")]:
        page.fill("#search", query)
        page.locator("#search-results button", has_text=title).click()
    page.fill("#new-k", "5")
    page.click("#new-submit")
    column = "#new-results .column[data-model='ease']"
    expect(page.locator(f"{column} tbody tr")).to_have_count(5)
    assert page.locator(f"{column} aside.history li").all_inner_texts() == ["Movie 2 (1991)", "Movie 1 (1990)"]
    assert "because you watched Movie" in page.locator(f"{column} td.title .because").first.inner_text()
    screenshot = tmp_path / "explained.png"  # the test artefact: the page with explanations
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.stat().st_size > 10_000
    print(f"screenshot: {screenshot}")


def test_explanations_can_be_turned_off(page):
    page.uncheck("#user-explain")
    page.fill("#user-id", "u3")
    page.fill("#user-k", "5")
    page.click("#user-submit")
    expect(page.locator("#user-results .column[data-model='ease'] tbody tr")).to_have_count(5)
    expect(page.locator("#user-results .because")).to_have_count(0)
    expect(page.locator("#user-results aside.history")).to_have_count(0)

"""The web page in a real browser: Playwright drives Debian's chromium against uvicorn on a free port.

Skipped (with the reason) when the `playwright` package or /usr/bin/chromium is missing;
`apt-get install -y chromium` provides the browser (Playwright's own browser download is never used).
"""

from __future__ import annotations

import json
import socket
import threading
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
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


@pytest.fixture(scope="module")
def base_url(tmp_path_factory, block_data):
    """URL of uvicorn serving a popularity model dir from a background thread."""
    folder = tmp_path_factory.mktemp("web")
    block_data.ratings.to_csv(folder / "r.csv", index=False)
    block_data.items.to_csv(folder / "i.csv", index=False)
    args = ["train", "--ratings", str(folder / "r.csv"), "--items", str(folder / "i.csv"),
            "--preset", "popularity", "--out", str(folder / "M")]  # fmt: skip
    assert main(args) == 0
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))  # the OS picks a free port; uvicorn serves on this very socket, so no race
    server = uvicorn.Server(uvicorn.Config(create_app(folder / "M"), log_level="warning"))
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
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, base_url):
    context = browser.new_context(viewport={"width": 1200, "height": 760})
    page = context.new_page()
    page.set_default_timeout(10_000)
    outside, errors = [], []
    page.on("request", lambda r: None if r.url.startswith(base_url) else outside.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(base_url + "/")
    expect(page.locator("#model-info")).to_contain_text("popularity · 40 users · 30 movies")
    yield page
    context.close()
    assert outside == []  # the page never talks to another host
    assert errors == []  # no uncaught JavaScript error


def _api(base_url: str, path: str, body: dict | None = None) -> dict:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base_url + path, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def _titles(page, results: str) -> list[str]:
    return page.locator(f"{results} table td.title").all_inner_texts()


def test_known_user(page, base_url):
    expected = _api(base_url, "/users/u1/recommendations?k=5")["items"]
    page.fill("#user-id", "u1")
    page.fill("#user-k", "5")
    page.click("#user-submit")
    expect(page.locator("#user-results tbody tr")).to_have_count(5)
    assert _titles(page, "#user-results")[0] == expected[0]["title"]
    assert _titles(page, "#user-results") == [item["title"] for item in expected]
    assert page.inner_text("#user-error") == ""


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
    expect(page.locator("#new-results tbody tr")).to_have_count(5)
    expected = _api(base_url, "/recommendations", {"liked": ["m1", "m2"], "k": 5})["items"]
    titles = _titles(page, "#new-results")
    assert titles[0] == expected[0]["title"]
    assert titles == [item["title"] for item in expected]
    assert not {"Movie 1 (1990)", "Movie 2 (1991)"} & set(titles)
    # fill the other half too, so the screenshot shows the whole page at work
    page.fill("#user-id", "u21")
    page.click("#user-submit")
    expect(page.locator("#user-results tbody tr")).to_have_count(10)
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
    expect(page.locator("#user-results tbody tr")).to_have_count(5)
    first = page.locator("#user-results td.title button").first
    title = first.inner_text()
    first.click()
    expect(page.locator("#similar-results tbody tr")).to_have_count(10)
    expect(page.locator("#similar-title")).to_contain_text(f"Movies most like {title}")
    item_id = page.locator("#user-results td.id").first.inner_text()
    expected = _api(base_url, f"/movies/{item_id}/similar?k=10")["items"]
    assert _titles(page, "#similar-results") == [item["title"] for item in expected]
    assert page.inner_text("#similar-error") == ""

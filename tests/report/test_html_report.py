"""The HTML report: self-contained (opens from disk with the network off), built from results.json alone."""

from __future__ import annotations

import copy
import json
import os
import time
from pathlib import Path

import numpy as np
import pytest

from movierec.cli.main import main
from movierec.report import find_runs, html_report, keep_record, runs_table

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip

SAMPLE = {"user_id": "u7", "watched": ["Old Movie (1990)"], "top": [{"title": "New <Movie> (2001)", "score": 1.5}]}
RESULTS = {
    "experiment": "toy",
    "dataset": "toy: 10 ratings",
    "split": {"strategy": "random", "train": 6, "validation": 2, "test": 2},
    "models": {
        "tfrs": {
            "kind": "two_tower", "train_seconds": 2.0,
            "test": {"factorized_top_100": 0.5, "ndcg@10": 0.25, "ndcg@10_se": 0.01},
            "validation": {"ndcg@10": 0.2},
            "history": {"loss": [3.0, 2.0], "val_factorized_top_100": [0.3, 0.4], "val_ndcg_at_10": [0.1, 0.2]},
            "samples": [SAMPLE],
            "popularity": {"edges": [0.0, 1.0, 3.0, 9.0], "catalogue": [0.5, 0.3, 0.2], "recommended": [0.1, 0.3, 0.6]},
        },
        "pop": {
            "kind": "popularity", "train_seconds": 0.0,
            "test": {"factorized_top_100": 0.75, "ndcg@10": 0.125, "ndcg@10_se": 0.02}, "validation": {"ndcg@10": 0.1},
        },
    },
}  # fmt: skip


@pytest.fixture
def two_experiments(tmp_path) -> list[Path]:
    paths = []
    for name, shift in (("first", 0.0), ("second", 0.5)):
        results = copy.deepcopy(RESULTS)
        results["experiment"] = name
        results["models"]["pop"]["test"]["ndcg@10"] += shift  # "second/pop" tops the leaderboard
        path = tmp_path / name / "results.json"
        path.parent.mkdir()
        path.write_text(json.dumps(results))
        os.utime(path, (time.time() + (10 if name == "second" else 0),) * 2)
        paths.append(path)
    return paths


def test_leaderboard_overlays_experiments_best_first_and_escapes_text(two_experiments):
    page = html_report(two_experiments)
    board = page[page.index('<table id="leaderboard">') : page.index("</table>")]
    rows = board.split("<tr>")[2:]
    assert [r.split("</td>")[0:2] for r in rows][0] == ['<td class="text">second', '<td class="text">pop']
    assert len(rows) == 4
    assert "New &lt;Movie&gt; (2001)" in page and "<Movie>" not in page
    assert page.count("data:image/png;base64,") == 4  # curves + popularity, per experiment
    assert "http://" not in page and "https://" not in page  # nothing to fetch


def test_report_command_writes_html_by_suffix(two_experiments, tmp_path, capsys):
    out = tmp_path / "all.html"
    assert main(["report", *map(str, two_experiments), "--out", str(out)]) == 0
    assert out.read_text().startswith("<!doctype html>")


def test_runs_lists_experiments_newest_first(two_experiments, tmp_path, capsys):
    runs = find_runs(tmp_path)
    assert [r["experiment"] for r in runs] == ["second", "first"]
    text = runs_table(runs)
    assert text.splitlines()[0].startswith("second  (random split")
    assert text.index("pop") < text.index("tfrs")  # best NDCG@10 first within an experiment
    assert main(["runs", "--logdir", str(tmp_path)]) == 0
    assert "NDCG@10 0.6250" in capsys.readouterr().out
    assert main(["runs", "--logdir", str(tmp_path / "nope")]) == 2


def test_page_opens_from_disk_with_the_network_off(two_experiments, tmp_path):
    playwright = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found (apt-get install -y chromium)")
    page_path = tmp_path / "report.html"
    page_path.write_text(html_report(two_experiments))
    requests: list[str] = []
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(offline=True)
        page = context.new_page()
        page.on("request", lambda request: requests.append(request.url))
        page.goto(page_path.as_uri())
        assert page.locator("#leaderboard tbody tr").count() == 4
        widths = page.eval_on_selector_all("img", "images => images.map(i => i.complete && i.naturalWidth)")
        assert len(widths) == 4 and all(w > 100 for w in widths)
        screenshot = tmp_path / "report.png"  # the test artefact
        page.screenshot(path=str(screenshot), full_page=True)
        browser.close()
    assert screenshot.stat().st_size > 10_000
    assert all(url.startswith(("file://", "data:")) for url in requests)


def test_a_kept_record_reports_as_its_run_does_without_logs(two_experiments, tmp_path, capsys):
    from movierec.report import markdown_report, seeds_report

    run = two_experiments[0].parent
    users = np.arange(4)
    for name, ndcg in (("tfrs", [0.0, 1.0, 0.5, 0.25]), ("pop", [0.5, 0.0, 0.5, 0.0])):
        (run / name / "checkpoints").mkdir(parents=True)
        (run / name / "checkpoints" / "best.weights.index").write_bytes(b"x" * 1000)
        (run / name / "config.json").write_text(json.dumps({"name": name}))
        np.savez(run / name / "test_per_user.npz", users=users, **{"ndcg@10": np.array(ndcg)})
    (run / "events.out.tfevents.1").write_bytes(b"log")
    dest = tmp_path / "kept" / "first"
    assert main(["runs", "--keep", str(run), str(dest)]) == 0
    kept = sorted(str(p.relative_to(dest)) for p in dest.rglob("*") if p.is_file())
    assert kept == [
        "pop/config.json",
        "pop/test_per_user.npz",
        "results.json",
        "tfrs/config.json",
        "tfrs/test_per_user.npz",
    ]
    assert markdown_report([dest / "results.json"]) == markdown_report([run / "results.json"])
    both = seeds_report([dest / "results.json"], ("ndcg@10",)), seeds_report([run / "results.json"], ("ndcg@10",))
    assert both[0] == both[1] and "paired" in both[0]
    with np.load(dest / "tfrs" / "test_per_user.npz") as data:
        np.testing.assert_array_equal(data["ndcg@10"], [0.0, 1.0, 0.5, 0.25])
    # kept again over an older record: replaced whole; a folder without results.json: one line, dest untouched
    (dest / "stale.txt").write_text("old")
    keep_record(run, dest)
    assert not (dest / "stale.txt").exists()
    capsys.readouterr()
    assert main(["runs", "--keep", str(tmp_path / "nope"), str(dest)]) == 2
    assert "results file not found" in capsys.readouterr().err
    assert (dest / "results.json").is_file()


def test_report_appends_a_hand_written_page_after_the_tables(two_experiments, tmp_path, capsys):
    published = tmp_path / "published.md"
    published.write_text("## Beside the published figures\n\n| model | NDCG@10 |\n|---|---|\n| SASRec+ | 0.1821 |\n")
    out = tmp_path / "report.md"
    assert main(["report", str(two_experiments[0]), "--out", str(out), "--append", str(published)]) == 0
    text = out.read_text()
    assert text.endswith("\n\n" + published.read_text())
    assert text.index("## first: random split") < text.index("## Beside the published figures")
    capsys.readouterr()
    assert main(["report", str(two_experiments[0]), "--out", str(tmp_path / "r.html"), "--append", str(published)]) == 2
    assert "--append takes Markdown" in capsys.readouterr().err
    assert main(["report", str(two_experiments[0]), "--append", str(tmp_path / "none.md")]) == 2
    assert "--append file not found" in capsys.readouterr().err
    assert not (tmp_path / "r.html").exists()

"""End to end through `movierec.cli.main.main`: train on the two-block CSVs, recommend, evaluate, bad input.

Runs in-process (fast). Two tests start a fresh interpreter, because only there do stderr
and the recommender registry look exactly as they do for a user.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from movierec.cli.main import main
from movierec.serving.model_dir import load_model_dir

LINE = re.compile(r"^\s*(?P<rank>\d+)\. (?P<title>.+)  \[(?P<item>m\d+)\]  score (?P<score>-?\d+\.\d{4})$")
N_USERS, N_ITEMS = 40, 30


@pytest.fixture(scope="module")
def workdir(tmp_path_factory, block_data):
    """A folder with r.csv, i.csv and M: model1 trained for 2 epochs through the CLI."""
    folder = tmp_path_factory.mktemp("cli")
    block_data.ratings.to_csv(folder / "r.csv", index=False)
    block_data.items.to_csv(folder / "i.csv", index=False)
    code = _train(folder, "model1", folder / "M")
    assert code == 0
    return folder


def _train(folder, preset: str, out) -> int:
    return main(
        ["train", "--ratings", str(folder / "r.csv"), "--items", str(folder / "i.csv"),
         "--preset", preset, "--epochs", "2", "--out", str(out)]
    )  # fmt: skip


def _ranked_lines(out: str) -> list[dict]:
    lines = out.strip().splitlines()
    parsed = [LINE.match(line) for line in lines]
    assert all(parsed), f"unexpected output lines: {lines}"
    return [m.groupdict() for m in parsed]


def _check_ranked(rows: list[dict], k: int, block_data, forbidden: set[str]) -> None:
    titles = dict(zip(block_data.items.item_id, block_data.items.title))
    assert [int(r["rank"]) for r in rows] == list(range(1, k + 1))
    assert [r["title"] for r in rows] == [titles[r["item"]] for r in rows]
    scores = [float(r["score"]) for r in rows]
    assert scores == sorted(scores, reverse=True)
    assert len({r["item"] for r in rows}) == k
    assert not {r["item"] for r in rows} & forbidden


def test_train_writes_a_model_dir(workdir):
    model = workdir / "M"
    assert {p.name for p in model.iterdir()} == {
        "model.json",
        "recommender",
        "vocab.json",
        "items.csv",
        "manifest.json",
        "SIGNATURE",  # the manifest's HMAC under this user's key (the suite's session key)
    }
    assert (model / "recommender" / "seen.npz").is_file()
    meta = json.loads((model / "model.json").read_text())
    assert meta["format"] == "movierec-model/3"
    manifest = json.loads((model / "manifest.json").read_text())["files"]
    assert {
        "model.json",
        "vocab.json",
        "items.csv",
        "recommender/seen.npz",
        "recommender/saved_model/saved_model.pb",
    } <= set(manifest)
    assert manifest["items.csv"]["bytes"] == (model / "items.csv").stat().st_size
    assert meta["model"]["name"] == "model1" and meta["train"]["epochs"] == 2
    assert not list(workdir.glob(".*"))  # no temporary folder left behind


def test_recommend_one_user(workdir, capsys, block_data):
    capsys.readouterr()
    assert main(["recommend", "--model", str(workdir / "M"), "--user", "u1", "-k", "5"]) == 0
    out = capsys.readouterr().out
    _check_ranked(_ranked_lines(out), 5, block_data, forbidden=block_data.seen("u1"))


def test_recommend_all_users_to_csv(workdir, capsys, block_data):
    out_csv = workdir / "recs.csv"
    capsys.readouterr()
    assert main(["recommend", "--model", str(workdir / "M"), "--all-users", "-k", "3", "--out", str(out_csv)]) == 0
    assert "wrote 120 recommendations for 40 users" in capsys.readouterr().out
    recs = pd.read_csv(out_csv, dtype={"user_id": str, "item_id": str})
    assert list(recs.columns) == ["user_id", "rank", "item_id", "score"]
    assert len(recs) == 3 * N_USERS
    assert set(recs.user_id) == set(block_data.user_group)
    for user, rows in recs.groupby("user_id"):
        assert rows["rank"].tolist() == [1, 2, 3], user
        assert rows["score"].is_monotonic_decreasing, user
        assert not set(rows.item_id) & block_data.seen(user), user


def test_include_seen_allows_seen_items(workdir, capsys, block_data):
    model = str(workdir / "M")
    capsys.readouterr()
    assert main(["recommend", "--model", model, "--user", "u1", "-k", str(N_ITEMS), "--include-seen"]) == 0
    with_seen = {r["item"] for r in _ranked_lines(capsys.readouterr().out)}
    assert with_seen == set(block_data.item_block)  # all 30, the 8 seen ones included
    assert main(["recommend", "--model", model, "--user", "u1", "-k", str(N_ITEMS)]) == 0
    without = {r["item"] for r in _ranked_lines(capsys.readouterr().out)}
    assert without == set(block_data.item_block) - block_data.seen("u1")  # only 22 are allowed


def test_recommend_for_a_new_user(workdir, capsys, block_data):
    capsys.readouterr()
    assert main(["recommend", "--model", str(workdir / "M"), "--liked", "m1,m2", "-k", "5"]) == 0
    _check_ranked(_ranked_lines(capsys.readouterr().out), 5, block_data, forbidden={"m1", "m2"})


def test_recommend_explain_follows_each_movie_with_why(workdir, capsys, block_data):
    assert _train(workdir, "ease", workdir / "E") == 0
    capsys.readouterr()
    assert main(["recommend", "--model", str(workdir / "E"), "--user", "u1", "-k", "3", "--explain"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 6  # a movie, then why: three times
    ranked = _ranked_lines("\n".join(lines[0::2]))
    _check_ranked(ranked, 3, block_data, forbidden=block_data.seen("u1"))
    # the library's own explanation of the same list, printed as "because you watched Title 0.031, ..."
    model = load_model_dir(workdir / "E")
    slots = np.array([model.vocab.item_index([r["item"] for r in ranked])])
    because = model.recommender.explain(model.vocab.user_index(["u1"]), slots)
    titles = model.items["title"].tolist()
    for line, reasons in zip(lines[1::2], because.row(0), strict=True):
        assert reasons and all(model.vocab.item_ids[j] in block_data.seen("u1") for j, _ in reasons)
        named = ", ".join(f"{titles[j]} {weight:.2g}" for j, weight in reasons)
        assert line == f"     because you watched {named}"
    # the two-tower model's reasons are an approximation, and it says so
    assert main(["recommend", "--model", str(workdir / "M"), "--liked", "m1,m2", "-k", "2", "--explain"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out[-1].startswith("(the model's user vector is learned") and len(out) == 5


def test_evaluate_prints_json(workdir, capsys):
    test_csv = workdir / "r_plus_stranger.csv"
    ratings = pd.read_csv(workdir / "r.csv", dtype=str)
    stranger = pd.DataFrame([{"user_id": "stranger", "item_id": "m1", "rating": "4", "timestamp": "1"}])
    pd.concat([ratings, stranger]).to_csv(test_csv, index=False)
    capsys.readouterr()
    assert main(["evaluate", "--model", str(workdir / "M"), "--test", str(test_csv)]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert 0.0 <= metrics["factorized_top_10"] <= 1.0
    assert metrics["factorized_top_50"] == 1.0  # 30 candidates: every positive is in the top 50
    assert metrics["n_test_rows"] == 320 and metrics["n_test_users"] == N_USERS
    assert metrics["dropped_rows"] == 1  # the unknown user's row


@pytest.mark.parametrize("preset", ["popularity", "ease"])
def test_baseline_presets_round_trip(preset, tmp_path, capsys, block_data):
    block_data.ratings.to_csv(tmp_path / "r.csv", index=False)
    block_data.items.to_csv(tmp_path / "i.csv", index=False)
    assert _train(tmp_path, preset, tmp_path / "M") == 0
    assert json.loads((tmp_path / "M" / "model.json").read_text())["model"]["kind"] == preset
    capsys.readouterr()
    assert main(["recommend", "--model", str(tmp_path / "M"), "--user", "u1", "-k", "5"]) == 0
    rows = _ranked_lines(capsys.readouterr().out)
    _check_ranked(rows, 5, block_data, forbidden=block_data.seen("u1"))
    if preset == "ease":
        # item-item weights never cross blocks, so u1's unseen block-0 movies come first
        assert {block_data.item_block[r["item"]] for r in rows} == {0}
    else:
        counts = block_data.ratings.item_id.value_counts()
        unseen = counts.drop(list(block_data.seen("u1")))
        assert [counts[r["item"]] for r in rows] == sorted(unseen, reverse=True)[:5]
    assert main(["recommend", "--model", str(tmp_path / "M"), "--liked", "m1,m2", "-k", "5"]) == 0
    _check_ranked(_ranked_lines(capsys.readouterr().out), 5, block_data, forbidden={"m1", "m2"})


# ----------------------------------------------------------------------------- bad input

RATINGS_HEADER = "user_id,item_id,rating,timestamp\n"
BAD_RATINGS = {
    "missing file": (None, "ratings file not found"),
    "missing column": ("user_id,item_id,timestamp\nu1,m1,1\n", "is missing column(s) rating"),
    "non-numeric rating": (RATINGS_HEADER + "u1,m1,4,1\nu1,m2,five,2\n", "line 3: non-numeric rating 'five'"),
    "empty file": ("", "is empty"),
    "header only": (RATINGS_HEADER, "has a header but no rows"),
}


def _assert_one_line_error(err: str, phrase: str) -> None:
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, lines
    assert "error:" in lines[0] and phrase in lines[0]


@pytest.mark.parametrize("case", sorted(BAD_RATINGS))
def test_train_bad_ratings(case, tmp_path, capsys):
    text, phrase = BAD_RATINGS[case]
    ratings = tmp_path / "r.csv"
    if text is not None:
        ratings.write_text(text)
    before = sorted(p.name for p in tmp_path.iterdir())
    code = main(["train", "--ratings", str(ratings), "--preset", "popularity", "--out", str(tmp_path / "M")])
    assert code == 2
    _assert_one_line_error(capsys.readouterr().err, phrase)
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no model dir, no .M.partial


@pytest.mark.parametrize(
    ("extra", "phrase"),
    [
        (["--preset", "nope"], "unknown preset 'nope'"),
        (["--items", "missing.csv"], "items file not found"),
    ],
)
def test_train_bad_arguments(extra, phrase, tmp_path, capsys, block_data):
    block_data.ratings.to_csv(tmp_path / "r.csv", index=False)
    extra = [str(tmp_path / a) if a.endswith(".csv") else a for a in extra]
    code = main(["train", "--ratings", str(tmp_path / "r.csv"), *extra, "--out", str(tmp_path / "M")])
    assert code == 2
    _assert_one_line_error(capsys.readouterr().err, phrase)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.csv"]


def test_compare_config_that_is_neither_a_file_nor_a_packaged_name(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["compare", "--config", "ml100kk"]) == 2
    _assert_one_line_error(capsys.readouterr().err, "'ml100kk' is neither a file nor a packaged config")
    assert list(tmp_path.iterdir()) == []  # nothing trained, no runs/


@pytest.mark.parametrize(
    ("args", "phrase"),
    [
        (["--user", "nobody"], "unknown user id 'nobody'"),
        (["--liked", "m1,m999"], "unknown item id 'm999'"),
        (["--all-users"], "--all-users needs --out"),
        (["--user", "u1", "--explain"], "--explain prints the reasons after each movie"),
    ],
)
def test_recommend_bad_input(args, phrase, workdir, tmp_path, capsys):
    out = ["--out", str(tmp_path / "recs.csv")] if "--all-users" not in args else []
    code = main(["recommend", "--model", str(workdir / "M"), *args, "-k", "5", *out])
    assert code == 2
    _assert_one_line_error(capsys.readouterr().err, phrase)
    assert list(tmp_path.iterdir()) == []  # no recs.csv, no temporary file


@pytest.mark.parametrize("command", ["recommend", "evaluate"])
@pytest.mark.parametrize(
    ("make", "phrase"),
    [("empty dir", "is not a movierec model directory"), ("nonexistent", "model directory not found")],
)
def test_not_a_model_dir(command, make, phrase, tmp_path, capsys, workdir):
    model = tmp_path / "M"
    if make == "empty dir":
        model.mkdir()
    tail = ["--user", "u1"] if command == "recommend" else ["--test", str(workdir / "r.csv")]
    assert main([command, "--model", str(model), *tail]) == 2
    _assert_one_line_error(capsys.readouterr().err, phrase)
    assert (model.exists(), list(tmp_path.iterdir())) == ((True, [model]) if make == "empty dir" else (False, []))


def test_train_on_a_temporal_validation_slice_says_what_it_decided(tmp_path, capsys, block_data):
    block_data.ratings.to_csv(tmp_path / "r.csv", index=False)
    code = main(["train", "--ratings", str(tmp_path / "r.csv"), "--preset", "fast", "--validation-split", "temporal",
                 "--out", str(tmp_path / "M")])  # fmt: skip
    assert code == 0
    out = capsys.readouterr().out
    meta = json.loads((tmp_path / "M" / "model.json").read_text())["epoch_search"]
    assert meta["validation_split"] == "temporal"
    decided = meta["recency"]
    assert decided["mode"] == "validation" and decided["plain"] is not None
    verb = "3x: the validation movies are likelier" if decided["used"] else "like the others: the validation"
    assert f"counted the latest 30% of the training ratings {verb}" in out
    # then trained again on every rating for that many epochs, with the recency decided on the slice
    assert f"epochs chosen on a 10% temporal validation slice: {meta['chosen_epochs']}; then trained again" in out
    model = json.loads((tmp_path / "M" / "model.json").read_text())["model"]
    assert meta["refit"] is True and (model["epochs"], model["early_stopping_patience"]) == (meta["chosen_epochs"], 0)
    assert model["recency"] == ("on" if decided["used"] else "off")


def test_an_unknown_validation_split_is_one_line_and_trains_nothing(tmp_path, capsys, block_data):
    block_data.ratings.to_csv(tmp_path / "r.csv", index=False)
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--ratings", str(tmp_path / "r.csv"), "--validation-split", "sideways",
              "--out", str(tmp_path / "M")])  # fmt: skip
    assert exit_info.value.code == 2
    _assert_one_line_error(capsys.readouterr().err, "--validation-split: invalid choice: 'sideways'")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.csv"]


@pytest.mark.parametrize("k", ["0", "-3", "ten"])
def test_bad_k_is_an_argparse_error(k, workdir, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["recommend", "--model", str(workdir / "M"), "--user", "u1", "-k", k])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert f"argument -k: expected a positive integer, got '{k}'" in err.strip().splitlines()[-1]


# ----------------------------------------------------------------------------- a real process


def _run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "movierec.cli.main", *args], capture_output=True, text=True, timeout=120
    )


def test_real_process_error_is_one_line(tmp_path):
    result = _run_cli("train", "--ratings", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "M"))
    assert result.returncode == 2
    assert result.stderr.strip() == f"movierec train: error: ratings file not found: {tmp_path / 'nope.csv'}"
    assert list(tmp_path.iterdir()) == []


def test_real_process_recommend_from_a_two_tower_model_dir(workdir, block_data):
    result = _run_cli("recommend", "--model", str(workdir / "M"), "--user", "u1", "-k", "5")
    assert result.returncode == 0, result.stderr
    _check_ranked(_ranked_lines(result.stdout), 5, block_data, forbidden=block_data.seen("u1"))


def test_sigterm_stops_a_command_in_one_line(tmp_path):
    """`movierec tensorboard` (a long-running child) stopped with SIGTERM: one line, exit 130, child gone."""
    import signal
    import socket
    import subprocess
    import sys
    import time

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "movierec.cli.main", "tensorboard", "--logdir", str(tmp_path), "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while True:  # until TensorBoard (the child) accepts connections on its port
        with socket.socket() as client:
            if client.connect_ex(("127.0.0.1", port)) == 0:
                break
        assert process.poll() is None, process.communicate()[1][-2000:]
        assert time.monotonic() < deadline, "TensorBoard did not start"
        time.sleep(0.1)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130
    assert stderr.strip().splitlines()[-1] == "movierec tensorboard: interrupted"
    with socket.socket() as probe:  # the TensorBoard child is gone: its port is free again
        probe.bind(("127.0.0.1", port))


def test_strategy_flag_reaches_the_training_budget(tmp_path, block_data):
    from movierec.cli.compare import build_config
    from movierec.cli.main import build_parser

    args = build_parser().parse_args(["compare", "--strategy", "mirrored", "--epochs", "2"])
    assert build_config(args).train.strategy == "mirrored"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["train", "--ratings", "r.csv", "--out", "m", "--strategy", "tpu"])

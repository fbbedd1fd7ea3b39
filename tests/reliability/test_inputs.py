"""Issue 21, items 4, 9 and 10: inputs are checked before work, and a bad one is one line saying what it is."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEADER = "user_id,item_id,rating,timestamp\n"


def _train(ratings, tmp_path, *more):
    return ("train", "--ratings", ratings, "--preset", "popularity", "--out", tmp_path / "M", *more)


def test_ratings_fifo_is_one_line_not_a_hang(tmp_path):
    fifo = tmp_path / "ratings.csv"
    os.mkfifo(fifo)
    command = [sys.executable, "-m", "movierec.cli.main", "train", "--ratings", str(fifo), "--preset", "popularity",
               "--out", str(tmp_path / "M")]  # fmt: skip
    try:  # today's code blocks in a second open() of the FIFO, ignoring SIGTERM
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail("train hung on a FIFO")
    assert (done.returncode, done.stderr) == (
        2,
        f"movierec train: error: ratings file {fifo} is a pipe (a FIFO, or a shell's <(...)), not a regular file; "
        "save it to a file and give that file\n",
    )


def test_process_substitution_says_it_is_a_pipe(tmp_path, ratings_csv, run_cli):
    read_end, write_end = os.pipe()  # what bash's <(cat ratings.csv) passes: /dev/fd/N, a pipe
    os.write(write_end, ratings_csv.read_bytes()[:4096])
    os.close(write_end)
    try:
        code, _, err = run_cli(*_train(f"/dev/fd/{read_end}", tmp_path))
    finally:
        os.close(read_end)
    assert (code, err) == (
        2,
        f"movierec train: error: ratings file /dev/fd/{read_end} is a pipe (a FIFO, or a shell's <(...)), "
        "not a regular file; save it to a file and give that file\n",
    )


def test_huge_sparse_file_is_rejected_after_its_first_bytes(tmp_path, run_cli):
    sparse = tmp_path / "ratings.csv"
    with open(sparse, "wb") as handle:
        handle.write(HEADER.encode())
        handle.truncate(64 << 20)  # 64 MB of holes (the 2 GB took 41 s and 4.4 GB before a wrong message)
    started = time.perf_counter()
    code, _, err = run_cli(*_train(sparse, tmp_path))
    assert (code, err) == (
        2,
        f"movierec train: error: ratings file {sparse} is not a text file (it holds NUL bytes within its first "
        "65,536 bytes)\n",
    )
    assert time.perf_counter() - started < 5


def test_missing_column_is_refused_before_the_rest_is_read(tmp_path, run_cli, monkeypatch):
    ratings = tmp_path / "ratings.csv"
    ratings.write_text("user,movie,stars\n" + "a,b,4\n" * 1000)
    import pandas as pd

    def no_full_read(*args, **kwargs):
        raise AssertionError("the whole file was read before its header was checked")

    monkeypatch.setattr(pd, "read_csv", no_full_read)
    code, _, err = run_cli(*_train(ratings, tmp_path))
    assert (code, err) == (
        2,
        f"movierec train: error: ratings file {ratings} is missing column(s) user_id, item_id, rating, timestamp; "
        "the header row must name user_id,item_id,rating,timestamp (found: user,movie,stars)\n",
    )


def test_config_on_a_binary_file_is_one_line(tmp_path, ratings_csv, run_cli):
    binary = tmp_path / "model.toml"
    binary.write_bytes(bytes(range(256)) * 4)
    code, _, err = run_cli("train", "--ratings", ratings_csv, "--config", binary, "--out", tmp_path / "M")
    assert (code, err) == (
        2,
        f"movierec train: error: config file {binary} is not a text file (it holds NUL bytes within its first "
        "65,536 bytes)\n",
    )
    latin1 = tmp_path / "latin1.toml"
    latin1.write_bytes('name = "caf\xe9"\n'.encode("latin-1"))
    code, _, err = run_cli("train", "--ratings", ratings_csv, "--config", latin1, "--out", tmp_path / "M")
    assert (code, err) == (
        2,
        f"movierec train: error: config file {latin1} is not UTF-8 text: invalid continuation byte at byte 11\n",
    )


@pytest.mark.parametrize("value", ["1e39", "inf", "-Infinity", "nan"])
def test_non_finite_rating_names_its_line(value, tmp_path, run_cli):
    ratings = tmp_path / "ratings.csv"
    ratings.write_text(f"{HEADER}a,x,4,1\nb,y,{value},2\nc,z,3,3\n")
    code, _, err = run_cli(*_train(ratings, tmp_path))
    assert (code, err) == (2, f"movierec train: error: {ratings} line 3: non-finite rating '{value}'\n")


def test_rating_beyond_float32_is_one_line_and_no_numpy_warning(tmp_path, run_cli):
    ratings = tmp_path / "ratings.csv"
    ratings.write_text(f"{HEADER}a,x,4,1\nb,y,1e39,2\nc,z,3,3\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's "overflow encountered in cast" would fail here
        code, out, err = run_cli(*_train(ratings, tmp_path))
    assert (code, out, err) == (2, "", f"movierec train: error: {ratings} line 3: non-finite rating '1e39'\n")


@pytest.mark.parametrize("value", ["1e30", "-2e6", "1000001"])
def test_absurdly_large_rating_for_a_ranking_model_names_its_line(value, tmp_path, run_cli):
    # today: the ranking model trains on 1e30, saves, and serves "score": null, empty lists and a lone rank 3
    ratings = tmp_path / "ratings.csv"
    ratings.write_text(f"{HEADER}a,x,4,1\nb,y,{value},2\nc,z,3,3\n")
    code, out, err = run_cli("train", "--ratings", ratings, "--preset", "ranking", "--out", tmp_path / "M")
    assert (code, out) == (2, "")
    assert err == (f"movierec train: error: {ratings} line 3: rating '{value}' is beyond ±1,000,000 (ratings are "
                   "scores such as 1 to 5)\n")  # fmt: skip
    assert not (tmp_path / "M").exists()


def test_a_rating_of_a_million_is_still_read(tmp_path, run_cli):
    ratings = tmp_path / "ratings.csv"
    ratings.write_text(f"{HEADER}a,x,4,1\nb,y,1e6,2\nc,z,-1000000,3\n")
    assert run_cli(*_train(ratings, tmp_path))[0] == 0


def test_empty_preset_is_one_line(tmp_path, ratings_csv, run_cli):
    code, _, err = run_cli("train", "--ratings", ratings_csv, "--preset", "", "--out", tmp_path / "M")
    assert (code, err) == (2, "movierec train: error: argument --preset: expected a value, got '' (see --help)\n")
    assert not (tmp_path / "M").exists()


@pytest.mark.parametrize(
    ("models", "line"),
    [
        ("", "argument --models: expected a value, got '' (see --help)"),
        (",,,", "--models should be comma-separated preset names, none empty. Received: ',,,'"),
    ],
    ids=["empty", "commas"],
)
def test_compare_models_empty_is_one_line(models, line, tmp_path, ratings_csv, run_cli):
    code, _, err = run_cli("compare", "--ratings", ratings_csv, "--models", models, "--logdir", tmp_path / "runs")
    assert (code, err) == (2, f"movierec compare: error: {line}\n")
    assert not (tmp_path / "runs").exists()


def test_serve_port_out_of_range_is_one_line(tmp_path, run_cli):
    code, _, err = run_cli("serve", "--model", tmp_path / "no-model", "--port", "84236")
    assert (code, err) == (
        2,
        "movierec serve: error: argument --port: expected a port number from 1 to 65535, got '84236' (see --help)\n",
    )

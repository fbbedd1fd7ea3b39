"""Issue 21, item 1 and the `.partial`/`.tmp`/lock cases of item 10: a run never deletes what it did not write."""

from __future__ import annotations

import logging
import os

import pytest

MARKER = "MOVIEREC_BACKUP"


@pytest.fixture
def lock():
    """`movierec._lock` (imported here, so that each test fails on its own where the module is missing)."""
    from movierec import _lock

    return _lock


def _train(ratings_csv, out):
    return ("train", "--ratings", ratings_csv, "--preset", "popularity", "--out", out)


def test_users_folder_named_like_a_backup_is_never_deleted(tmp_path, ratings_csv, run_cli):
    victim = tmp_path / "out" / ".victim.resume"
    victim.mkdir(parents=True)
    (victim / "keep.txt").write_text("precious")
    code, _, err = run_cli(*_train(ratings_csv, tmp_path / "out" / "victim"))
    assert code == 2
    assert err == (
        f"movierec train: error: {victim} is in the way of this run's training backup and was not written by "
        f"movierec (no {MARKER} file in it); move it away or choose another --out\n"
    )
    assert (victim / "keep.txt").read_text() == "precious"
    assert not (tmp_path / "out" / "victim").exists()


def test_backup_without_marker_is_neither_reused_nor_removed(tmp_path, caplog):
    from movierec.experiments.backup import prepare_backup, remove_backup

    folder = tmp_path / "backup"
    folder.mkdir()
    (folder / "fingerprint.json").write_text("{}")
    remove_backup(folder)
    assert (folder / "fingerprint.json").is_file()
    assert "not deleting" in caplog.text
    prepare_backup(tmp_path / "mine", {"a": 1}, "m")  # movierec's own: marked, then removed when done
    assert (tmp_path / "mine" / MARKER).is_file()
    remove_backup(tmp_path / "mine")
    assert not (tmp_path / "mine").exists()


def test_second_train_into_the_same_out_is_refused(tmp_path, ratings_csv, run_cli, lock):
    out = tmp_path / "M"
    with lock.output_lock(out):  # a live run (this process) writing M
        code, _, err = run_cli(*_train(ratings_csv, out))
    assert code == 2
    assert err == (
        f"movierec train: error: --out {out} is being written by another movierec run (pid {os.getpid()}); "
        "wait for it or choose another --out\n"
    )
    assert not out.exists()
    assert not lock.lock_path(out).exists()  # released by the first run


def test_stale_lock_of_a_dead_run_is_taken_over(tmp_path, ratings_csv, run_cli, dead_pid, caplog, lock):
    out = tmp_path / "M"
    lock.lock_path(out).write_text(f"{dead_pid}\n")
    with caplog.at_level(logging.WARNING):
        code, _, _ = run_cli(*_train(ratings_csv, out))
    assert code == 0
    assert f"taking over the lock {lock.lock_path(out)} of pid {dead_pid}, which is no longer running" in caplog.text
    assert (out / "model.json").is_file()
    assert not lock.lock_path(out).exists()


def test_stale_partial_and_tmp_of_dead_processes_are_removed(tmp_path, ratings_csv, run_cli, dead_pid, caplog):
    out = tmp_path / "M"
    stale_dir = tmp_path / f".M.{dead_pid}.partial"
    (stale_dir / "variables").mkdir(parents=True)
    live_dir = tmp_path / ".M.1.partial"  # pid 1 is alive: its folder is not ours to remove
    live_dir.mkdir()
    recs = tmp_path / "recs.csv"
    stale_file = tmp_path / f".recs.csv.{dead_pid}.tmp"
    stale_file.write_bytes(b"\0" * 1024)
    with caplog.at_level(logging.WARNING):
        assert run_cli(*_train(ratings_csv, out))[0] == 0
        assert run_cli("recommend", "--model", out, "--all-users", "--out", recs)[0] == 0
    assert not stale_dir.exists() and not stale_file.exists()
    assert live_dir.is_dir()
    assert f"removing {stale_dir}, left by pid {dead_pid}, which died before finishing it" in caplog.text
    assert f"removing {stale_file}, left by pid {dead_pid}" in caplog.text

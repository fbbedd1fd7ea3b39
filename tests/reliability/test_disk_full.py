"""A full disk while a TFRS model backs up an epoch or exports: one line, a non-zero exit, nothing half-written.

Issue 21, item 9: both gave a TensorFlow traceback and left `.NAME.resume` behind. No tmpfs with a quota here,
so the write fails as TensorFlow reports ENOSPC (a `ResourceExhaustedError` naming the OS error).
"""

from __future__ import annotations

import logging

import pytest

from movierec._env import import_tensorflow

tf, _ = import_tensorflow()

CONFIG = 'kind = "two_tower"\nname = "M"\nembedding_dim = 8\nlayer_sizes = [16, 8]\nbatch_size = 64\n'


def _no_space(*args, **kwargs):
    raise tf.errors.ResourceExhaustedError(None, None, "/x/ckpt.data-00000-of-00001.tempstate; No space left on device")


@pytest.fixture
def train_args(tmp_path, block_data):
    ratings, config = tmp_path / "r.csv", tmp_path / "m.toml"
    block_data.ratings.to_csv(ratings, index=False)
    config.write_text(CONFIG)
    return ["train", "--ratings", ratings, "--config", config, "--epochs", "3", "--validation-fraction", "0",
            "--out", tmp_path / "M"]  # fmt: skip


def test_disk_full_during_an_epoch_backup(tmp_path, train_args, run_cli, monkeypatch):
    backup_epoch = tf.keras.callbacks.BackupAndRestore.on_epoch_end

    def second_epoch_fails(self, epoch, logs=None):
        if epoch == 1:
            _no_space()
        backup_epoch(self, epoch, logs)  # the first epoch's checkpoint is written

    monkeypatch.setattr(tf.keras.callbacks.BackupAndRestore, "on_epoch_end", second_epoch_fails)
    code, out, err = run_cli(*train_args)
    assert (code, out) == (2, "")
    assert err == (f"movierec train: error: cannot write the training backup in {tmp_path / '.M.resume'}: No space "
                   "left on device (the backup was removed; free some space and run again)\n")  # fmt: skip
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.toml", "r.csv"]  # no backup, no model, no .partial


def test_disk_full_during_the_export(tmp_path, train_args, run_cli, monkeypatch, caplog):
    monkeypatch.setattr(tf.saved_model, "save", _no_space)
    code, out, err = run_cli(*train_args)
    assert (code, out) == (2, "")
    backup = tmp_path / ".M.resume"
    assert err == (f"movierec train: error: cannot write the model to {tmp_path / 'M'}: No space left on device; the "
                   f"trained weights are kept in {backup}: free some space and run the same command again to export "
                   "them without training\n")  # fmt: skip
    # no model and no half-written folder; the backup holds the finished training, complete
    assert sorted(p.name for p in tmp_path.iterdir()) == [".M.resume", "m.toml", "r.csv"]
    assert (backup / "fit" / "trained" / "history.json").is_file()

    monkeypatch.undo()
    caplog.set_level(logging.INFO)
    code, out, err = run_cli(*train_args)
    assert code == 0, err
    assert "training had finished before the run was stopped" in caplog.text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["M", "m.toml", "r.csv"]

"""`EpochBackup`: a fit stopped after any epoch and resumed has the uninterrupted fit's history, early stopping and weights.

A tiny Keras model in-process (the CLI's SIGKILL case is `tests/reliability/test_resume_identical.py`): the stop is
an exception from a callback after the epoch's writes, or from Keras' checkpoint write, which comes after the
saved state (a kill between the two).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from movierec._env import import_tensorflow
from movierec.training import EpochBackup
from movierec.training.callbacks import PROGRESS_FILE, load_weights, save_weights

tf, _ = import_tensorflow()

# the monitored score of each epoch: best at epoch 2 (0-based), no better for 3 epochs: stopped at epoch 5 of 8
SCORES = [0.1, 0.3, 0.5, 0.4, 0.45, 0.2, 0.9, 0.1]
EPOCHS = len(SCORES)


class Scores(tf.keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        logs["val_score"] = SCORES[epoch]


class Stopped(Exception):
    pass


class StopAfter(tf.keras.callbacks.Callback):
    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:
            raise Stopped


def _model():
    model = tf.keras.Sequential([tf.keras.layers.Dense(1, kernel_initializer="ones")])
    model.compile(optimizer=tf.keras.optimizers.SGD(0.01), loss="mse")
    model(np.zeros((1, 2), np.float32))
    return model


def _fit(folder, stop_after=None):
    """`(history, early stopping, best checkpoint, final weights)` of a fit backed up in `folder` (None: none)."""
    x = np.arange(16, dtype=np.float32).reshape(8, 2) / 10
    y = x.sum(axis=1, keepdims=True) ** 2
    model = _model()
    stopper = tf.keras.callbacks.EarlyStopping(monitor="val_score", mode="max", patience=3, restore_best_weights=True)
    callbacks = [Scores(), stopper]
    epochs = EPOCHS
    backup = checkpoint = None
    if folder is not None:
        checkpoint = tf.keras.callbacks.ModelCheckpoint(
            str(folder / "best" / "weights"),
            monitor="val_score",
            mode="max",
            save_best_only=True,
            save_weights_only=True,
        )
        callbacks.append(checkpoint)
        backup = EpochBackup(folder, early_stopping=stopper, checkpoint=checkpoint)
        callbacks = [backup, *callbacks, backup.writer]
        epochs = backup.planned_epochs(EPOCHS)
    if stop_after is not None:
        callbacks.append(StopAfter(stop_after))
    result = model.fit(x, y, batch_size=2, shuffle=False, epochs=epochs, callbacks=callbacks, verbose=0)
    history = {} if backup is None else backup.history_before()
    for key, values in result.history.items():
        history.setdefault(key, []).extend(values)
    return history, stopper, checkpoint, model.get_weights()


@pytest.fixture(scope="module")
def uninterrupted():
    return _fit(None)


@pytest.mark.parametrize(
    ("epoch", "where"),
    [
        (3, "after"),  # between the best epoch and the stop: patience spans the resume
        (3, "before"),  # epoch 3's state written, Keras' checkpoint not: epoch 3 is trained again
        (2, "before"),  # the new best epoch's weights written, its checkpoint not: the previous best is kept
        (5, "after"),  # stopped, not yet exported: the resume trains no further and restores the best weights
        (0, "after"),
    ],
)
def test_a_resumed_fit_continues_early_stopping_and_history(tmp_path, uninterrupted, monkeypatch, epoch, where):
    if where == "after":
        with pytest.raises(Stopped):
            _fit(tmp_path, stop_after=epoch)
    else:
        keras_backup = tf.keras.callbacks.BackupAndRestore.on_epoch_end

        def killed_before_the_checkpoint(self, at, logs=None):
            if at == epoch:
                raise Stopped
            keras_backup(self, at, logs)

        with monkeypatch.context() as patch:
            patch.setattr(tf.keras.callbacks.BackupAndRestore, "on_epoch_end", killed_before_the_checkpoint)
            with pytest.raises(Stopped):
                _fit(tmp_path)
        saved = json.loads((tmp_path / PROGRESS_FILE).read_text())["epochs"]
        assert len(saved) == epoch + 1  # the state is one epoch ahead of the checkpoint

    history, stopper, checkpoint, weights = _fit(tmp_path)
    expected_history, expected_stopper, _, expected_weights = uninterrupted
    assert history == expected_history and len(history["loss"]) == 6
    assert (stopper.best, stopper.best_epoch, stopper.stopped_epoch, stopper.wait) == (0.5, 2, 5, 3)
    assert (stopper.best_epoch, stopper.stopped_epoch) == (expected_stopper.best_epoch, expected_stopper.stopped_epoch)
    assert all(np.array_equal(a, b) for a, b in zip(weights, expected_weights, strict=True))  # epoch 2's, restored
    assert [p.name for p in tmp_path.glob("best_weights.*.npz")] == ["best_weights.2.npz"]
    assert checkpoint.best == 0.5  # a save_best_only checkpoint compares with the best before the resume too


def test_weights_round_trip_without_pickle(tmp_path):
    arrays = [np.arange(6, dtype=np.float32).reshape(2, 3), np.array([1, 2], np.int32), np.zeros((0, 4))]
    save_weights(tmp_path / "w.npz", arrays)
    loaded = load_weights(tmp_path / "w.npz")
    assert [(a.dtype, a.shape) for a in loaded] == [(a.dtype, a.shape) for a in arrays]
    assert all(np.array_equal(a, b) for a, b in zip(loaded, arrays, strict=True))
    assert [p.name for p in tmp_path.iterdir()] == ["w.npz"]  # no temporary left

"""`average_epochs`: an exponential moving average of the weights, seen at each epoch's end and kept at the end.

A tiny Keras model whose every step is recorded: the averaged weights are recomputed with numpy from the raw
weights after each step, the raw trajectory is the one of the same fit without averaging, and a fit stopped
after an epoch and resumed from its backup ends with the uninterrupted fit's weights.
"""

from __future__ import annotations

import numpy as np
import pytest

from movierec._env import import_tensorflow
from movierec.config import SequentialConfig, TrainConfig, resolve_train_config
from movierec.errors import ConfigError
from movierec.training import AveragedWeights, EpochBackup, averaging_momentum, make_optimizer

tf, _ = import_tensorflow()

MOMENTUM = 0.5
SCORES = [0.1, 0.7, 0.3, 0.2]  # the monitored score of each epoch: best at epoch 1 (0-based)


class Scores(tf.keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        logs["val_score"] = SCORES[epoch]


class Record(tf.keras.callbacks.Callback):
    """The model's weights after every step (`steps`) and at each epoch's end (`epochs`)."""

    def __init__(self):
        super().__init__()
        self.steps, self.epochs = [], []

    def on_train_batch_end(self, batch, logs=None):
        self.steps.append([w.copy() for w in self.model.get_weights()])

    def on_epoch_end(self, epoch, logs=None):
        self.epochs.append([w.copy() for w in self.model.get_weights()])


class Stopped(Exception):
    pass


class StopAfter(tf.keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if epoch == 1:
            raise Stopped


def _fit(average: float, early_stopping: bool = True, backup_dir=None, stop=False):
    """`(recorder of raw steps, recorder of epoch ends, final weights, initial weights)` of a 4-epoch fit."""
    x = np.arange(16, dtype=np.float32).reshape(8, 2) / 10
    y = x.sum(axis=1, keepdims=True) ** 2
    model = tf.keras.Sequential([tf.keras.layers.Dense(1, kernel_initializer="ones", bias_initializer="zeros")])
    model.compile(optimizer=make_optimizer("sgd", 0.05, average_momentum=average), loss="mse")
    model(x[:1])
    initial = [w.copy() for w in model.get_weights()]
    raw, seen = Record(), Record()
    stopper = tf.keras.callbacks.EarlyStopping(monitor="val_score", mode="max", patience=10, restore_best_weights=True)
    averaged = AveragedWeights() if average > 0 else None
    middle = [Scores(), seen] + ([stopper] if early_stopping else [])
    callbacks = [raw, *middle] if averaged is None else [raw, averaged.swap_in, *middle, averaged.swap_back]
    if backup_dir is not None:
        backup = EpochBackup(backup_dir, early_stopping=stopper if early_stopping else None)
        callbacks = [backup, *callbacks, backup.writer]
    if stop:
        callbacks.append(StopAfter())
    model.fit(x, y, batch_size=2, shuffle=False, epochs=len(SCORES), callbacks=callbacks, verbose=0)
    return raw, seen, model.get_weights(), initial


def _numpy_averages(initial, steps, momentum):
    """The average after each step: it starts at the initial weights, then m * average + (1 - m) * weights."""
    average, out = [w.astype(np.float64) for w in initial], []
    for weights in steps:
        average = [momentum * a + (1 - momentum) * w for a, w in zip(average, weights, strict=True)]
        out.append(average)
    return out


def _close(a, b):
    return all(np.allclose(x, y, rtol=1e-5, atol=1e-6) for x, y in zip(a, b, strict=True))


def test_each_epoch_end_sees_the_average_and_training_goes_on_from_the_raw_weights():
    raw, seen, final, initial = _fit(MOMENTUM)
    plain_raw, plain_seen, _, _ = _fit(0.0)
    steps_per_epoch = len(raw.steps) // len(SCORES)
    assert steps_per_epoch == 4
    # the same raw trajectory as the fit without averaging, step for step
    assert all(_close(a, b) for a, b in zip(raw.steps, plain_raw.steps, strict=True))
    averages = _numpy_averages(initial, raw.steps, MOMENTUM)
    for epoch, weights in enumerate(seen.epochs):
        assert _close(weights, averages[(epoch + 1) * steps_per_epoch - 1])
        assert not _close(weights, raw.steps[(epoch + 1) * steps_per_epoch - 1])  # not the raw weights
    # without averaging the epoch's end sees the raw weights
    assert _close(plain_seen.epochs[0], plain_raw.steps[steps_per_epoch - 1])
    # early stopping keeps the best epoch's (1) averaged weights, and restores them at the end
    assert _close(final, averages[2 * steps_per_epoch - 1])


def test_without_early_stopping_the_fit_ends_with_the_last_average():
    raw, _, final, initial = _fit(MOMENTUM, early_stopping=False)
    averages = _numpy_averages(initial, raw.steps, MOMENTUM)
    assert _close(final, averages[-1])
    assert not _close(final, averages[2 * 4 - 1]) and not _close(final, raw.steps[-1])


def test_a_resumed_fit_with_averaged_weights_ends_as_the_uninterrupted_one(tmp_path):
    _, _, expected, _ = _fit(MOMENTUM, backup_dir=tmp_path / "a")
    with pytest.raises(Stopped):
        _fit(MOMENTUM, backup_dir=tmp_path / "b", stop=True)
    _, _, resumed, _ = _fit(MOMENTUM, backup_dir=tmp_path / "b")
    assert all(np.array_equal(a, b) for a, b in zip(resumed, expected, strict=True))


def test_lazy_adam_keeps_the_average_of_a_sparsely_updated_table():
    table = tf.Variable(np.arange(6, dtype=np.float32).reshape(3, 2))
    optimizer = make_optimizer("lazy_adam", 0.1, average_momentum=0.75)
    average = table.numpy().astype(np.float64)
    for rows, values in (([0], [[1.0, -2.0]]), ([2], [[0.5, 0.5]]), ([0, 1], [[1.0, 1.0], [-1.0, 3.0]])):
        grad = tf.IndexedSlices(tf.constant(values), tf.constant(rows, tf.int64), tf.constant([3, 2]))
        optimizer.apply_gradients([(grad, table)])
        average = 0.75 * average + 0.25 * table.numpy()  # every row, the untouched ones too
    optimizer.finalize_variable_values([table])
    np.testing.assert_allclose(table.numpy(), average, rtol=1e-6)


def test_average_epochs_is_checked_overrides_the_budget_and_sets_the_momentum():
    for bad in (-0.5, float("nan"), True):
        with pytest.raises(ConfigError, match="average_epochs"):
            TrainConfig(average_epochs=bad)
        with pytest.raises(ConfigError, match="average_epochs"):
            SequentialConfig(average_epochs=bad)
    assert resolve_train_config(TrainConfig(), SequentialConfig(average_epochs=1.0)).average_epochs == 1.0
    assert resolve_train_config(TrainConfig(average_epochs=2.0), SequentialConfig()).average_epochs == 2.0
    # about the last `epochs` epochs: 1 - 1 / (epochs x steps per epoch); none below one step
    assert averaging_momentum(1.0, 245) == pytest.approx(1 - 1 / 245)
    assert averaging_momentum(2.0, 24) == pytest.approx(1 - 1 / 48)
    assert averaging_momentum(0.5, 1) == 0.0 and averaging_momentum(0.0, 245) == 0.0

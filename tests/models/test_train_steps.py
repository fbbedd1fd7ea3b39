"""`ReplicaSummedSteps`: an epoch's logs hold the mean of its batches' losses, not the last batch's."""

from __future__ import annotations

import pytest

from movierec._env import import_tensorflow
from movierec.models.train_steps import ReplicaSummedSteps

tf, tfrs = import_tensorflow()


class SumModel(ReplicaSummedSteps, tfrs.Model):
    """A batch's loss is the sum of its numbers (one weight, multiplied by zero, for the optimizer to hold)."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = tf.Variable(1.0)
        self.use_summed_steps()

    def compute_loss(self, inputs, training=False):
        return tf.reduce_sum(inputs) + 0.0 * self.weight


def _model(steps_per_execution: int) -> SumModel:
    model = SumModel()
    model.compile(optimizer=tf.keras.optimizers.SGD(0.1), steps_per_execution=steps_per_execution)
    return model


@pytest.mark.parametrize("steps_per_execution", [1, 2])
def test_the_epoch_loss_is_the_mean_over_its_batches(steps_per_execution):
    # batches [1, 2, 3], [4, 5, 6], [7]: sums 6, 15, 7; the mean 28 / 3, where the last batch alone says 7
    data = tf.data.Dataset.from_tensor_slices(tf.range(1.0, 8.0)).batch(3)
    model = _model(steps_per_execution)
    history = model.fit(data, epochs=1, verbose=0).history
    assert history["loss"] == [pytest.approx(28 / 3)]
    assert history["total_loss"] == [pytest.approx(28 / 3)] and history["regularization_loss"] == [0.0]
    assert model.evaluate(data, verbose=0, return_dict=True)["loss"] == pytest.approx(28 / 3)


def test_each_epoch_starts_its_mean_afresh():
    # one batch an epoch from [1, 2, 3], [4, 5, 6], ...: epoch 2 says 15, not (6 + 15) / 2
    data = tf.data.Dataset.from_tensor_slices(tf.range(1.0, 13.0)).batch(3).repeat()
    history = _model(1).fit(data, epochs=3, steps_per_epoch=1, verbose=0).history
    assert history["loss"] == [pytest.approx(6.0), pytest.approx(15.0), pytest.approx(24.0)]


def test_validation_during_fit_does_not_disturb_the_training_mean():
    train = tf.data.Dataset.from_tensor_slices(tf.range(1.0, 8.0)).batch(3)
    validation = tf.data.Dataset.from_tensor_slices(tf.constant([10.0, 20.0])).batch(1)  # sums 10, 20
    history = _model(1).fit(train, validation_data=validation, epochs=2, verbose=0).history
    assert history["loss"] == [pytest.approx(28 / 3)] * 2
    assert history["val_loss"] == [pytest.approx(15.0)] * 2

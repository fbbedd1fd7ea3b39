"""Keras train and test steps shared by the TFRS models: summed over `tf.distribute` replicas, traced once.

`ReplicaSummedSteps` goes before `tfrs.Model` in a model's bases; the model defines `compute_loss` and calls
`self.use_summed_steps()` in its `__init__` (replicas report their shares of each value).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from movierec._env import import_tensorflow
from movierec.training.keras_internals import count_train_step, steps_per_execution, uses_cluster_coordinator

tf, _ = import_tensorflow()

__all__ = ["STEP_LOGS", "ReplicaSummedSteps", "replicas"]

# what train_step and test_step report, in this order (make_train_function starts its loop from zeros of them)
STEP_LOGS = ("loss", "regularization_loss", "total_loss")


# the mixin's methods use the Keras model's attributes (optimizer, losses, ...): mypy sees its base as Any
_KerasModel: Any = Any if TYPE_CHECKING else object


class ReplicaSummedSteps(_KerasModel):
    """`make_train_function`, `train_step` and `test_step` for a `tfrs.Model` subclass (a mixin).

    The model calls `use_summed_steps()` in its `__init__`. Each step reports the mean over the epoch's steps
    so far (over the evaluation's, in `test_step`) of each value in `STEP_LOGS`, so the epoch's logs hold the
    epoch's mean batch loss; `tfrs.Model`'s steps report the batch's own, and Keras' epoch logs keep the last
    one (a partial last batch reads several times lower than the rest).
    """

    def use_summed_steps(self) -> None:
        """Replicas report their shares, which Keras sums; the running sums behind the epoch means."""
        self.distribute_reduction_method = "sum"
        # Keras metrics: reset at each epoch's (and evaluation's) start, and kept per replica (read locally
        # inside a step), so the replicas' shares of the mean add up to the whole batch's
        self._step_sums = {
            stage: [tf.keras.metrics.Sum(name=f"{stage}_{name}_sum") for name in (*STEP_LOGS, "steps")]
            for stage in ("train", "test")
        }

    @property
    def metrics(self):
        return super().metrics + [tracker for trackers in self._step_sums.values() for tracker in trackers]

    def _epoch_means(self, stage: str, values: tuple[Any, ...]) -> dict[str, Any]:
        """`values` added to `stage`'s running sums; their means over the steps so far, by name."""
        *sums, steps = self._step_sums[stage]
        updates = [tracker.update_state(value) for tracker, value in zip(sums, values)] + [steps.update_state(1.0)]
        with tf.control_dependencies(updates):
            return {name: tracker.result() / steps.result() for name, tracker in zip(STEP_LOGS, sums)}

    def make_train_function(self, force=False):
        """Keras' train function for `steps_per_execution` > 1, with the step traced once, not twice.

        Keras loops `for _ in tf.range(steps): outputs = step(...)` through AutoGraph, which traces the
        whole train step an extra time to learn the type of `outputs` (undefined before the loop);
        here the loop starts from zeros of the known outputs. Same steps, counter and (summed)
        reduction over replicas; the cases this does not cover go to Keras.
        """
        steps = steps_per_execution(self)
        built: Any = getattr(self, "train_function", None)  # set by Keras; None until first built
        special = uses_cluster_coordinator(self) or self.jit_compile or self.run_eagerly
        if (built is not None and not force) or steps is None or special:
            return super().make_train_function(force)
        if self.autotune_steps_per_execution or int(steps.numpy()) == 1:
            return super().make_train_function(force)
        strategy = self.distribute_strategy

        def run_step(data):
            outputs = self.train_step(data)
            with tf.control_dependencies(list(outputs.values())):
                count_train_step(self)
            return outputs

        def one_step(iterator):
            outputs = strategy.run(run_step, args=(next(iterator),))
            return {name: strategy.reduce("SUM", value, axis=None) for name, value in outputs.items()}

        def train_function(iterator):
            zeros = {name: tf.constant(0.0) for name in STEP_LOGS}
            _, outputs = tf.while_loop(
                lambda i, _: i < steps, lambda i, _: (i + 1, one_step(iterator)), (tf.zeros([], steps.dtype), zeros)
            )
            return outputs

        self.train_function = tf.function(train_function, reduce_retracing=True)
        return self.train_function

    def train_step(self, inputs):
        """`tfrs.Model.train_step`, correct under `tf.distribute` too.

        Each replica's loss is the sum over its share of the global batch (its in-batch softmax
        sees the candidates of every replica, see `two_tower._gather_candidates`; a full or
        sampled softmax needs no gathering); Keras sums the replicas'
        gradients, so the update equals one device's on the whole batch. The regularization loss
        belongs to the shared weights, so each replica adds its 1/R share. Reported values are
        per-replica shares that Keras sums (`distribute_reduction_method = "sum"`).
        """
        share = 1.0 / replicas()
        with tf.GradientTape() as tape:
            loss = self.compute_loss(inputs, training=True)
            regularization_loss = (tf.add_n(self.losses) if self.losses else tf.constant(0.0)) * share
            total_loss = loss + regularization_loss
        gradients = tape.gradient(total_loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(gradients, self.trainable_variables))
        return self._epoch_means("train", (loss, regularization_loss, total_loss))

    def test_step(self, inputs):
        share = 1.0 / replicas()
        loss = self.compute_loss(inputs, training=False)
        regularization_loss = (tf.add_n(self.losses) if self.losses else tf.constant(0.0)) * share
        return self._epoch_means("test", (loss, regularization_loss, loss + regularization_loss))


@tf.autograph.experimental.do_not_convert  # plain Python on the strategy: nothing for AutoGraph to convert
def replicas() -> int:
    """Replicas kept in sync by the current `tf.distribute` strategy (1 outside one)."""
    context = tf.distribute.get_replica_context()
    return 1 if context is None else int(context.num_replicas_in_sync)

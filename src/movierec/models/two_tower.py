"""The two-tower retrieval model: two `Tower`s composed with `tfrs.tasks.Retrieval`."""

from __future__ import annotations

from typing import Any

import numpy as np

from movierec._env import import_tensorflow
from movierec.config import TwoTowerConfig
from movierec.models.losses import RetrievalTask
from movierec.models.towers import Tower, TowerInputs
from movierec.models.train_steps import ReplicaSummedSteps, replicas

tf, tfrs = import_tensorflow()

__all__ = ["TwoTowerModel"]


class TwoTowerModel(ReplicaSummedSteps, tfrs.Model):  # type: ignore[name-defined]  # tfrs is imported at run time
    """User tower and movie tower trained with a retrieval loss (`RetrievalTask`, by `config.loss`).

    Training batches are dicts `{"user": [batch] int, "item": [batch] int}`. Factorized
    top-k metrics are *not* computed per batch (that is what makes the TFRS tutorial slow);
    `movierec.training.callbacks.ValidationMetrics` computes them once per epoch instead.

    Args:
        config: Tower and loss settings.
        n_users: User vocabulary size.
        n_items: Movie vocabulary size (the candidate set).
        user_inputs: Side tables of the user tower.
        item_inputs: Side tables of the movie tower.
        item_probability: `[n_items]` sampling probability of each movie in the training
            batches (its share of training interactions), used for the logQ correction.

    Example:
        >>> model = TwoTowerModel(TwoTowerConfig(), 10, 20, TowerInputs(), TowerInputs(), None)  # doctest: +SKIP
        >>> model.compile(optimizer=tf.keras.optimizers.Adagrad(0.1))  # doctest: +SKIP
    """

    def __init__(
        self,
        config: TwoTowerConfig,
        n_users: int,
        n_items: int,
        user_inputs: TowerInputs,
        item_inputs: TowerInputs,
        item_probability: np.ndarray | None,
    ) -> None:
        super().__init__()
        self.config = config
        self.n_users = n_users
        self.n_items = n_items
        self.movie_tower = Tower(config, n_items, item_inputs, name="movie_tower")
        self.user_tower = Tower(config, n_users, user_inputs, name="user_tower", use_id=config.user_id_embedding)
        self.item_probability = None
        if config.popularity_correction:
            if item_probability is None:
                raise ValueError("popularity_correction needs item_probability")
            floor = 1.0 / max(1, 10 * n_items)  # movies unseen in train still get a finite log-probability
            probability = np.maximum(item_probability, floor) ** config.logq_exponent
            self.item_probability = tf.constant(probability.astype(np.float32))
        # Mixed negatives (Yang et al., 2020) append every movie to the in-batch candidates; the copy of the
        # positive among them must then be removed as an accidental hit.
        self.catalog_negatives = config.negatives == "mixed"
        self.task = RetrievalTask(
            config.loss,
            n_items,
            item_probability,
            temperature=config.temperature,
            num_hard_negatives=config.num_hard_negatives,
            remove_accidental_hits=config.remove_accidental_hits or self.catalog_negatives,
        )

        self.use_summed_steps()  # replicas report their shares of the epoch means (see ReplicaSummedSteps)
        self.rating_head: Any = None
        if config.rating_weight > 0:
            layers = [tf.keras.layers.Dense(size, activation="relu") for size in config.rating_layers]
            self.rating_head = tf.keras.Sequential(layers + [tf.keras.layers.Dense(1)], name="rating_head")
            self.rating_task = tfrs.tasks.Ranking(
                loss=tf.keras.losses.MeanSquaredError(),
                metrics=[tf.keras.metrics.RootMeanSquaredError(name="rmse")],
            )

    def build_for_training(self) -> None:
        """Creates every weight and the optimiser's slots now, with one eager loss on a two-row batch.

        A variable created inside the first traced train step makes `tf.function` trace the whole
        step a second time (about 1 s of a 100k `train`); created here, the step is traced once.
        Call it after `compile`, under the same `tf.distribute` scope.
        """
        ids = tf.zeros([2], tf.int32)  # two rows: a 2 x 2 softmax (Keras warns about 1 x 1)
        batch = {"user": ids, "item": ids, "rating": tf.zeros([2]), "timestamp": tf.zeros([2], tf.int64)}
        self.compute_loss(batch, training=False)
        self.optimizer.build(self.trainable_variables)

    def predict_rating(self, query, candidates):
        """`[batch]` predicted ratings from `[batch, dim]` user and movie embeddings."""
        return tf.squeeze(self.rating_head(tf.concat([query, candidates], axis=1)), axis=1)

    def compute_loss(self, features, training: bool = False):
        users = features["user"]
        items = features["item"]
        times = features.get("timestamp") if "time" in self.config.user_features else None
        query = self.user_tower(users, exclude=items, times=times, training=training, normalize=False)
        candidates = self.movie_tower(items, training=training, normalize=False)
        loss = tf.constant(0.0)
        if self.config.output_l2 > 0:
            # on the raw vectors, summed over the batch like the retrieval loss: keeps dot products from
            # growing without bound when the vectors are not normalised
            loss += self.config.output_l2 * (tf.reduce_sum(tf.square(query)) + tf.reduce_sum(tf.square(candidates)))
        if self.config.l2_normalize:
            query, candidates = tf.math.l2_normalize(query, axis=1), tf.math.l2_normalize(candidates, axis=1)
        if self.rating_head is not None:
            predicted = self.predict_rating(query, candidates)
            rating_loss = self.rating_task(labels=features["rating"], predictions=predicted)
            loss = loss + self.config.rating_weight * rating_loss
        if self.config.retrieval_weight > 0:
            loss = loss + self.config.retrieval_weight * self._retrieval_loss(query, candidates, items, training)
        return loss

    def _retrieval_loss(self, query, candidates, items, training):
        if self.task.uses_catalogue:
            # the whole catalogue (full) or movies drawn for this batch (sampled, gbce), through the movie tower
            negative_ids = self.task.draw_negatives()
            negatives = self.movie_tower(negative_ids, training=training, normalize=False)
            if self.config.l2_normalize:
                negatives = tf.math.l2_normalize(negatives, axis=1)
            return self.task.catalogue_loss(query, candidates, items, negatives, negative_ids)
        kwargs = {}
        candidates, items = _gather_candidates(candidates, items)
        if self.catalog_negatives:
            # Softmax over [batch positives; whole catalogue]: logits [batch, batch + n_items].
            catalog = tf.range(self.n_items, dtype=tf.int32)
            candidates = tf.concat([candidates, self.movie_tower(catalog, training=training)], axis=0)
            kwargs["candidate_ids"] = tf.concat([tf.cast(items, tf.int32), catalog], axis=0)
        else:
            if self.item_probability is not None:
                kwargs["candidate_sampling_probability"] = tf.gather(self.item_probability, items)
            if self.config.remove_accidental_hits:
                kwargs["candidate_ids"] = items
        return self.task(query, candidates, compute_metrics=False, compute_batch_metrics=False, **kwargs)

    def item_embeddings(self, batch_size: int = 8192) -> np.ndarray:
        """`[n_items, dim]` candidate embeddings of every movie."""
        return _batched(lambda x: self.movie_tower(x), np.arange(self.n_items, dtype=np.int32), batch_size)


@tf.autograph.experimental.do_not_convert  # branches on the replica count only
def _gather_candidates(candidates, items):
    """Every replica's candidates, this replica's first: in-batch negatives from the global batch.

    Under `tf.distribute`, each replica holds a slice of the global batch. Softmax negatives
    from the replica's slice alone would give R replicas B/R negatives each, a different (and
    weaker) loss than one device with the same batch. So the candidate embeddings are
    all-gathered (gradients flow back through the gather), then rolled so that this replica's
    own candidates come first: `tfrs.tasks.Retrieval` labels query i with candidate i.

    Returns:
        `(candidates [global_batch, dim], items [global_batch])`, unchanged outside a strategy.
    """
    if replicas() == 1:
        return candidates, items
    context = tf.distribute.get_replica_context()

    def placed(value):
        # Collectives send a tensor from its device; multi-worker runs leave one-device replicas'
        # tensors unplaced, so place those on the worker's (only) device.
        if value.device:
            return value
        with tf.device(context.strategy.extended.worker_devices[0]):
            return tf.identity(value)

    local = (tf.shape(candidates)[:1], candidates, tf.cast(items, tf.int32))
    sizes, gathered, gathered_items = (context.all_gather(placed(value), axis=0) for value in local)
    offset = tf.reduce_sum(sizes[: context.replica_id_in_sync_group])
    return tf.roll(gathered, shift=-offset, axis=0), tf.roll(gathered_items, shift=-offset, axis=0)


def _batched(fn, ids: np.ndarray, batch_size: int) -> np.ndarray:
    out = [fn(tf.constant(ids[i : i + batch_size])).numpy() for i in range(0, len(ids), batch_size)]
    return np.concatenate(out) if out else np.zeros((0, 0), np.float32)

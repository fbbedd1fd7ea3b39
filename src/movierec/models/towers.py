"""The user (query) and movie (candidate) towers, built from a `TwoTowerConfig`.

A tower maps integer ids to embeddings `[batch, output_dim]`. Side features are
looked up *inside* the tower from tables indexed by the id, so the training pipeline
only carries `(user, item)` index pairs and the exported model needs nothing but ids.
Row `n_ids` of every table is the "unknown" row, used for users who are not in the
training data (scored from their history).

The tables are non-trainable `tf.Variable`s, not graph constants: a SavedModel stores them
once among its variables (not inside every traced function's graph, where a
`[n_users, history_length]` history would be copied into each signature), and a history
can be replaced in place (`Tower.set_history`) when more of a user's movies become known.
"""

from __future__ import annotations

import numpy as np

from movierec._env import import_tensorflow
from movierec.config import TwoTowerConfig
from movierec.training.pipeline import epoch_generator

tf, tfrs = import_tensorflow()

__all__ = ["Tower", "TowerInputs"]


class TowerInputs:
    """Side-information tables of one tower, aligned with its id vocabulary.

    Attributes:
        categorical: name -> (`[n_ids]` int table, cardinality).
        multi_hot: name -> `[n_ids, width]` float table (e.g. genres).
        history: `[n_ids, history_length]` int table of item indices + 1 (0 = padding), newest last,
            or None; read by the "history" feature.
        n_history_items: Number of items the history refers to.
        trained: `[n_ids]` bool, ids that have training rows, or None (all). The others keep a zero
            id vector: an untrained embedding is noise (a new user is then their features alone).
    """

    def __init__(self) -> None:
        self.categorical: dict[str, tuple[np.ndarray, int]] = {}
        self.multi_hot: dict[str, np.ndarray] = {}
        self.history: np.ndarray | None = None
        self.n_history_items: int = 0
        # "time": per-id query time (its latest training rating, or the end of the training data: the
        # config's query_time), and the train range / buckets.
        self.last_time: np.ndarray | None = None
        self.time_range: tuple[float, float] = (0.0, 1.0)
        self.time_boundaries: np.ndarray | None = None
        self.trained: np.ndarray | None = None


def _with_unknown_row(table: np.ndarray) -> np.ndarray:
    """Appends an all-zero row: the features of an unknown id."""
    pad = np.zeros((1,) + table.shape[1:], dtype=table.dtype)
    return np.concatenate([table, pad], axis=0)


def _table(values: np.ndarray, name: str):
    """A lookup table held as a non-trainable variable (saved once, never in a graph as a constant)."""
    return tf.Variable(values, trainable=False, name=name)


class Tower(tf.keras.Model):  # type: ignore[name-defined]  # tf is imported at run time
    """Id embedding + side features -> dense stack -> optional head -> optional L2 norm.

    Args:
        config: The model's `TwoTowerConfig`.
        n_ids: Vocabulary size (users or items); id `n_ids` means "unknown".
        inputs: Side-feature tables for this tower.
        name: Keras name ("user_tower" / "movie_tower").
        use_id: Whether the id embedding is part of the input.

    Call args:
        ids: `[batch]` int indices.
        history: Optional `[batch, length]` item indices + 1 (0 = padding) replacing the
            stored history (new users).
        exclude: Optional `[batch]` item indices removed from the history (the training target,
            so the tower cannot learn to copy it).
        times: Optional `[batch]` Unix times of the ratings ("time" feature); None uses each
            id's stored query time (see `TowerInputs.last_time`).

    Returns:
        `[batch, config.output_dim]` embeddings.
    """

    def __init__(
        self,
        config: TwoTowerConfig,
        n_ids: int,
        inputs: TowerInputs,
        name: str,
        use_id: bool = True,
    ) -> None:
        super().__init__(name=name)
        self.use_id = use_id
        self.config = config
        self.n_ids = n_ids
        reg = tf.keras.regularizers.l2(config.l2_regularization) if config.l2_regularization > 0 else None
        self.id_embedding = tf.keras.layers.Embedding(
            n_ids + 1, config.embedding_dim, embeddings_regularizer=reg, name="id_embedding"
        )
        self._id_weight = None
        if inputs.trained is not None:
            weight = _with_unknown_row(np.asarray(inputs.trained, dtype=np.float32))
            self._id_weight = _table(weight[:, None], "id_weight")
        categorical, self.categorical_embeddings = {}, {}
        for feature, (table, cardinality) in inputs.categorical.items():
            categorical[feature] = _table(_with_unknown_row(table.astype(np.int32)), feature)
            self.categorical_embeddings[feature] = tf.keras.layers.Embedding(
                cardinality, config.feature_dim, name=f"{feature}_embedding"
            )
        self._categorical = categorical
        multi_hot, self.multi_hot_projections = {}, {}
        for feature, table in inputs.multi_hot.items():
            multi_hot[feature] = _table(_with_unknown_row(table.astype(np.float32)), feature)
            self.multi_hot_projections[feature] = tf.keras.layers.Dense(
                config.feature_dim, use_bias=False, name=f"{feature}_projection"
            )
        self._multi_hot = multi_hot
        self._history = None
        if inputs.history is not None:
            self._history = _table(_with_unknown_row(inputs.history.astype(np.int32)), "history")
        # the history dropout's draws (reseeded each epoch by EpochRandomState: a resumed run repeats them)
        self.epoch_generator = epoch_generator() if inputs.history is not None and config.history_dropout > 0 else None
        if inputs.history is not None:
            self.history_embedding = tf.keras.layers.Embedding(
                inputs.n_history_items + 1, config.embedding_dim, embeddings_regularizer=reg, name="history_embedding"
            )
        self._last_time = None
        if inputs.last_time is not None:
            last_time = np.concatenate([inputs.last_time, [inputs.time_range[1]]]).astype(np.float64)
            self._last_time = _table(last_time, "last_time")
            self._time_low = float(inputs.time_range[0])
            self._time_span = float(max(inputs.time_range[1] - inputs.time_range[0], 1.0))
            self._time_boundaries = [float(b) for b in np.asarray(inputs.time_boundaries).reshape(-1)]
            self.time_embedding = tf.keras.layers.Embedding(
                len(self._time_boundaries) + 1, config.feature_dim, name="time_embedding"
            )
        self.dense_layers = []
        for i, size in enumerate(config.layer_sizes):
            last = i == len(config.layer_sizes) - 1
            activation = config.activation if (not last or config.activate_last) else None
            if activation == "linear":
                activation = None
            self.dense_layers.append(tf.keras.layers.Dense(size, activation=activation, name=f"dense_{i}"))
            if config.dropout > 0 and not last:
                self.dense_layers.append(tf.keras.layers.Dropout(config.dropout, seed=i))
        self.head = None
        if config.head_size is not None:
            self.head = tf.keras.layers.Dense(config.head_size, activation=config.head_activation, name="head")

    # Its branches read the config, never a tensor: AutoGraph's conversion (0.65 s of each training
    # run's first step) is skipped here and in the tower's other methods.
    @tf.autograph.experimental.do_not_convert
    def call(self, ids, history=None, exclude=None, times=None, training=False, normalize=True):
        ids = tf.cast(ids, tf.int32)
        parts = []
        if self.use_id:
            vectors = self.id_embedding(ids)
            parts.append(vectors if self._id_weight is None else vectors * tf.gather(self._id_weight, ids))
        for feature, table in self._categorical.items():
            parts.append(self.categorical_embeddings[feature](tf.gather(table, ids)))
        for feature, table in self._multi_hot.items():
            parts.append(self.multi_hot_projections[feature](tf.gather(table, ids)))
        if self._history is not None:
            hist = tf.gather(self._history, ids) if history is None else tf.cast(history, tf.int32)
            mask = tf.not_equal(hist, 0)
            if exclude is not None:
                mask = tf.logical_and(mask, tf.not_equal(hist, tf.cast(exclude, tf.int32)[:, None] + 1))
            if training and self.config.history_dropout > 0:
                # Hiding part of the history (as denoising autoencoders do) stops the tower from
                # memorising exact histories; at serving time the whole history is used.
                assert self.epoch_generator is not None  # made when there is a history to drop from
                keep = self.epoch_generator.uniform(tf.shape(hist)) >= self.config.history_dropout
                mask = tf.logical_and(mask, keep)
            weights = tf.cast(mask, tf.float32)
            summed = tf.reduce_sum(self.history_embedding(hist) * weights[:, :, None], axis=1)
            count = tf.reduce_sum(weights, axis=1, keepdims=True)
            parts.append(summed / tf.maximum(count, 1.0))
        if self._last_time is not None:
            # An unknown id (new user) gets the latest training time: "now" for the model.
            t = tf.gather(self._last_time, ids) if times is None else tf.cast(times, tf.float64)
            bucket = tf.raw_ops.Bucketize(input=t, boundaries=self._time_boundaries)
            parts.append(self.time_embedding(bucket))
            if self.config.feature_combiner == "concat":  # summed, the buckets alone (no dense layer to scale by)
                parts.append(tf.cast((t - self._time_low) / self._time_span, tf.float32)[:, None])
        if len(parts) == 1:
            x = parts[0]
        elif self.config.feature_combiner == "sum":
            x = tf.add_n(parts)  # every part is [batch, embedding_dim]
        else:
            x = tf.concat(parts, axis=1)
        return self._project(x, training, normalize)

    def set_history(self, history: np.ndarray) -> None:
        """Replaces the stored `[n_ids, history_length]` history (item indices + 1, newest last) in place."""
        if self._history is None:
            raise ValueError(f"{self.name} has no history table")
        self._history.assign(_with_unknown_row(np.asarray(history, np.int32)))

    @tf.autograph.experimental.do_not_convert
    def _project(self, x, training, normalize):
        """Dense stack -> optional head -> optional L2 norm, over the last axis."""
        for layer in self.dense_layers:
            x = layer(x, training=training) if isinstance(layer, tf.keras.layers.Dropout) else layer(x)
        if self.head is not None:
            x = self.head(x)
        if self.config.l2_normalize and normalize:
            x = tf.math.l2_normalize(x, axis=-1)
        return x

"""The sequential model: a `SequenceEncoder` over each user's latest movies, trained next-movie style.

Its "movie tower" is the encoder's own movie embedding (SASRec shares input and output vectors), its
"user tower" (`SequenceQuery`) reads a user's stored movies, or the movies a new user names, and
returns the encoder's output at the latest one. The loss is `RetrievalTask`'s, chosen by
`SequentialConfig.loss`: a softmax over the whole catalogue by default.
"""

from __future__ import annotations

import numpy as np

from movierec._env import import_tensorflow
from movierec.config.sequential import SequentialConfig
from movierec.models.losses import RetrievalTask
from movierec.models.sequential.encoder import SequenceEncoder
from movierec.models.train_steps import ReplicaSummedSteps

tf, tfrs = import_tensorflow()

__all__ = ["SequentialModel", "SequenceQuery"]


class SequenceQuery(tf.keras.layers.Layer):  # type: ignore[name-defined]  # tf is imported at run time
    """The query of a user: the encoder's output at their latest movie.

    Args:
        encoder: The model's `SequenceEncoder`.
        history: `[n_users, max_length]` each user's latest movies (item index + 1, 0 pads, newest last).
        normalize: Whether queries are unit length.

    Call args:
        users: `[batch]` int user indices; index `n_users` is "unknown" (no movies: a zero query).
        history: Optional `[batch, T]` movies replacing the stored ones (new users).

    Returns:
        `[batch, dim]` query vectors.
    """

    def __init__(self, encoder: SequenceEncoder, history: np.ndarray, normalize: bool, **kwargs) -> None:
        super().__init__(**kwargs)
        self.encoder = encoder
        self.normalize = normalize
        padded = np.concatenate([history, np.zeros((1, history.shape[1]), history.dtype)]).astype(np.int32)
        # a variable, not a graph constant: saved once, replaceable in place when more movies are known
        self.history = tf.Variable(padded, trainable=False, name="history")

    @tf.autograph.experimental.do_not_convert
    def call(self, users, history=None, training=False):
        sequence = tf.gather(self.history, tf.cast(users, tf.int32)) if history is None else history
        sequence = _without_padding_columns(tf.cast(sequence, tf.int32))
        query = self.encoder(sequence, training=training, last_only=True)[:, -1]
        return tf.math.l2_normalize(query, axis=-1) if self.normalize else query

    def set_history(self, history: np.ndarray) -> None:
        """Replaces the stored `[n_users, max_length]` movies in place."""
        padded = np.concatenate([history, np.zeros((1, history.shape[1]), history.dtype)])
        self.history.assign(padded.astype(np.int32))


def _without_padding_columns(sequence):
    """`sequence` `[batch, T]` without its leading columns that pad every row (the last one kept if all do).

    Sequences are left-padded and the encoder counts positions from the right, so the outputs at the
    kept columns do not change; a batch of short histories is read at their length, not `max_length`.
    """
    filled = tf.cast(tf.reduce_any(sequence > 0, axis=0), tf.int32)
    leading = tf.reduce_sum(tf.cast(tf.equal(tf.cumsum(filled), 0), tf.int32))  # columns before the first movie
    return sequence[:, tf.minimum(leading, tf.maximum(tf.shape(sequence)[1] - 1, 0)) :]


class SequentialModel(ReplicaSummedSteps, tfrs.Model):  # type: ignore[name-defined]  # tfrs is imported at run time
    """Causal self-attention over movie sequences with a `RetrievalTask` loss.

    Training batches are `{"sequence", "next": [windows, T] int32}` (item indices + 1, 0 pads;
    `next[:, t]` is the movie after `sequence[:, t]`): every valid position is a query whose
    positive is the next movie.

    Args:
        config: The sequential config.
        n_users: Number of users (rows of `history`).
        n_items: Number of movies (the candidates).
        history: `[n_users, max_length]` each user's latest training movies (+1, 0 pads, newest last).
        item_frequency: `[n_items]` share of each movie among the training targets (logQ, popularity draws).

    Example:
        >>> model = SequentialModel(SequentialConfig(), 10, 20, np.zeros((10, 200), np.int32), None)  # doctest: +SKIP
    """

    def __init__(
        self,
        config: SequentialConfig,
        n_users: int,
        n_items: int,
        history: np.ndarray,
        item_frequency: np.ndarray | None,
    ) -> None:
        super().__init__()
        self.config = config
        self.n_users = n_users
        self.n_items = n_items
        self.encoder = SequenceEncoder(
            n_items,
            config.embedding_dim,
            config.max_length,
            blocks=config.blocks,
            heads=config.heads,
            dropout=config.dropout,
            activation=config.activation,
            block=config.block,
            feed_forward_multiplier=config.feed_forward_multiplier,
            name="sequence_encoder",
        )
        self.user_tower = SequenceQuery(self.encoder, history, config.l2_normalize, name="sequence_query")
        self.rating_head = None  # the export's rating path is not used by this kind
        self.task = RetrievalTask(config.loss, n_items, item_frequency, temperature=config.temperature)
        self.use_summed_steps()  # replicas report their shares of the epoch means (see ReplicaSummedSteps)
        if config.loss.kind == "in_batch" and item_frequency is not None:
            # logQ: in-batch negatives are drawn as often as movies are targets
            floor = 1.0 / max(1, 10 * n_items)
            self._probability = tf.constant(np.maximum(item_frequency, floor).astype(np.float32))
        else:
            self._probability = None

    def movie_vectors(self, items=None):
        """`[n, dim]` vectors of movies (all of them when `items` is None), normalised if configured."""
        table = self.encoder.item_embedding.embeddings
        vectors = table if items is None else tf.gather(table, items)
        return tf.math.l2_normalize(vectors, axis=-1) if self.config.l2_normalize else vectors

    def build_for_training(self) -> None:
        """Creates every weight and the optimiser's slots now (the train step is then traced once)."""
        self.compute_loss({"sequence": tf.ones([1, 2], tf.int32), "next": tf.ones([1, 2], tf.int32)})
        self.optimizer.build(self.trainable_variables)

    def compute_loss(self, features, training: bool = False):
        valid = features["next"] > 0
        outputs = self.encoder(features["sequence"], training=training)
        query = tf.boolean_mask(outputs, valid)
        if self.config.l2_normalize:
            query = tf.math.l2_normalize(query, axis=-1)
        items = tf.boolean_mask(features["next"], valid) - 1
        positives = self.movie_vectors(items)
        if not self.task.uses_catalogue:
            probability = None if self._probability is None else tf.gather(self._probability, items)
            return self.task(
                query, positives, candidate_sampling_probability=probability, compute_metrics=False,
                compute_batch_metrics=False,
            )  # fmt: skip
        negative_ids = self.task.draw_negatives()
        return self.task.catalogue_loss(query, positives, items, self.movie_vectors(negative_ids), negative_ids)

    def item_embeddings(self) -> np.ndarray:
        """`[n_items, dim]` candidate vectors of every movie."""
        return self.movie_vectors().numpy()

"""SavedModel export of a trained two-tower model.

The exported module holds the user tower (with its feature tables) and the movie
embeddings of the whole catalogue (the retrieval index), and exposes:

* `score(users [b] int32) -> [b, n_items]` scores of every movie (by retrieval score, predicted
  rating, or retrieval re-ranked by predicted rating, as the config's `scoring` says),
* `predict_rating(users [b] int32, items [b] int32) -> [b]` for models with a rating head,
* `score_history(histories [b, length] int32) -> [b, n_items]` for users not seen in
  training, from the movies they name (item index + 1, 0 = padding),
* `top_k(users [b] int32, k int32) -> (scores [b, k], items [b, k])`,
* `item_embeddings` variable `[n_items, dim]`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from movierec._env import import_tensorflow
from movierec.config import TwoTowerConfig
from movierec.errors import ModelDirError

tf, tfrs = import_tensorflow()

__all__ = ["ExportModule", "load_export"]


class ExportModule(tf.Module):  # type: ignore[name-defined]  # tf is imported at run time
    """Wraps the user tower and the movie-embedding index for `tf.saved_model.save`."""

    def __init__(self, model, item_vectors: np.ndarray, config: TwoTowerConfig) -> None:
        super().__init__()
        self.user_tower = model.user_tower
        self.item_embeddings = tf.Variable(item_vectors.astype(np.float32), trainable=False, name="item_embeddings")
        self.unknown_user = tf.constant(model.n_users, tf.int32)
        self.uses_history = "history" in config.user_features
        self.history_length = config.history_length
        self.scoring = config.scoring
        self.rerank_top = min(config.rerank_top, int(item_vectors.shape[0]))
        self.rating_head = model.rating_head

    @tf.function(input_signature=[tf.TensorSpec([None], tf.int32)])
    def score(self, users):
        return self._score_query(self.user_tower(users))

    def _rate(self, query, candidates):
        """Predicted ratings `[..., n]` for query `[..., n, d]` against candidates `[..., n, d]`."""
        return tf.squeeze(self.rating_head(tf.concat([query, candidates], axis=-1)), axis=-1)

    def _score_query(self, query):
        retrieval = tf.matmul(query, self.item_embeddings, transpose_b=True)
        if self.scoring == "retrieval":
            return retrieval
        if self.scoring == "rating":
            # One user at a time keeps memory at n_items x dim, whatever the batch.
            return tf.map_fn(
                lambda q: self._rate(tf.broadcast_to(q, tf.shape(self.item_embeddings)), self.item_embeddings),
                query,
            )
        # rerank: the top `rerank_top` by retrieval score, ordered by predicted rating, above the rest.
        top = tf.math.top_k(retrieval, k=self.rerank_top).indices
        candidates = tf.gather(self.item_embeddings, top)
        rated = self._rate(tf.broadcast_to(query[:, None, :], tf.shape(candidates)), candidates)
        offset = tf.reduce_max(retrieval, axis=1, keepdims=True) - tf.reduce_min(rated, axis=1, keepdims=True) + 1.0
        rows = tf.repeat(tf.range(tf.shape(top)[0]), self.rerank_top)
        indices = tf.stack([rows, tf.reshape(top, [-1])], axis=1)
        return tf.tensor_scatter_nd_update(retrieval, indices, tf.reshape(rated + offset, [-1]))

    @tf.function(input_signature=[tf.TensorSpec([None], tf.int32), tf.TensorSpec([None], tf.int32)])
    def predict_rating(self, users, items):
        if self.rating_head is None:
            return tf.fill(tf.shape(users), float("nan"))
        return self._rate(self.user_tower(users), tf.gather(self.item_embeddings, items))

    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.int32)])
    def score_history(self, histories):
        if self.uses_history:
            users = tf.fill([tf.shape(histories)[0]], self.unknown_user)
            query = self.user_tower(users, history=histories)
        else:
            # Without a history feature, a new user is the mean of the movies they named.
            mask = tf.cast(histories > 0, tf.float32)
            vectors = tf.gather(self.item_embeddings, tf.maximum(histories - 1, 0))
            query = tf.reduce_sum(vectors * mask[:, :, None], axis=1) / tf.maximum(
                tf.reduce_sum(mask, axis=1, keepdims=True), 1.0
            )
        return self._score_query(query)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.int32), tf.TensorSpec([], tf.int32)])
    def top_k(self, users, k):
        scores = self.score(users)
        return tf.math.top_k(scores, k=tf.minimum(k, tf.shape(scores)[1]))

    def save(self, path: Path) -> None:
        tf.saved_model.save(self, str(path))


def load_export(path: Path):
    """Loads an `ExportModule` SavedModel; raises `ModelDirError` if there is none."""
    if not (Path(path) / "saved_model.pb").is_file():
        raise ModelDirError(f"{path.parent} holds no exported TFRS model (missing saved_model/saved_model.pb)")
    return tf.saved_model.load(str(path))

"""SavedModel export of a trained TFRS model (two-tower or sequential).

The exported module holds the user tower (with its feature tables or stored histories) and the
movie embeddings of the whole catalogue (the retrieval index), and exposes:

* `score(users [b] int32) -> [b, n_items]` scores of every movie (by retrieval score, predicted
  rating, or retrieval re-ranked by predicted rating, as the config's `scoring` says),
* `predict_rating(users [b] int32, items [b] int32) -> [b]` for models with a rating head,
* `score_history(histories [b, length] int32) -> [b, n_items]` for users not seen in
  training, from the movies they name (item index + 1, 0 = padding),
* `top_k(users [b] int32, k int32) -> (scores [b, k], items [b, k])`,
* `embed_users(users [b] int32) -> [b, dim]` query vectors of known users (serving caches them
  once and scores with numpy),
* `item_embeddings` variable `[n_items, dim]`.

Given the id vocabulary (`ServingLabels`), the export also carries TensorFlow Serving
signatures over string ids, with the seen movies of every user excluded as `recommend` does:

* `serving_default(user_ids [b] string) -> {item_ids [b, 10] string, scores [b, 10] float32}`,
* `recommend(user_ids [b] string, k int32) -> {item_ids [b, k], scores [b, k]}`.

An unknown user id fails the call (InvalidArgument "unknown user id"); where fewer than k
movies are unseen, the tail has item id "" and score -inf.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from movierec._env import import_tensorflow
from movierec.errors import ModelDirError
from movierec.training.keras_internals import without_keras_traces

tf, tfrs = import_tensorflow()

__all__ = ["ExportModule", "ServingLabels", "load_export", "SERVING_K"]

SERVING_K = 10  # movies returned by the `serving_default` signature


@dataclass(frozen=True)
class ServingLabels:
    """What the string-id signatures need besides the model: ids in index order and seen movies."""

    user_ids: np.ndarray  # [n_users] str
    item_ids: np.ndarray  # [n_items] str
    seen: sp.csr_matrix  # [n_users, n_items] movies each user has seen (never recommended)


class ExportModule(tf.Module):  # type: ignore[name-defined]  # tf is imported at run time
    """Wraps the user tower and the movie-embedding index for `tf.saved_model.save`."""

    def __init__(
        self,
        model,
        item_vectors: np.ndarray,
        *,
        history_length: int | None,
        scoring: str = "retrieval",
        rerank_top: int = 100,
        labels: ServingLabels | None = None,
    ) -> None:
        """
        Args:
            model: A Keras model with `user_tower` (`(users, history=None) -> [b, dim]`), `n_users`
                and `rating_head` (None without one).
            item_vectors: `[n_items, dim]` the retrieval index.
            history_length: Movies of a new user its user tower reads, or None when it reads none
                (a new user is then the mean of the movies they name).
            scoring: "retrieval", "rating" or "rerank" (see `TwoTowerConfig.scoring`).
            rerank_top: With "rerank", how many retrieved movies are re-ordered by predicted rating.
            labels: Ids and seen movies for the string-id signatures, or None.
        """
        super().__init__()
        self.user_tower = model.user_tower
        self.item_embeddings = tf.Variable(item_vectors.astype(np.float32), trainable=False, name="item_embeddings")
        self.unknown_user = tf.constant(model.n_users, tf.int32)
        self.uses_history = history_length is not None
        self.history_length = history_length or 0
        self.scoring = scoring
        self.rerank_top = min(rerank_top, int(item_vectors.shape[0]))
        self.rating_head = model.rating_head
        if labels is not None:
            self._add_id_signatures(labels)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.int32)], autograph=False)
    def score(self, users):
        return self._score_query(self.user_tower(users))

    @tf.function(input_signature=[tf.TensorSpec([None], tf.int32)], autograph=False)
    def embed_users(self, users):
        return self.user_tower(users)

    def _add_id_signatures(self, labels: ServingLabels) -> None:
        """Adds the string-id functions (tracked attributes, so they exist only when labels do)."""
        seen = labels.seen.tocsr()
        n_items = int(self.item_embeddings.shape[0])
        if seen.shape != (len(labels.user_ids), n_items) or len(labels.item_ids) != n_items:
            raise ValueError(f"labels do not match the model: seen {seen.shape}, {len(labels.item_ids)} item ids")
        keys = tf.constant(_utf8(labels.user_ids))
        self.user_table = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(keys, tf.range(len(labels.user_ids), dtype=tf.int64)), default_value=-1
        )
        item_labels = _utf8(labels.item_ids)
        self.item_labels = tf.Variable(item_labels, trainable=False, name="item_labels")
        self.seen_splits = tf.Variable(seen.indptr.astype(np.int64), trainable=False, name="seen_splits")
        self.seen_items = tf.Variable(seen.indices.astype(np.int32), trainable=False, name="seen_items")
        counts = np.asarray(seen.getnnz(axis=0), np.float32)
        self.popularity = tf.Variable(counts / max(1.0, float(counts.max(initial=0.0))), trainable=False)
        self.serve_top_k = tf.function(
            lambda user_ids: self._recommend_ids(user_ids, tf.constant(SERVING_K)),
            input_signature=[tf.TensorSpec([None], tf.string, name="user_ids")],
            autograph=False,
        )
        self.recommend = tf.function(
            self._recommend_ids,
            input_signature=[tf.TensorSpec([None], tf.string, name="user_ids"), tf.TensorSpec([], tf.int32, name="k")],
            autograph=False,
        )

    def _recommend_ids(self, user_ids, k):
        """Top-k movie ids and scores for known users, seen movies excluded (as `Recommender.recommend`)."""
        users = self.user_table.lookup(user_ids)
        # the check must run before the lookups that would fail on -1 with a less clear message
        with tf.control_dependencies([tf.debugging.assert_non_negative(users, message="unknown user id")]):
            users = tf.cast(users, tf.int32)
        scores = self._score_query(self.user_tower(users))
        # A user whose scores all tie gets most-popular, as TwoTowerRecommender.score does.
        tied = tf.reduce_max(scores, axis=1) == tf.reduce_min(scores, axis=1)
        scores = tf.where(tied[:, None], self.popularity[None, :], scores)
        seen = tf.gather(tf.RaggedTensor.from_row_splits(self.seen_items, self.seen_splits), users)
        positions = tf.stack([tf.cast(seen.value_rowids(), tf.int32), seen.flat_values], axis=1)
        scores = tf.tensor_scatter_nd_update(scores, positions, tf.fill([tf.shape(positions)[0]], -np.inf))
        top = tf.math.top_k(scores, k=tf.minimum(k, tf.shape(scores)[1]))
        ids = tf.gather(self.item_labels, top.indices)
        ids = tf.where(top.values == -np.inf, tf.constant(b""), ids)
        return {"item_ids": ids, "scores": top.values}

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

    @tf.function(input_signature=[tf.TensorSpec([None], tf.int32), tf.TensorSpec([None], tf.int32)], autograph=False)
    def predict_rating(self, users, items):
        if self.rating_head is None:
            return tf.fill(tf.shape(users), float("nan"))
        return self._rate(self.user_tower(users), tf.gather(self.item_embeddings, items))

    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.int32)], autograph=False)
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

    @tf.function(input_signature=[tf.TensorSpec([None], tf.int32), tf.TensorSpec([], tf.int32)], autograph=False)
    def top_k(self, users, k):
        scores = self.score(users)
        return tf.math.top_k(scores, k=tf.minimum(k, tf.shape(scores)[1]))

    def save(self, path: Path) -> None:
        signatures = None
        if hasattr(self, "serve_top_k"):
            signatures = {"serving_default": self.serve_top_k, "recommend": self.recommend}
        # Serving calls only this module's functions; Keras would also trace and store every layer's
        # own call functions (for reloading them as Keras layers), a third of the export's time.
        with without_keras_traces():
            tf.saved_model.save(self, str(path), signatures=signatures)


def _utf8(ids: np.ndarray) -> np.ndarray:
    """Ids as UTF-8 bytes (TensorFlow's strings): numpy's `astype(bytes)` is ASCII and fails on "Café"."""
    return np.array([str(i).encode("utf-8") for i in ids], dtype=object)


def load_export(path: Path):
    """Loads an `ExportModule` SavedModel.

    Raises:
        ModelDirError: if there is none, or TensorFlow cannot read it (truncated or corrupt files).
    """
    if not (Path(path) / "saved_model.pb").is_file():
        raise ModelDirError(f"{path.parent} holds no exported TFRS model (missing saved_model/saved_model.pb)")
    try:
        return tf.saved_model.load(str(path))
    except Exception as e:  # TF raises protobuf, OpError and ValueError kinds for a bad file
        first_line = str(e).strip().splitlines()[0] if str(e).strip() else ""
        raise ModelDirError(f"{path} is not a readable SavedModel ({type(e).__name__}: {first_line[:200]})") from e

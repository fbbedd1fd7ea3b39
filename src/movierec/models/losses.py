"""Retrieval losses: TFRS `Retrieval` with in-batch, full-catalogue, sampled or gBCE negatives.

`RetrievalTask` is a documented subclass of `tfrs.tasks.Retrieval`. Its `call` is TFRS's own (the
in-batch softmax, row i's positive at column i), with `DiagonalSoftmaxLoss` as the loss; its
`catalogue_loss` scores each query against movies chosen by `LossConfig` instead:

* `full`: every movie; `logits [n, n_items]`, cross-entropy at the true movie's index.
* `sampled`: the true movie plus `K` movies drawn once per batch (`draw_negatives`) and shared by
  every query; `logits [n, 1 + K]`, with `log(K Q(j))` subtracted where the draw is not uniform
  (logQ), and a drawn movie equal to the query's own positive masked out (an accidental hit).
* `gbce`: the same uniform draw, generalised binary cross-entropy (gSASRec):
  `beta softplus(-s+) + sum_j softplus(s_j)` per query, accidental hits masked.

Every loss is a sum over queries (TFRS `Retrieval`'s reduction), the temperature divides the logits.
"""

from __future__ import annotations

import os

import numpy as np

from movierec._env import import_tensorflow
from movierec.config.loss import LossConfig
from movierec.training.devices import cpu_multiplies_bfloat16
from movierec.training.pipeline import epoch_generator

tf, tfrs = import_tensorflow()

__all__ = ["DiagonalSoftmaxLoss", "RetrievalTask", "bfloat16_logsumexp", "catalogue_logsumexp", "gbce_beta"]

MIN_LOGIT = np.finfo(np.float32).min / 100.0  # TFRS masks with this too: exp() is 0, no inf - inf
# Below this many movies the catalogue's logsumexp runs as plain TensorFlow ops: XLA's compile time (about a
# second per shape) is not repaid on small catalogues, and unit tests of tiny ones keep their speed.
XLA_MIN_ITEMS = 1024
ROW_BUCKET = 512  # queries are padded to a multiple of this: XLA compiles once per padded shape


@tf.function(jit_compile=True)
def _compiled_logsumexp(query, movies):
    return tf.reduce_logsumexp(tf.linalg.matmul(query, movies, transpose_b=True), axis=1)


def catalogue_logsumexp(query, movies, compiled: bool = True):
    """`[n]` log of the summed exponentiated scores of each query against every movie, `log sum_j exp(q . m_j)`.

    Compiled with XLA, the matrix product, the maximum and the sum of the forward and backward passes are
    fused: an epoch of the sequential preset on MovieLens 1M (3,706 movies, batches of 4,096 targets) took
    26.1-26.3 s against 30.0-31.2 s with TensorFlow's own ops (2 cores, idle; peak memory 1.7 GB against
    1.45 GB). The queries are zero-padded to a multiple of `ROW_BUCKET`
    rows, so batches of varying size share a few compiled shapes; the padding rows are cut off (and get no
    gradient). `RetrievalTask` compiles it for catalogues of `XLA_MIN_ITEMS` movies or more, unless the
    environment variable `MOVIEREC_XLA` is `0` (the plain ops, for a platform where XLA misbehaves).

    Example:
        >>> q, m = tf.constant([[1.0, 0.0], [0.0, 2.0]]), tf.constant([[1.0, 1.0], [0.0, 1.0], [2.0, 0.0]])
        >>> [round(float(x), 4) for x in catalogue_logsumexp(q, m)]  # log(e + 1 + e^2), log(2 e^2 + 1)
        [2.4076, 2.7586]
    """
    if not compiled:
        return tf.reduce_logsumexp(tf.linalg.matmul(query, movies, transpose_b=True), axis=1)
    rows = tf.shape(query)[0]
    padded_rows = (rows + ROW_BUCKET - 1) // ROW_BUCKET * ROW_BUCKET
    padded = tf.pad(query, [[0, padded_rows - rows], [0, 0]])
    return _compiled_logsumexp(padded, movies)[:rows]


def bfloat16_logsumexp(query, movies, columns):
    """`[n]` `log sum_j exp(q . m_j)` with the catalogue's matrix products in bfloat16, for CPUs that multiply it fast.

    The `[n, n_items]` logits are the product of the bfloat16-rounded queries and movies (oneDNN, on
    AMX or AVX-512 BF16 units), their softmax `P` is one oneDNN pass, and the value is read off the
    column given for each row: `log sum_j exp(s_j) = s_c - log P_c`, so no pass takes a maximum. The
    gradient is `P` (the exact form of the logsumexp's), applied by two more bfloat16 products:
    `dq = dv * (P M)`, `dM = P^T (dv * q)`, in float32 out. Measured on 4,096 queries and 3,706 movies
    of width 64 (2 cores with AMX): the forward and backward passes take about 18 ms against 40-48 ms for
    the XLA-compiled float32 `catalogue_logsumexp`; the value and gradients differ from float32 by
    about 0.5% (bfloat16 keeps 8 bits of mantissa). Reading a column whose `P_c` is below float32's
    smallest normal (a logit more than about 85 below the row's largest) caps the value, never the gradient.

    Args:
        query: `[n, dim]` float32 queries.
        movies: `[n_items, dim]` float32 movie vectors.
        columns: `[n]` int column of each row to read the value at (the positive movie: its `P` is the
            least likely to underflow among the columns a caller knows).

    Example:
        >>> q, m = tf.constant([[1.0, 0.0], [0.0, 2.0]]), tf.constant([[1.0, 1.0], [0.0, 1.0], [2.0, 0.0]])
        >>> [round(float(x), 2) for x in bfloat16_logsumexp(q, m, tf.constant([0, 1]))]  # float32: 2.4076, 2.7586
        [2.41, 2.76]
    """
    columns = tf.cast(columns, tf.int32)

    @tf.custom_gradient
    def logsumexp(query, movies):
        q16, m16 = tf.cast(query, tf.bfloat16), tf.cast(movies, tf.bfloat16)
        logits = tf.linalg.matmul(q16, m16, transpose_b=True)
        probabilities = tf.nn.softmax(logits)
        at = tf.stack([tf.range(tf.shape(columns)[0]), columns], axis=1)
        read = tf.cast(tf.gather_nd(logits, at), tf.float32)
        share = tf.maximum(tf.cast(tf.gather_nd(probabilities, at), tf.float32), np.finfo(np.float32).tiny)
        value = read - tf.math.log(share)

        def gradient(upstream):
            scale = tf.cast(upstream, tf.float32)[:, None]
            to_query = scale * tf.cast(tf.linalg.matmul(probabilities, m16), tf.float32)
            to_movies = tf.linalg.matmul(probabilities, tf.cast(query * scale, tf.bfloat16), transpose_a=True)
            return to_query, tf.cast(to_movies, tf.float32)

        return value, gradient

    return logsumexp(query, movies)


class DiagonalSoftmaxLoss(tf.keras.losses.Loss):  # type: ignore[name-defined]  # tf is imported at run time
    """Softmax cross-entropy where query i's positive is candidate i (the TFRS in-batch layout).

    `Retrieval` labels row i's positive at column i (`tf.eye`) and applies a dense categorical
    cross-entropy: it materialises a `[batch, batch]` label matrix and multiplies it through. With a
    diagonal label the same sum is `logsumexp(scores_i) - scores_ii` per row: half the memory traffic,
    identical values. Valid whenever the positive of row i is column i (every option but
    `num_hard_negatives`, which reorders columns).

    Args (call):
        y_true: `[batch, n_candidates]` labels; ignored (assumed to be `tf.eye`).
        y_pred: `[batch, n_candidates]` logits.

    Returns:
        The summed loss over the batch (the reduction `tfrs.tasks.Retrieval` uses by default).

    Example:
        >>> task = tfrs.tasks.Retrieval(loss=DiagonalSoftmaxLoss())  # doctest: +SKIP
    """

    def __init__(self, name: str = "diagonal_softmax") -> None:
        super().__init__(reduction=tf.keras.losses.Reduction.SUM, name=name)

    @tf.autograph.experimental.do_not_convert
    def call(self, y_true, y_pred):
        del y_true  # the positive of row i is column i
        return tf.reduce_logsumexp(y_pred, axis=1) - tf.linalg.diag_part(y_pred)


def gbce_beta(negatives: int, n_items: int, calibration: float) -> float:
    """gSASRec's exponent of the positive's probability: `alpha (t (1 - 1/alpha) + 1/alpha)`.

    `alpha = negatives / (n_items - 1)` is the sampling rate of the negatives; `t = calibration`.

    Example:
        >>> round(gbce_beta(256, 3707, 0.75), 4)
        0.3018
    """
    alpha = negatives / max(n_items - 1, 1)
    return float(alpha * (calibration * (1.0 - 1.0 / alpha) + 1.0 / alpha))


class RetrievalTask(tfrs.tasks.Retrieval):  # type: ignore[name-defined]  # tfrs is imported at run time
    """`tfrs.tasks.Retrieval` whose negatives are the batch, the catalogue or a shared sample.

    Args:
        config: Which loss and negatives (`LossConfig`).
        n_items: Catalogue size; movie indices are `0 .. n_items - 1`.
        item_frequency: `[n_items]` share of each movie in the training stream: the popularity
            sampler draws from it (None: uniform only).
        temperature: Divides every logit (None = 1).
        **kwargs: The rest of `tfrs.tasks.Retrieval`'s arguments (in-batch options).

    Example:
        >>> task = RetrievalTask(LossConfig(kind="full"), n_items=3706)  # doctest: +SKIP
        >>> loss = task.catalogue_loss(query, positive_vectors, positive_ids, movie_vectors)  # doctest: +SKIP
    """

    def __init__(
        self,
        config: LossConfig,
        n_items: int,
        item_frequency: np.ndarray | None = None,
        temperature: float | None = None,
        **kwargs,
    ) -> None:
        if config.kind == "in_batch" and kwargs.get("num_hard_negatives") is None:
            kwargs.setdefault("loss", DiagonalSoftmaxLoss())
        super().__init__(temperature=temperature, **kwargs)
        self.config = config
        self.n_items = int(n_items)
        self._log_frequency = None
        if config.sampler == "popularity" and config.shares_negatives:
            if item_frequency is None:
                raise ValueError("sampler='popularity' needs item_frequency")
            frequency = np.asarray(item_frequency, np.float64)
            frequency = frequency / max(frequency.sum(), 1e-30)
            share = config.popularity_share
            mixture = share * frequency + (1.0 - share) / self.n_items
            self._log_frequency = tf.constant(np.log(np.maximum(frequency, 1e-30)).astype(np.float32))
            # log(K Q(j)): how much more often than uniformly each movie is drawn (logQ correction)
            self._log_expected = tf.constant(np.log(config.negatives * mixture).astype(np.float32))
        self._beta = gbce_beta(config.negatives, self.n_items, config.calibration)
        # "auto" is settled here, once: bfloat16 products only where the CPU has units for them
        self.logits_dtype = config.logits_dtype
        if self.logits_dtype == "auto":
            self.logits_dtype = "bfloat16" if cpu_multiplies_bfloat16() else "float32"
        # the draws of `sampled` and `gbce` (reseeded each epoch by EpochRandomState: a resumed run repeats them)
        self.epoch_generator = epoch_generator() if config.kind in ("sampled", "gbce") else None

    @property
    def uses_catalogue(self) -> bool:
        """True for `full`, `sampled` and `gbce`: call `catalogue_loss`, not the in-batch `call`."""
        return self.config.kind != "in_batch"

    def draw_negatives(self):
        """`[K]` int32 movie indices for one batch: every movie for `full`, a draw for `sampled` / `gbce`."""
        if self.config.kind == "full":
            return tf.range(self.n_items, dtype=tf.int32)
        k, draws = self.config.negatives, self.epoch_generator
        assert draws is not None  # made for `sampled` and `gbce`, the kinds that draw
        uniform = draws.uniform([k], 0, self.n_items, dtype=tf.int32)
        if self._log_frequency is None:
            return uniform
        seed = draws.make_seeds(1)[:, 0]
        by_frequency = tf.cast(tf.random.stateless_categorical(self._log_frequency[None, :], k, seed)[0], tf.int32)
        return tf.where(draws.uniform([k]) < self.config.popularity_share, by_frequency, uniform)

    @tf.autograph.experimental.do_not_convert  # branches on the config only
    def catalogue_loss(self, query, positives, positive_ids, negatives, negative_ids=None, sample_weight=None):
        """The summed loss of `query` against its positives and the drawn (or all) movies.

        Args:
            query: `[n, dim]` query vectors.
            positives: `[n, dim]` vectors of each query's true movie.
            positive_ids: `[n]` int indices of the true movies.
            negatives: `[K, dim]` vectors of the movies from `draw_negatives` (`[n_items, dim]` for `full`).
            negative_ids: `[K]` their indices (unused by `full`, whose columns are the catalogue).
            sample_weight: Optional `[n]` weight of each query's loss.

        Returns:
            Scalar: the loss summed over queries.
        """
        scale = 1.0 if self._temperature is None else 1.0 / self._temperature
        positive_ids = tf.cast(positive_ids, tf.int32)
        positive = tf.reduce_sum(query * positives, axis=1) * scale
        if self.config.kind == "full":
            # logsumexp over the catalogue minus the positive's logit: the same value as TensorFlow's sparse
            # softmax cross-entropy, in fewer passes over [n, n_items] (fused by XLA on large catalogues)
            if self.logits_dtype == "bfloat16":
                per_query = bfloat16_logsumexp(query * scale, negatives, positive_ids) - positive
            else:
                compiled = self.n_items >= XLA_MIN_ITEMS and os.environ.get("MOVIEREC_XLA", "1") != "0"
                per_query = catalogue_logsumexp(query * scale, negatives, compiled=compiled) - positive
        else:
            logits = tf.linalg.matmul(query, negatives, transpose_b=True) * scale
            hit = tf.equal(positive_ids[:, None], tf.cast(negative_ids, tf.int32)[None, :])
            if self.config.kind == "gbce":
                negative_terms = tf.where(hit, 0.0, tf.nn.softplus(logits))
                per_query = self._beta * tf.nn.softplus(-positive) + tf.reduce_sum(negative_terms, axis=1)
            else:
                if self._log_frequency is not None:
                    positive -= tf.gather(self._log_expected, positive_ids)
                    logits -= tf.gather(self._log_expected, negative_ids)[None, :]
                logits = tf.where(hit, MIN_LOGIT, logits)
                everything = tf.concat([positive[:, None], logits], axis=1)
                per_query = tf.reduce_logsumexp(everything, axis=1) - positive
        if sample_weight is not None:
            per_query = per_query * tf.cast(sample_weight, per_query.dtype)
        loss = tf.reduce_sum(per_query)
        for metric in self._loss_metrics:
            metric.update_state(loss)
        return loss

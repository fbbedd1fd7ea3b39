"""Retrieval losses against numpy: `DiagonalSoftmaxLoss` (in-batch) and `RetrievalTask` (full, sampled, gBCE)."""

from __future__ import annotations

import numpy as np
import pytest

from movierec._env import import_tensorflow
from movierec.config.loss import LossConfig
from movierec.errors import ConfigError
from movierec.models.losses import (
    ROW_BUCKET,
    XLA_MIN_ITEMS,
    DiagonalSoftmaxLoss,
    RetrievalTask,
    bfloat16_logsumexp,
    catalogue_logsumexp,
    gbce_beta,
)

tf, tfrs = import_tensorflow()


def _numpy_loss(scores: np.ndarray) -> float:
    # row i: -log softmax(scores_i)[i] = logsumexp(scores_i) - scores_ii, summed over rows
    top = scores.max(axis=1, keepdims=True)
    lse = np.log(np.exp(scores - top).sum(axis=1)) + top[:, 0]
    return float((lse - np.diag(scores)).sum())


def test_hand_worked_two_by_two():
    # rows [0, ln 3] and [0, 0]: -log(1/4) + -log(1/2) = ln 4 + ln 2 = ln 8
    scores = tf.constant([[0.0, np.log(3.0)], [0.0, 0.0]], tf.float32)
    value = DiagonalSoftmaxLoss()(tf.eye(2), scores)
    assert float(value) == pytest.approx(np.log(8.0), rel=1e-6)


@pytest.mark.parametrize("shape", [(5, 5), (4, 9)])  # square in-batch; mixed negatives add columns
def test_matches_tfrs_default_and_numpy(shape):
    rng = np.random.default_rng(0)
    scores = rng.normal(size=shape).astype(np.float32) * 3
    labels = tf.eye(*shape)
    default = tf.keras.losses.CategoricalCrossentropy(from_logits=True, reduction=tf.keras.losses.Reduction.SUM)
    ours = float(DiagonalSoftmaxLoss()(labels, tf.constant(scores)))
    assert ours == pytest.approx(float(default(labels, tf.constant(scores))), rel=1e-5)
    assert ours == pytest.approx(_numpy_loss(scores), rel=1e-5)


def test_retrieval_task_gives_the_same_loss_with_either():
    rng = np.random.default_rng(1)
    query = tf.constant(rng.normal(size=(6, 4)), tf.float32)
    candidates = tf.constant(rng.normal(size=(6, 4)), tf.float32)
    probability = tf.constant(rng.uniform(0.01, 0.5, size=6), tf.float32)
    for kwargs in ({}, {"temperature": 0.1}):
        plain = tfrs.tasks.Retrieval(**kwargs)(
            query, candidates, candidate_sampling_probability=probability, compute_metrics=False
        )
        fast = tfrs.tasks.Retrieval(loss=DiagonalSoftmaxLoss(), **kwargs)(
            query, candidates, candidate_sampling_probability=probability, compute_metrics=False
        )
        assert float(fast) == pytest.approx(float(plain), rel=1e-5)


# ---------------------------------------------------------------- RetrievalTask: full, sampled, gbce


def _logsumexp(x: np.ndarray, axis: int = 1) -> np.ndarray:
    top = x.max(axis=axis, keepdims=True)
    return np.log(np.exp(x - top).sum(axis=axis)) + top[:, 0]


def _batch(n_queries=5, n_items=7, dim=3, seed=0):
    rng = np.random.default_rng(seed)
    query = rng.normal(size=(n_queries, dim)).astype(np.float32)
    movies = rng.normal(size=(n_items, dim)).astype(np.float32)
    positive_ids = rng.integers(0, n_items, size=n_queries).astype(np.int32)
    return query, movies, positive_ids


def test_full_softmax_hand_worked():
    # one query [1, 0] against movies [0, 0], [ln 3, 0], [0, 5]: logits 0, ln 3, 0; positive movie 1:
    # -log(3 / (1 + 3 + 1)) = ln 5 - ln 3
    query = np.array([[1.0, 0.0]], np.float32)
    movies = np.array([[0.0, 0.0], [np.log(3.0), 0.0], [0.0, 5.0]], np.float32)
    task = RetrievalTask(LossConfig(kind="full"), n_items=3)
    value = task.catalogue_loss(tf.constant(query), tf.constant(movies[[1]]), tf.constant([1]), tf.constant(movies))
    assert float(value) == pytest.approx(np.log(5.0) - np.log(3.0), rel=1e-6)


@pytest.mark.parametrize("temperature", [None, 0.5])
def test_full_softmax_matches_numpy(temperature):
    query, movies, positive_ids = _batch()
    scale = 1.0 if temperature is None else 1.0 / temperature
    logits = query @ movies.T * scale
    expected = float((_logsumexp(logits) - logits[np.arange(len(query)), positive_ids]).sum())
    task = RetrievalTask(LossConfig(kind="full"), n_items=len(movies), temperature=temperature)
    draw = task.draw_negatives().numpy()
    np.testing.assert_array_equal(draw, np.arange(len(movies)))
    value = task.catalogue_loss(
        tf.constant(query), tf.constant(movies[positive_ids]), tf.constant(positive_ids), tf.constant(movies[draw])
    )
    assert float(value) == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("temperature", [None, 0.5])
def test_full_softmax_on_a_large_catalogue_is_compiled_and_matches_numpy(temperature):
    # XLA_MIN_ITEMS movies or more take the compiled path; 700 queries are padded to 1,024 rows
    n_items, n_queries = XLA_MIN_ITEMS + 5, ROW_BUCKET + 188
    query, movies, positive_ids = _batch(n_queries=n_queries, n_items=n_items, dim=8, seed=3)
    scale = 1.0 if temperature is None else 1.0 / temperature
    logits = query.astype(np.float64) @ movies.T.astype(np.float64) * scale
    expected = float((_logsumexp(logits) - logits[np.arange(n_queries), positive_ids]).sum())
    task = RetrievalTask(LossConfig(kind="full"), n_items=n_items, temperature=temperature)
    value = task.catalogue_loss(
        tf.constant(query), tf.constant(movies[positive_ids]), tf.constant(positive_ids), tf.constant(movies)
    )
    assert float(value) == pytest.approx(expected, rel=1e-5)


def test_compiled_logsumexp_gives_the_plain_value_and_gradient():
    # the padded, XLA-compiled path against TensorFlow's own ops and numpy; padding rows get no gradient
    query, movies, _ = _batch(n_queries=ROW_BUCKET + 3, n_items=50, dim=4, seed=5)
    weights = np.random.default_rng(6).uniform(0.5, 2.0, size=len(query)).astype(np.float32)
    results = []
    for compiled in (True, False):
        q, m = tf.Variable(query), tf.Variable(movies)
        with tf.GradientTape() as tape:
            value = catalogue_logsumexp(q, m, compiled=compiled)
            total = tf.reduce_sum(value * weights)
        results.append((value.numpy(), *(g.numpy() for g in tape.gradient(total, [q, m]))))
    (value, grad_q, grad_m), plain = results
    assert value.shape == (len(query),)
    np.testing.assert_allclose(value, _logsumexp(query.astype(np.float64) @ movies.T), rtol=1e-5)
    for got, want in zip(results[0], plain):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    # d/dq of sum_i w_i logsumexp_j(q_i . m_j) = w_i softmax_i @ M
    scores = query.astype(np.float64) @ movies.T
    softmax = np.exp(scores - _logsumexp(scores)[:, None])
    np.testing.assert_allclose(grad_q, weights[:, None] * (softmax @ movies), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(grad_m, (weights[:, None] * softmax).T @ query, rtol=1e-4, atol=1e-5)


def _bfloat16(x: np.ndarray) -> np.ndarray:
    """`x` rounded to bfloat16 and back (float64)."""
    return tf.cast(tf.cast(tf.constant(x, tf.float32), tf.bfloat16), tf.float64).numpy()


def test_bfloat16_logsumexp_matches_numpy_on_rounded_inputs_with_the_softmax_gradient():
    # the reference rounds the inputs and the logits to bfloat16 (8 bits of mantissa: a logit of 16-32 is kept to
    # within 0.0625), then works in float64: what is left is the softmax's own rounding (about 0.4%)
    query, movies, columns = _batch(n_queries=300, n_items=1500, dim=16, seed=7)
    weights = np.random.default_rng(8).uniform(0.5, 2.0, size=len(query)).astype(np.float32)
    q, m = tf.Variable(query), tf.Variable(movies)
    with tf.GradientTape() as tape:
        value = bfloat16_logsumexp(q, m, tf.constant(columns))
        total = tf.reduce_sum(value * weights)
    grad_q, grad_m = (g.numpy() for g in tape.gradient(total, [q, m]))
    scores = _bfloat16(_bfloat16(query) @ _bfloat16(movies).T)
    expected = _logsumexp(scores)
    np.testing.assert_allclose(value.numpy(), expected, rtol=0, atol=0.01)
    softmax = np.exp(scores - expected[:, None])
    want_q = weights[:, None] * (softmax @ _bfloat16(movies))
    want_m = softmax.T @ (weights[:, None] * query)
    for got, want in ((grad_q, want_q), (grad_m, want_m)):
        assert np.linalg.norm(got - want) / np.linalg.norm(want) < 0.01
        assert np.isclose(got, want, rtol=0.03, atol=0.03 * np.abs(want).max()).all()


def test_bfloat16_logsumexp_reads_any_column_and_caps_an_underflowing_one():
    # logits 0, 50, 100 (exact in bfloat16): logsumexp 100 + log(1 + e^-50 + e^-100) = 100.0, whichever
    # column is read while its share of the softmax is a normal float32; the first column's e^-100 is not
    query = np.array([[1.0, 0.0]], np.float32)
    movies = np.array([[0.0, 0.0], [50.0, 0.0], [100.0, 0.0]], np.float32)
    value = bfloat16_logsumexp(tf.constant(np.repeat(query, 3, 0)), tf.constant(movies), tf.constant([0, 1, 2]))
    cap = -np.log(np.finfo(np.float32).tiny)  # 87.3: read - log(tiny) with read = 0
    np.testing.assert_allclose(value.numpy(), [cap, 100.0, 100.0], rtol=1e-3)


@pytest.mark.parametrize("temperature", [None, 0.5])
def test_full_softmax_in_bfloat16_is_the_float32_loss_to_bfloat16_precision(temperature):
    query, movies, positive_ids = _batch(n_queries=200, n_items=XLA_MIN_ITEMS + 5, dim=8, seed=9)
    values = []
    for dtype in ("float32", "bfloat16"):
        task = RetrievalTask(LossConfig(kind="full", logits_dtype=dtype), n_items=len(movies), temperature=temperature)
        assert task.logits_dtype == dtype
        args = (query, movies[positive_ids], positive_ids, movies)
        values.append(float(task.catalogue_loss(*(tf.constant(a) for a in args))))
    assert values[1] == pytest.approx(values[0], rel=2e-3)


@pytest.mark.parametrize("has_units", [True, False])
def test_auto_logits_dtype_follows_the_cpu(monkeypatch, has_units):
    import movierec.models.losses as losses

    monkeypatch.setattr(losses, "cpu_multiplies_bfloat16", lambda: has_units)
    task = RetrievalTask(LossConfig(kind="full", logits_dtype="auto"), n_items=10)
    assert task.logits_dtype == ("bfloat16" if has_units else "float32")


def _shared_loss(task, query, movies, positive_ids, negative_ids) -> float:
    """`task.catalogue_loss` with the drawn `negative_ids` shared by every query."""
    vectors = [movies[positive_ids], positive_ids, movies[negative_ids], negative_ids]
    return float(task.catalogue_loss(tf.constant(query), *(tf.constant(v) for v in vectors)))


def _sampled_reference(query, movies, positive_ids, negative_ids, log_expected=None):
    """Per query: logsumexp([s+, s_j for drawn j != positive]) - s+, with logQ when given."""
    total = 0.0
    for q, positive in zip(query, positive_ids):
        s_pos = float(q @ movies[positive])
        s_neg = np.array([q @ movies[j] for j in negative_ids])
        if log_expected is not None:
            s_pos -= log_expected[positive]
            s_neg = s_neg - log_expected[negative_ids]
        kept = s_neg[negative_ids != positive]  # an accidental hit is not a negative
        row = np.concatenate([[s_pos], kept])
        total += float(np.log(np.exp(row - row.max()).sum()) + row.max() - s_pos)
    return total


def test_sampled_softmax_masks_accidental_hits_and_matches_numpy():
    query, movies, positive_ids = _batch(n_queries=6, n_items=8)
    negative_ids = np.array([positive_ids[0], 3, 3, positive_ids[2], 7], np.int32)  # hits and a repeat
    task = RetrievalTask(LossConfig(kind="sampled", negatives=5), n_items=len(movies))
    value = _shared_loss(task, query, movies, positive_ids, negative_ids)
    assert float(value) == pytest.approx(_sampled_reference(query, movies, positive_ids, negative_ids), rel=1e-5)


def test_sampled_softmax_with_popularity_mix_subtracts_log_k_q():
    query, movies, positive_ids = _batch(n_queries=4, n_items=6, seed=3)
    frequency = np.array([0.5, 0.2, 0.1, 0.1, 0.05, 0.05])
    config = LossConfig(kind="sampled", negatives=4, sampler="popularity", popularity_share=0.6)
    q_mix = 0.6 * frequency + 0.4 / 6  # Q(j): the probability of drawing j
    log_expected = np.log(4 * q_mix)
    negative_ids = np.array([0, 1, 4, 5], np.int32)
    task = RetrievalTask(config, n_items=6, item_frequency=frequency)
    value = _shared_loss(task, query, movies, positive_ids, negative_ids)
    expected = _sampled_reference(query, movies, positive_ids, negative_ids, log_expected)
    assert float(value) == pytest.approx(expected, rel=1e-5)


def test_uniform_sampled_softmax_needs_no_correction():
    # a uniform draw shifts every logit of a row by the same log(K / n): softmax does not change
    query, movies, positive_ids = _batch(n_queries=3, n_items=5, seed=4)
    negative_ids = np.array([1, 2, 4], np.int32)
    args = (movies[positive_ids], positive_ids, movies[negative_ids], negative_ids)
    uniform = RetrievalTask(LossConfig(kind="sampled", negatives=3), n_items=5)
    mixed = RetrievalTask(
        LossConfig(kind="sampled", negatives=3, sampler="popularity", popularity_share=0.0),
        n_items=5,
        item_frequency=np.ones(5),
    )
    tensors = [tf.constant(a) for a in args]
    assert float(uniform.catalogue_loss(tf.constant(query), *tensors)) == pytest.approx(
        float(mixed.catalogue_loss(tf.constant(query), *tensors)), rel=1e-5
    )


def test_gbce_matches_numpy_and_gsasrec_beta():
    query, movies, positive_ids = _batch(n_queries=5, n_items=9, seed=5)
    negative_ids = np.array([positive_ids[1], 0, 2, 2], np.int32)
    config = LossConfig(kind="gbce", negatives=4, calibration=0.75)
    alpha = 4 / 8
    beta = alpha * (0.75 * (1 - 1 / alpha) + 1 / alpha)  # = 0.625
    assert gbce_beta(4, 9, 0.75) == pytest.approx(beta)
    assert beta == pytest.approx(0.625)

    def softplus(x):
        return np.log1p(np.exp(-np.abs(x))) + np.maximum(x, 0)

    expected = 0.0
    for q, positive in zip(query, positive_ids):
        expected += beta * softplus(-(q @ movies[positive]))  # -log sigmoid(s+)^beta
        for j in negative_ids:
            if j != positive:
                expected += softplus(q @ movies[j])  # -log(1 - sigmoid(s-))
    task = RetrievalTask(config, n_items=9)
    value = _shared_loss(task, query, movies, positive_ids, negative_ids)
    assert float(value) == pytest.approx(expected, rel=1e-5)


def test_gbce_with_calibration_zero_is_binary_cross_entropy():
    assert gbce_beta(10, 101, 0.0) == pytest.approx(1.0)
    assert gbce_beta(100, 101, 1.0) == pytest.approx(1.0)  # every other movie drawn: nothing to correct


def test_draws_are_in_range_and_popularity_draws_follow_the_mix():
    tf.keras.utils.set_random_seed(0)
    uniform = RetrievalTask(LossConfig(kind="sampled", negatives=2000), n_items=4).draw_negatives().numpy()
    assert uniform.shape == (2000,) and uniform.min() >= 0 and uniform.max() <= 3
    frequency = np.array([1.0, 0.0, 0.0, 0.0])
    config = LossConfig(kind="sampled", negatives=4000, sampler="popularity", popularity_share=0.5)
    draw = RetrievalTask(config, n_items=4, item_frequency=frequency).draw_negatives().numpy()
    # movie 0 is drawn by frequency half the time and uniformly a quarter of the rest: 0.625
    assert np.mean(draw == 0) == pytest.approx(0.625, abs=0.03)


def test_in_batch_task_is_tfrs_retrieval():
    query, movies, _ = _batch(n_queries=4, n_items=4, seed=6)
    task = RetrievalTask(LossConfig(), n_items=4)
    assert isinstance(task, tfrs.tasks.Retrieval) and not task.uses_catalogue
    value = task(tf.constant(query), tf.constant(movies), compute_metrics=False, compute_batch_metrics=False)
    assert float(value) == pytest.approx(_numpy_loss(query @ movies.T), rel=1e-5)


@pytest.mark.parametrize(
    "kwargs, phrase",
    [
        ({"kind": "softmax"}, "loss.kind"),
        ({"negatives": 0}, "loss.negatives"),
        ({"sampler": "zipf"}, "loss.sampler"),
        ({"popularity_share": 1.5}, "loss.popularity_share"),
        ({"kind": "gbce", "calibration": -0.1}, "loss.calibration"),
        ({"kind": "gbce", "sampler": "popularity"}, "uniform negatives"),
        ({"kind": "full", "logits_dtype": "float16"}, "loss.logits_dtype"),
        ({"kind": "sampled", "logits_dtype": "bfloat16"}, "kind = 'full' only"),
        ({"kind": "in_batch", "logits_dtype": "auto"}, "kind = 'full' only"),
    ],
)
def test_loss_config_errors(kwargs, phrase):
    with pytest.raises(ConfigError, match=phrase):
        LossConfig(**kwargs)

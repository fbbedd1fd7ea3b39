"""`DiagonalSoftmaxLoss` equals TFRS's default in-batch softmax loss and a numpy reference."""

from __future__ import annotations

import numpy as np
import pytest

from movierec._env import import_tensorflow
from movierec.models.losses import DiagonalSoftmaxLoss

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

"""EASE weights against the closed form computed directly."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from movierec.baselines.ease import EaseRecommender, ease_weights
from movierec.config import EaseConfig
from movierec.data.interactions import Interactions
from movierec.errors import ConfigError


def test_weights_match_direct_formula_on_3x3():
    x = np.array([[1, 1, 0], [0, 1, 1], [1, 1, 1]], dtype=np.float64)
    l2 = 2.0
    # G = XᵀX + 2I = [[4, 2, 1], [2, 5, 2], [1, 2, 4]]
    gram = x.T @ x + l2 * np.eye(3)
    np.testing.assert_allclose(gram, [[4, 2, 1], [2, 5, 2], [1, 2, 4]])
    p = np.linalg.inv(gram)
    expected = np.array([[0.0 if i == j else -p[i, j] / p[j, j] for j in range(3)] for i in range(3)])
    weights = ease_weights(sp.csr_matrix(x), l2)
    assert weights.dtype == np.float32
    np.testing.assert_allclose(weights, expected, rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(np.diag(weights), 0.0)


def test_weights_solve_the_constrained_ridge_problem():
    # B minimises |X - XB|² + λ|B|² subject to diag(B) = 0: the stationarity condition is
    # (XᵀX + λI) B = XᵀX - diag(μ) for some μ, i.e. off-diagonal entries of G B - XᵀX vanish.
    rng = np.random.default_rng(0)
    x = (rng.random((20, 6)) < 0.4).astype(np.float64)
    l2 = 3.0
    weights = ease_weights(sp.csr_matrix(x), l2).astype(np.float64)
    residual = (x.T @ x + l2 * np.eye(6)) @ weights - x.T @ x
    off_diagonal = residual - np.diag(np.diag(residual))
    np.testing.assert_allclose(off_diagonal, 0.0, atol=1e-5)


def test_score_is_train_rows_times_weights_and_history_agrees():
    train = Interactions.from_arrays([0, 0, 1, 2, 2], [0, 1, 1, 0, 2], n_users=3, n_items=3)
    rec = EaseRecommender(EaseConfig(l2=1.0)).fit(train)
    np.testing.assert_allclose(rec.score(np.arange(3)), train.to_csr().toarray() @ rec.weights, rtol=1e-6)
    np.testing.assert_allclose(
        rec.score_history([np.array([0, 1]), np.array([1, 1])]), rec.score(np.array([0, 1])), rtol=1e-6
    )


def test_guards():
    with pytest.raises(ConfigError, match="l2 must be a number > 0"):
        EaseConfig(l2=0.0)
    with pytest.raises(ConfigError, match="would need about"):
        ease_weights(sp.csr_matrix((1, 30_001), dtype=np.float32), 1.0)


def test_max_items_fits_the_most_rated_and_ranks_the_rest_last_by_popularity():
    # items 0-2 rated by many users, items 3 and 4 by fewer; keep the 3 most-rated
    users = [0, 0, 1, 1, 2, 2, 3, 3, 0, 1, 2, 3, 4]
    items = [0, 1, 0, 2, 1, 2, 0, 1, 2, 3, 3, 4, 0]
    train = Interactions.from_arrays(users, items, n_users=5, n_items=5)
    full = EaseRecommender(EaseConfig(l2=1.0)).fit(train)
    cut = EaseRecommender(EaseConfig(l2=1.0, max_items=3)).fit(train)
    np.testing.assert_array_equal(cut.fitted_items, [0, 1, 2])
    assert cut.weights.shape == (3, 3)
    # B on the cut equals EASE fitted on those columns alone
    sub = Interactions.from_arrays(
        [u for u, i in zip(users, items) if i < 3], [i for i in items if i < 3], n_users=5, n_items=3
    )
    np.testing.assert_allclose(cut.weights, EaseRecommender(EaseConfig(l2=1.0)).fit(sub).weights, rtol=1e-6)
    scores = cut.score(np.arange(5))
    assert np.all(np.isfinite(scores))
    assert np.all(scores[:, :3].min(axis=1) > scores[:, 3:].max(axis=1))  # unfitted movies rank last
    assert np.all(scores[:, 3] > scores[:, 4])  # ... by popularity: item 3 (2 ratings) before item 4 (1)
    assert full.weights.shape == (5, 5)


def test_blockwise_gram_and_in_place_inverse_match_numpy():
    """The memory-lean pieces, with blocks smaller than the matrix so every block path runs."""
    from movierec.baselines.ease import _gram, _inverse_in_place

    rng = np.random.default_rng(3)
    x = sp.csr_matrix((rng.random((40, 11)) < 0.3).astype(np.float32))
    gram = _gram(x, block=4)
    np.testing.assert_array_equal(gram, x.T.toarray() @ x.toarray())
    gram[np.diag_indices(11)] += 2.5
    expected = np.linalg.inv(gram)
    inverse = _inverse_in_place(gram, block=3)
    assert np.shares_memory(inverse, gram)  # no second 11 x 11 array
    np.testing.assert_allclose(inverse, expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(inverse, inverse.T)


def test_the_cholesky_factorisation_runs_on_one_blas_thread(monkeypatch):
    """OpenBLAS' threaded potrf crashed (SIGSEGV) at 16,000+ movies on an AVX-512 machine: it must run on one thread."""
    from threadpoolctl import threadpool_info

    from movierec.baselines import ease

    threads = []
    real = ease.lapack.dpotrf

    def spy(*args, **kwargs):
        threads.append(
            {info["filepath"]: info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"}
        )
        return real(*args, **kwargs)

    monkeypatch.setattr(ease.lapack, "dpotrf", spy)
    matrix = sp.csr_matrix(np.array([[1, 1, 0], [0, 1, 1], [1, 0, 1]], dtype=np.float64))
    weights = ease.ease_weights(matrix, l2=1.0)
    gram = (matrix.T @ matrix).toarray() + np.eye(3)
    precision = np.linalg.inv(gram)
    expected = -precision / np.diag(precision)[None, :]
    np.fill_diagonal(expected, 0.0)
    np.testing.assert_allclose(weights, expected, rtol=1e-6, atol=1e-7)
    assert len(threads) == 1 and threads[0] and set(threads[0].values()) == {1}


def test_explain_gives_the_weights_of_the_history_movies_exactly():
    # score(i) = sum over history j of B[j, i]: movie j's contribution is B[j, i], checked against numpy
    rng = np.random.default_rng(3)
    x = (rng.random((40, 8)) < 0.4).astype(np.float32)
    users, items = np.nonzero(x)
    rec = EaseRecommender(EaseConfig(l2=2.0)).fit(Interactions.from_arrays(users, items, n_users=40, n_items=8))
    weights = ease_weights(sp.csr_matrix(x), 2.0)
    slots = np.tile(np.arange(8), (40, 1))
    because = rec.explain(np.arange(40), slots, top=8)
    assert because.method == "exact"
    for u in range(40):
        history = np.flatnonzero(x[u])
        for i in range(8):
            terms = weights[history, i]
            order = np.argsort(-terms, kind="stable")
            positive = order[terms[order] > 0]
            expected = history[positive]
            named = because.items[u, i]
            np.testing.assert_array_equal(named[: len(expected)], expected)
            assert np.all(named[len(expected) :] == -1)
            np.testing.assert_allclose(because.weights[u, i, : len(expected)], terms[positive], rtol=1e-6)
            # the terms, negative ones included, add up to the score
            np.testing.assert_allclose(terms.sum(), rec.score(np.array([u]))[0, i], rtol=1e-5, atol=1e-6)


def test_explain_names_nothing_for_movies_outside_the_fitted_cut():
    # max_items=2 fits the two most-rated movies (0 and 1); movie 2 ranks by popularity, owing nothing to B
    train = Interactions.from_arrays([0, 0, 1, 1, 2, 2, 3], [0, 1, 0, 1, 0, 2, 1], n_users=4, n_items=3)
    rec = EaseRecommender(EaseConfig(l2=1.0, max_items=2)).fit(train)
    because = rec.explain(np.array([2, 3]), np.array([[2, 1], [2, 0]]), top=2)
    assert np.all(because.items[:, 0] == -1)  # movie 2: unfitted
    assert because.items[0, 1, 0] == 0 and because.items[1, 1, 0] == 1  # B[0, 1] > 0 and B[1, 0] > 0

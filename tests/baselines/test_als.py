"""Implicit ALS: loss goes down, rank-1 structure is recovered, solves are exact."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from movierec.baselines.als import AlsRecommender, als_loss, als_solve
from movierec.config import AlsConfig
from movierec.data.interactions import Interactions
from movierec.errors import ConfigError


def _random_train(seed: int = 0) -> Interactions:
    rng = np.random.default_rng(seed)
    dense = rng.random((30, 20)) < 0.25
    users, items = np.nonzero(dense)
    return Interactions.from_arrays(users, items, n_users=30, n_items=20)


def test_loss_never_increases():
    rec = AlsRecommender(AlsConfig(factors=4, regularization=0.5, alpha=5.0, iterations=8)).fit(_random_train())
    losses = np.array(rec.loss_history)
    assert len(losses) == 8 + 1  # each sweep, then the final exact user solve
    assert np.all(np.diff(losses) <= 1e-6 * losses[:-1])
    assert losses[-1] < losses[0]


def test_loss_matches_dense_definition():
    rng = np.random.default_rng(1)
    matrix = sp.csr_matrix((rng.random((5, 4)) < 0.5).astype(np.float64))
    users, items = rng.normal(size=(5, 2)), rng.normal(size=(4, 2))
    p = matrix.toarray()
    c = 1 + 3.0 * p
    expected = np.sum(c * (p - users @ items.T) ** 2) + 0.7 * (np.sum(users**2) + np.sum(items**2))
    assert als_loss(matrix, users, items, alpha=3.0, regularization=0.7) == pytest.approx(expected)


def test_solve_is_the_exact_normal_equation():
    rng = np.random.default_rng(2)
    matrix = sp.csr_matrix((rng.random((6, 5)) < 0.5).astype(np.float64))
    fixed = rng.normal(size=(5, 3))
    solved = als_solve(matrix, fixed, alpha=2.0, regularization=0.3)
    for u in range(6):
        c = np.diag(1 + 2.0 * matrix[u].toarray().ravel())
        p = matrix[u].toarray().ravel()
        a = fixed.T @ c @ fixed + 0.3 * np.eye(3)
        np.testing.assert_allclose(solved[u], np.linalg.solve(a, fixed.T @ c @ p), rtol=1e-10)


def test_reconstructs_rank_one_block():
    # users 0-5 like items 0-3, nobody likes items 4-7: a rank-1 pattern.
    users, items = np.nonzero(np.outer(np.arange(10) < 6, np.arange(8) < 4))
    train = Interactions.from_arrays(users, items, n_users=10, n_items=8)
    rec = AlsRecommender(AlsConfig(factors=2, regularization=0.01, alpha=10.0, iterations=10)).fit(train)
    scores = rec.score(np.arange(10))
    np.testing.assert_allclose(scores[:6, :4], 1.0, atol=0.05)
    np.testing.assert_allclose(scores[:6, 4:], 0.0, atol=0.05)
    # users 6-9 have no history: they fall back to popularity (items 0-3 rated 6 times each, 4-7 never)
    np.testing.assert_allclose(scores[6:], np.tile([1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0], (4, 1)))


def test_deterministic_and_history_matches_training_user():
    train = _random_train(3)
    config = AlsConfig(factors=5, iterations=4, seed=7)
    first, second = AlsRecommender(config).fit(train), AlsRecommender(config).fit(train)
    np.testing.assert_array_equal(first.score(np.arange(30)), second.score(np.arange(30)))
    # user factors are solved last, so a user's history reproduces their training scores
    histories = [train.items[train.users == u] for u in range(3)]
    np.testing.assert_allclose(first.score_history(histories), first.score(np.arange(3)), atol=1e-4)


def test_without_its_own_seed_als_takes_the_runs_seed():
    # `train --preset als --seed N` used to train with 42 whatever N was
    from movierec.config import TrainConfig
    from movierec.recommender import FitOptions

    train = _random_train(3)
    by_run = AlsRecommender(AlsConfig(factors=5, iterations=4)).fit(train, FitOptions(train=TrainConfig(seed=7)))
    by_config = AlsRecommender(AlsConfig(factors=5, iterations=4, seed=7)).fit(train)
    other = AlsRecommender(AlsConfig(factors=5, iterations=4)).fit(train, FitOptions(train=TrainConfig(seed=8)))
    np.testing.assert_array_equal(by_run.score(np.arange(30)), by_config.score(np.arange(30)))
    assert not np.array_equal(by_run.score(np.arange(30)), other.score(np.arange(30)))


def test_add_seen_resolves_only_the_users_who_gained_movies():
    train = _random_train(3)
    rec = AlsRecommender(AlsConfig(factors=5, iterations=4, seed=7)).fit(train)
    before = rec.score(np.arange(30))
    extra = Interactions.from_arrays([2, 2, 5], [0, 1, 3], n_users=train.n_users, n_items=train.n_items)
    rec.add_seen(extra)
    after = rec.score(np.arange(30))
    untouched = np.setdiff1d(np.arange(30), [2, 5])
    np.testing.assert_array_equal(after[untouched], before[untouched])
    # users 2 and 5 now score as a new user with their training movies plus the added ones would
    histories = [np.union1d(train.items[train.users == u], extra.items[extra.users == u]) for u in (2, 5)]
    np.testing.assert_allclose(after[[2, 5]], rec.score_history(histories), atol=1e-4)
    assert not np.allclose(after[[2, 5]], before[[2, 5]])


@pytest.mark.parametrize(
    "field, value", [("factors", 0), ("iterations", -1), ("regularization", 0.0), ("alpha", -1.0), ("factors", 2.5)]
)
def test_config_rejects_bad_values(field, value):
    with pytest.raises(ConfigError, match=field):
        AlsConfig(**{field: value})


def _hand_built_als() -> AlsRecommender:
    """ALS with item factors set by hand: y0 = (1, 0), y1 = (0, 1), y2 = (1, 1), y3 = (2, 0); alpha = λ = 1."""
    rec = AlsRecommender(AlsConfig(factors=2, alpha=1.0, regularization=1.0))
    rec.item_factors = np.array([[1, 0], [0, 1], [1, 1], [2, 0]], np.float32)
    rec.n_users, rec.n_items = 1, 4
    rec.seen = sp.csr_matrix(np.array([[1, 1, 0, 0]], np.float32))
    rec.user_factors = rec._solve(rec.seen).astype(np.float32)
    rec.user_counts, rec.item_counts = np.array([2]), np.array([1, 1, 0, 0])
    rec._is_fitted = True
    return rec


def test_explain_a_hand_built_factorisation():
    # History {0, 1}: YᵀY = [[6, 1], [1, 2]]; A = YᵀY + alpha (y0 y0ᵀ + y1 y1ᵀ) + λI = [[8, 1], [1, 4]],
    # A⁻¹ = [[4, -1], [-1, 8]] / 31. Movie j adds (1 + alpha) y_iᵀ A⁻¹ y_j to movie i's score:
    #   movie 2 = (1, 1): from 0: 2 * 3/31 = 6/31, from 1: 2 * 7/31 = 14/31 (score 20/31)
    #   movie 3 = (2, 0): from 0: 2 * 8/31 = 16/31, from 1: 2 * -2/31 = -4/31 (score 12/31): 1 is not named
    rec = _hand_built_als()
    np.testing.assert_allclose(rec.score(np.array([0]))[0, 2:], [20 / 31, 12 / 31], rtol=1e-6)
    for because in (
        rec.explain(np.array([0]), np.array([[2, 3]]), top=2),
        rec.explain_history([np.array([1, 0, 1])], np.array([[2, 3]]), top=2),  # a repeat counts once
    ):
        assert because.method == "exact" and not because.popular.any()
        np.testing.assert_array_equal(because.items[0], [[1, 0], [0, -1]])
        np.testing.assert_allclose(because.weights[0], [[14 / 31, 6 / 31], [16 / 31, 0]], rtol=1e-6)


def test_explain_agrees_with_implicits_explain():
    # implicit 0.7.3's `explain` splits the same solve: its confidence is our 1 + alpha
    from implicit.cpu.als import AlternatingLeastSquares

    rec = AlsRecommender(AlsConfig(factors=4, regularization=0.5, alpha=3.0, iterations=5)).fit(_random_train())
    reference = AlternatingLeastSquares(factors=4, regularization=0.5, alpha=4.0)
    reference.item_factors = rec.item_factors.astype(np.float32)
    user = 3
    history = rec.seen[user].indices
    items, _ = rec.recommend(np.array([user]), k=3)
    because = rec.explain(np.array([user]), items, top=len(history))
    for slot, item in enumerate(items[0]):
        total, parts, _ = reference.explain(user, rec.seen, int(item), N=len(history))
        expected = [(j, w) for j, w in parts if w > 0]
        np.testing.assert_allclose(total, rec.score(np.array([user]))[0, item], rtol=1e-4)
        named = because.items[0, slot]
        assert named[named >= 0].tolist() == [j for j, _ in expected]
        np.testing.assert_allclose(because.weights[0, slot, : len(expected)], [w for _, w in expected], rtol=1e-4)

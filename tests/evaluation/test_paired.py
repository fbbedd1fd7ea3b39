"""Paired differences of two models on the same users, against numpy references."""

from __future__ import annotations

import numpy as np
import pytest

from movierec.evaluation import paired_difference, pool_users


def test_paired_difference_pairs_by_user_and_ignores_users_only_one_model_has():
    a = {"users": np.array([3, 1, 7, 9]), "ndcg@10": np.array([0.9, 0.5, 0.0, 1.0])}
    b = {"users": np.array([1, 3, 7]), "ndcg@10": np.array([0.25, 0.5, 0.5])}
    diff = np.array([0.5 - 0.25, 0.9 - 0.5, 0.0 - 0.5])  # users 1, 3, 7; user 9 only in a
    result = paired_difference(a, b, "ndcg@10")
    assert result.n_users == 3
    assert result.mean == pytest.approx(diff.mean())
    assert result.se == pytest.approx(diff.std(ddof=1) / np.sqrt(3))


def test_pool_users_averages_each_user_over_the_runs_that_scored_them():
    run1 = (
        {"users": np.array([0, 1, 2]), "ndcg@10": np.array([0.5, 0.25, 1.0])},
        {"users": np.array([0, 1, 2]), "ndcg@10": np.array([0.25, 0.25, 0.5])},
    )  # differences 0.25, 0.0, 0.5
    run2 = (
        {"users": np.array([2, 0, 5]), "ndcg@10": np.array([0.0, 0.75, 0.5])},
        {"users": np.array([0, 2, 5]), "ndcg@10": np.array([0.25, 0.5, 0.0])},
    )  # user 2: -0.5, user 0: 0.5, user 5 (only here): 0.5
    per_user = np.array([(0.25 + 0.5) / 2, 0.0, (0.5 - 0.5) / 2, 0.5])  # users 0, 1, 2, 5
    pooled = pool_users([run1, run2], "ndcg@10")
    assert pooled.n_users == 4
    assert pooled.mean == pytest.approx(per_user.mean())
    assert pooled.se == pytest.approx(per_user.std(ddof=1) / 2)


def test_pool_users_gains_no_certainty_from_repeating_a_run():
    rng = np.random.default_rng(0)
    a = {"users": np.arange(50), "hr@10": rng.random(50)}
    b = {"users": np.arange(50), "hr@10": rng.random(50)}
    once = paired_difference(a, b, "hr@10")
    thrice = pool_users([(a, b)] * 3, "hr@10")
    assert (thrice.mean, thrice.n_users) == pytest.approx((once.mean, 50))
    assert thrice.se == pytest.approx(once.se)


def test_pool_users_of_no_runs_is_nan():
    pooled = pool_users([], "ndcg@10")
    assert np.isnan(pooled.mean) and np.isnan(pooled.se) and pooled.n_users == 0

"""Paired differences of two models on the same users, against numpy references."""

from __future__ import annotations

import numpy as np
import pytest

from movierec.evaluation import PairedDifference, paired_difference, pool_runs


def test_paired_difference_pairs_by_user_and_ignores_users_only_one_model_has():
    a = {"users": np.array([3, 1, 7, 9]), "ndcg@10": np.array([0.9, 0.5, 0.0, 1.0])}
    b = {"users": np.array([1, 3, 7]), "ndcg@10": np.array([0.25, 0.5, 0.5])}
    diff = np.array([0.5 - 0.25, 0.9 - 0.5, 0.0 - 0.5])  # users 1, 3, 7; user 9 only in a
    result = paired_difference(a, b, "ndcg@10")
    assert result.n_users == 3
    assert result.mean == pytest.approx(diff.mean())
    assert result.se == pytest.approx(diff.std(ddof=1) / np.sqrt(3))


def test_pool_runs_averages_independent_seeds():
    runs = [PairedDifference(0.01, 0.003, 100), PairedDifference(0.03, 0.004, 120), PairedDifference(0.02, 0.0, 90)]
    pooled = pool_runs(runs)
    assert pooled.mean == pytest.approx(0.02)
    assert pooled.se == pytest.approx(np.sqrt(0.003**2 + 0.004**2) / 3)
    assert pooled.n_users == 310

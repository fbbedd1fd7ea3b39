"""Paired comparison of two models scored on the same test users.

Each model's NDCG@10 standard error (`ndcg@10_se`) measures how much its mean would move with
another draw of users. Two models evaluated on the *same* users move together, so the error of
their difference is smaller: the standard error of the per-user differences. That is the one
that says whether one model beats another on this test set.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np

__all__ = ["PER_USER_FILE", "PairedDifference", "paired_difference", "pool_users", "load_per_user", "standard_error"]

PER_USER_FILE = "test_per_user.npz"  # written by `movierec compare` in each model's run folder


def standard_error(values: np.ndarray) -> float:
    """`std(ddof=1) / sqrt(n)` of the non-NaN values; NaN with fewer than two."""
    values = np.asarray(values, np.float64)
    values = values[~np.isnan(values)]
    if len(values) < 2:
        return float("nan")
    return float(np.std(values, ddof=1) / np.sqrt(len(values)))


class PairedDifference(NamedTuple):
    """`a - b` per user: its mean, the standard error of that mean, and the users counted."""

    mean: float
    se: float
    n_users: int


def paired_difference(a: dict[str, np.ndarray], b: dict[str, np.ndarray], metric: str) -> PairedDifference:
    """Mean and standard error of `a[metric] - b[metric]` over the users both were scored on.

    Args:
        a, b: Per-user results of `evaluate(..., per_user=...)`: `users` and one array per metric.
        metric: e.g. "ndcg@10".

    Example:
        >>> a = {"users": np.array([0, 1, 2]), "ndcg@10": np.array([0.5, 0.2, 0.8])}
        >>> b = {"users": np.array([0, 1, 2]), "ndcg@10": np.array([0.4, 0.2, 0.5])}
        >>> d = paired_difference(a, b, "ndcg@10")
        >>> round(d.mean, 4), round(d.se, 4), d.n_users
        (0.1333, 0.0882, 3)
    """
    _, diff = _user_differences(a, b, metric)
    return PairedDifference(float(np.mean(diff)) if len(diff) else float("nan"), standard_error(diff), len(diff))


def _user_differences(a: dict[str, np.ndarray], b: dict[str, np.ndarray], metric: str) -> tuple[np.ndarray, np.ndarray]:
    """`(users, a - b)` over the users both were scored on, ascending, users with a NaN difference left out."""
    users, ia, ib = np.intersect1d(a["users"], b["users"], return_indices=True)
    diff = np.asarray(a[metric], np.float64)[ia] - np.asarray(b[metric], np.float64)[ib]
    keep = ~np.isnan(diff)
    return users[keep], diff[keep]


def pool_users(pairs: list[tuple[dict[str, np.ndarray], dict[str, np.ndarray]]], metric: str) -> PairedDifference:
    """`a - b` over several runs (seeds) of one dataset: each user's differences averaged over the runs that
    scored them, then the mean and standard error of those averages over users.

    Seeds of one dataset score the same users (user indices are the dataset's vocabulary, shared by every
    split of it), and a user's difference in one seed predicts it in the next; a temporal split even tests
    the same movies in every seed. Treating the runs as independent would divide the standard error by about
    the square root of their number without any new users behind it.

    Args:
        pairs: `(a, b)` per-user results (`users` and one array per metric) of each run.
        metric: e.g. "ndcg@10".

    Example:
        >>> a1 = {"users": np.array([0, 1, 2]), "ndcg@10": np.array([0.5, 0.2, 0.8])}
        >>> b1 = {"users": np.array([0, 1, 2]), "ndcg@10": np.array([0.4, 0.2, 0.5])}
        >>> d = pool_users([(a1, b1), (a1, b1)], "ndcg@10")  # the same run twice: no more certain than once
        >>> round(d.mean, 4), round(d.se, 4), d.n_users
        (0.1333, 0.0882, 3)
    """
    users, differences = [], []
    for a, b in pairs:
        shared, diff = _user_differences(a, b, metric)
        users.append(shared)
        differences.append(diff)
    if not users:
        return PairedDifference(float("nan"), float("nan"), 0)
    every, owner = np.unique(np.concatenate(users), return_inverse=True)
    per_user = np.bincount(owner, np.concatenate(differences), len(every)) / np.bincount(owner, minlength=len(every))
    return PairedDifference(
        float(np.mean(per_user)) if len(every) else float("nan"), standard_error(per_user), len(every)
    )


def load_per_user(run_dir: str | Path) -> dict[str, np.ndarray] | None:
    """The per-user test metrics a compare run wrote for one model, or None if it wrote none."""
    path = Path(run_dir) / PER_USER_FILE
    if not path.is_file():
        return None
    with np.load(path) as data:
        return {key: data[key] for key in data.files}

"""A fixed sample of users, for evaluation that must stay cheap on large data (per-epoch validation)."""

from __future__ import annotations

import numpy as np

from movierec.data.interactions import Interactions

__all__ = ["sample_users"]


def sample_users(data: Interactions, max_users: int, seed: int = 0) -> Interactions:
    """The rows of at most `max_users` distinct users, chosen at random once (same seed, same sample).

    Args:
        data: Interactions to thin out (e.g. the validation slice).
        max_users: Limit; 0 (or more users than `data` has) keeps every row.
        seed: Seeds the choice, so every epoch scores the same users.

    Example:
        >>> data = Interactions.from_arrays([0, 0, 1, 2], [1, 2, 0, 1], n_users=3, n_items=3)
        >>> len(sample_users(data, 0)), len(np.unique(sample_users(data, 2).users))
        (4, 2)
    """
    users = np.unique(data.users)
    if max_users <= 0 or len(users) <= max_users:
        return data
    chosen = np.random.default_rng(seed).choice(users, size=max_users, replace=False)
    return data.subset(np.isin(data.users, chosen))

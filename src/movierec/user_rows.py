"""The rows a recommender scores: user indices checked, histories as rows, how many at once, and the fallback
for a row without history. Shared by every kind through `movierec.recommender`, which re-exports them.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from movierec.errors import ConfigError, UnknownIdError

__all__ = ["SCORE_BUDGET", "users_per_batch", "check_users", "histories_to_csr", "cold_start_fallback"]

SCORE_BUDGET = 1 << 23  # scores held at once when scoring users in batches (32 MB of float32)


def users_per_batch(n_items: int, budget: int = SCORE_BUDGET) -> int:
    """How many users to score at once so a `[batch, n_items]` score block stays near `budget` values.

    Example:
        >>> users_per_batch(1682), users_per_batch(59_047)
        (4096, 142)
    """
    return int(np.clip(budget // max(n_items, 1), 1, 4096))


def check_users(users: np.ndarray, n_users: int) -> np.ndarray:
    """`users` as a `[batch]` int64 array, or UnknownIdError if an index is outside `[0, n_users)`.

    Negative indices would otherwise wrap around silently.
    """
    users = np.asarray(users)
    if len(users.reshape(-1)) and users.dtype.kind not in "iu":
        raise ConfigError(f"`users` must be integer indices. Received dtype {users.dtype}")
    users = users.astype(np.int64).reshape(-1)
    if len(users) and (users.min() < 0 or users.max() >= n_users):
        raise UnknownIdError(
            f"`users` must be indices in [0, {n_users}). Received: min {users.min()}, max {users.max()}"
        )
    return users


def histories_to_csr(histories: list[np.ndarray], n_items: int) -> sp.csr_matrix:
    """`[len(histories), n_items]` binary CSR matrix, one row per history of item indices.

    Raises:
        UnknownIdError: if an item index is outside `[0, n_items)`.
    """
    arrays = [np.asarray(h, dtype=np.int64).reshape(-1) for h in histories]
    cols = np.concatenate(arrays) if arrays else np.zeros(0, np.int64)
    if len(cols) and (cols.min() < 0 or cols.max() >= n_items):
        raise UnknownIdError(
            f"`histories` must hold item indices in [0, {n_items}). Received: min {cols.min()}, max {cols.max()}"
        )
    rows = np.repeat(np.arange(len(arrays)), [len(a) for a in arrays])
    matrix = sp.csr_matrix((np.ones(len(cols), np.float32), (rows, cols)), shape=(len(arrays), n_items))
    matrix.data[:] = 1.0  # a repeated item counts once
    return matrix


def cold_start_fallback(scores: np.ndarray, history_sizes: np.ndarray, item_counts: np.ndarray) -> np.ndarray:
    """Rows of users with no history get popularity scores instead of all-equal ones.

    A model whose scores come only from a user's history (EASE, ALS) gives a user without one
    the same score for every movie: arbitrary lists, and a perfect factorized top-k under
    TFRS's rule that ties count as hits. Most-popular is the sensible answer for them.

    Args:
        scores: `[batch, n_items]` model scores.
        history_sizes: `[batch]` number of training items of each user.
        item_counts: `[n_items]` training interactions per item.

    Returns:
        `[batch, n_items]` float32, rows with `history_sizes == 0` replaced.
    """
    scores = np.asarray(scores, dtype=np.float32)
    cold = np.asarray(history_sizes) == 0
    if cold.any():
        scores = scores.copy()
        scores[cold] = item_counts.astype(np.float32) / max(1.0, float(item_counts.max()))
    return scores

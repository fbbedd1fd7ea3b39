"""Each user's movies in time order: their latest rows, and which movies follow which.

Rows are ordered by `Interactions.time_order` (by user, then timestamp; ties keep row order), the order
the sequential kind trains on. Pure numpy and scipy: the order check (`movierec.order`), the Markov
kind (`movierec.baselines.markov`) and the TFRS kinds read the same sequences.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from movierec.data.interactions import Interactions

__all__ = ["latest_rows", "transition_matrix", "context_matrix"]


def latest_rows(data: Interactions, length: int) -> Interactions:
    """Each user's last `length` rows by time (`Interactions.time_order`: ties keep row order), in that order."""
    order = data.time_order()
    users = data.users[order]
    rank_from_end = np.searchsorted(users, users, side="right") - np.arange(len(users))  # 1 = the latest
    return data.subset(order[rank_from_end <= length])


def transition_matrix(data: Interactions, window: int) -> sp.csr_matrix:
    """`[n_items, n_items]` float64 `T`: how often each movie followed each other one, rows summing to 1.

    `T[a, b]` sums `1/d` over every time a user watched `b` exactly `d <= window` movies after `a`, then
    each row is divided by its sum (a movie never followed by another keeps a zero row).

    Example:
        >>> data = Interactions.from_arrays([0, 0, 0], [2, 0, 1], timestamps=[1, 2, 3], n_users=1, n_items=3)
        >>> transition_matrix(data, window=2).toarray().round(4).tolist()
        [[0.0, 1.0, 0.0], [0.0, 0.0, 0.0], [0.6667, 0.3333, 0.0]]
    """
    order = data.time_order()
    owner, items = data.users[order], data.items[order].astype(np.int64)
    n = data.n_items
    transitions = sp.csr_matrix((n, n), dtype=np.float64)
    for gap in range(1, window + 1):
        same = owner[gap:] == owner[:-gap]
        step = sp.csr_matrix(
            (np.full(int(same.sum()), 1.0 / gap), (items[:-gap][same], items[gap:][same])), shape=(n, n)
        )
        transitions = transitions + step
    totals = np.asarray(transitions.sum(axis=1)).ravel()
    return (sp.diags(1.0 / np.maximum(totals, 1e-12)) @ transitions).tocsr()


def context_matrix(sequences: list[np.ndarray], context: int, n_items: int) -> sp.csr_matrix:
    """`[len(sequences), n_items]`: weight `1/j` on each sequence's `j`-th latest movie, for `j <= context`.

    Each sequence lists item indices oldest first; a movie among the latest `context` more than once
    adds its weights. `context_matrix(...) @ T` scores what follows a user's latest movies.

    Example:
        >>> context_matrix([np.array([0, 1, 2]), np.array([], np.int64)], context=2, n_items=3).toarray().tolist()
        [[0.0, 0.5, 1.0], [0.0, 0.0, 0.0]]
    """
    rows, cols, weights = [], [], []
    for row, sequence in enumerate(sequences):
        latest = np.asarray(sequence, np.int64)[::-1][:context]
        rows.append(np.full(len(latest), row))
        cols.append(latest)
        weights.append(1.0 / np.arange(1, len(latest) + 1))
    if not rows:
        return sp.csr_matrix((0, n_items), dtype=np.float64)
    return sp.csr_matrix(
        (np.concatenate(weights), (np.concatenate(rows), np.concatenate(cols))), shape=(len(sequences), n_items)
    )

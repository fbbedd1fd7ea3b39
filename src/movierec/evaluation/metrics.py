"""Retrieval metrics as plain numpy functions, each with its exact definition.

Two families:

* Factorized top-k accuracy (TFRS `FactorizedTopK`): ranks the positive item of
  every test interaction against *all* items, seen ones included, from raw
  scores. One value per test interaction (row).
* Top-k list metrics (Recall, NDCG, hit rate, MRR, coverage, popularity): computed
  from recommendation lists in which the caller has already removed the items a
  user saw in training (scores masked to -inf before `top_k`). One value per user,
  so that the caller can report a standard error over users.

Item `-1` in a top-k list marks padding (fewer allowed items than k) and never
counts as relevant, covered or popular.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TypeAlias

import numpy as np
import scipy.sparse as sp

from movierec._checks import check_k, check_ks
from movierec.errors import ConfigError

__all__ = [
    "positive_ranks",
    "factorized_top_k_accuracy",
    "accuracy_from_ranks",
    "recall_at_k",
    "ndcg_at_k",
    "hit_rate_at_k",
    "mrr",
    "coverage_at_k",
    "mean_popularity_at_k",
]

Relevant: TypeAlias = sp.spmatrix | sp.sparray | Sequence[Iterable[int]]

_COMPARE_BUDGET = 1 << 22  # score comparisons per block of `positive_ranks` (~4 MB of bools)


# ----------------------------------------------------------------------------- factorized top-k


def positive_ranks(scores: np.ndarray, positives: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
    """Zero-based rank of each positive item: items scored strictly higher.

    `rank[r] = #{j : scores[rows[r], j] > scores[rows[r], positives[r]]}`. Ties do not push
    the positive down (TFRS / `tf.math.in_top_k` semantics). A NaN positive score gets
    rank `n_items` (never a hit), as `in_top_k` returns False on non-finite targets.
    Computed in blocks of about `_COMPARE_BUDGET` comparisons, so memory stays small
    however many positives share a score row.

    Args:
        scores: `[n_score_rows, n_items]` scores, higher is better.
        positives: `[n]` item index of each positive.
        rows: `[n]` score row of each positive; None means one row per positive, in order.

    Returns:
        `[n]` int64 ranks in `[0, n_items]`.
    """
    scores = np.asarray(scores)
    positives = np.asarray(positives, dtype=np.int64).reshape(-1)
    if rows is None:
        if scores.ndim != 2 or scores.shape[0] != len(positives):
            raise ConfigError(
                "`scores` should be [n_rows, n_items] with one row per positive. "
                f"Received: `scores.shape` = {scores.shape}, `len(positives)` = {len(positives)}"
            )
        rows = np.arange(len(positives))
    rows = np.asarray(rows, dtype=np.int64).reshape(-1)
    if scores.ndim != 2 or len(rows) != len(positives):
        raise ConfigError(
            f"`rows` and `positives` should be [n] over a [n_rows, n_items] `scores`. Received: "
            f"`scores.shape` = {scores.shape}, {len(rows)} rows, {len(positives)} positives"
        )
    if len(positives) and (positives.min() < 0 or positives.max() >= scores.shape[1]):
        raise ConfigError(
            f"`positives` must be item indices in [0, {scores.shape[1]}). "
            f"Received: min {positives.min()}, max {positives.max()}"
        )
    ranks = np.empty(len(positives), dtype=np.int64)
    step = max(1, _COMPARE_BUDGET // max(scores.shape[1], 1))
    for start in range(0, len(positives), step):
        block_rows = rows[start : start + step]
        target = scores[block_rows, positives[start : start + step]]
        block = (scores[block_rows] > target[:, None]).sum(axis=1)
        block[np.isnan(target)] = scores.shape[1]
        ranks[start : start + step] = block
    return ranks


def accuracy_from_ranks(ranks: np.ndarray, ks: Iterable[int]) -> dict[int, float]:
    """Share of rows whose positive rank is below k: `mean(rank < k)` for each k.

    Args:
        ranks: `[n_rows]` ranks from `positive_ranks`.
        ks: Cut-offs, positive integers.

    Returns:
        `{k: accuracy}`; NaN for every k when `ranks` is empty.
    """
    ks = check_ks(ks)
    ranks = np.asarray(ranks).reshape(-1)
    if len(ranks) == 0:
        return {k: float("nan") for k in ks}
    return {k: float(np.mean(ranks < k)) for k in ks}


def factorized_top_k_accuracy(scores: np.ndarray, positives: np.ndarray, ks: Iterable[int]) -> dict[int, float]:
    """TFRS factorized top-k categorical accuracy.

    A row (one test interaction `(u, i)`) is a hit at k iff fewer than k items, out
    of all items (seen items included, nothing masked), score strictly higher than
    `scores[u, i]`. The result averages hits over rows, so heavy users weigh more.

    Args:
        scores: `[n_rows, n_items]` scores of each row's user.
        positives: `[n_rows]` the item of each row.
        ks: Cut-offs, positive integers.

    Returns:
        `{k: accuracy in [0, 1]}`.

    Example:
        >>> factorized_top_k_accuracy(np.array([[0.1, 0.9, 0.5]]), np.array([2]), (1, 2))
        {1: 0.0, 2: 1.0}
    """
    return accuracy_from_ranks(positive_ranks(scores, positives), ks)


# ----------------------------------------------------------------------------- top-k list metrics


def recall_at_k(top_items: np.ndarray, relevant: Relevant, k: int) -> np.ndarray:
    """Plain recall: `|top-k ∩ relevant| / |relevant|` per user (not capped at k).

    A user with more than k relevant items cannot reach 1. Rows with no relevant
    item are NaN.

    Args:
        top_items: `[n_users, K]` item indices, best first, seen items already removed.
        relevant: `[n_users, n_items]` sparse matrix (non-zero = relevant), or one
            iterable of item indices per row.
        k: Cut-off; a list shorter than k is used whole.

    Returns:
        `[n_users]` float64.
    """
    hits, n_relevant = _hits(top_items, relevant, k)
    return _per_relevant(hits.sum(axis=1), n_relevant)


def ndcg_at_k(top_items: np.ndarray, relevant: Relevant, k: int) -> np.ndarray:
    """NDCG with binary gains and a log2 discount, per user.

    `DCG = sum_{j=1..k} rel_j / log2(j + 1)`; the ideal DCG places
    `min(k, |relevant|)` relevant items first. Rows with no relevant item are NaN.

    Args:
        top_items: `[n_users, K]` item indices, best first, seen items already removed.
        relevant: `[n_users, n_items]` sparse matrix or one iterable of items per row.
        k: Cut-off; a list shorter than k is used whole.

    Returns:
        `[n_users]` float64 in [0, 1].
    """
    hits, n_relevant = _hits(top_items, relevant, k)
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = hits.astype(np.float64) @ discounts[: hits.shape[1]]
    ideal_cumulative = np.concatenate([[0.0], np.cumsum(discounts)])
    idcg = ideal_cumulative[np.minimum(n_relevant, k)]
    return _per_relevant(dcg, n_relevant, denominator=idcg)


def hit_rate_at_k(top_items: np.ndarray, relevant: Relevant, k: int) -> np.ndarray:
    """1.0 if any of the top-k items is relevant, else 0.0, per user (NaN: no relevant item).

    Args:
        top_items: `[n_users, K]` item indices, best first, seen items already removed.
        relevant: `[n_users, n_items]` sparse matrix or one iterable of items per row.
        k: Cut-off; a list shorter than k is used whole.

    Returns:
        `[n_users]` float64.
    """
    hits, n_relevant = _hits(top_items, relevant, k)
    return _per_relevant(np.asarray(hits.any(axis=1), dtype=np.float64), n_relevant, denominator=np.ones(len(hits)))


def mrr(top_items: np.ndarray, relevant: Relevant, k: int | None = None) -> np.ndarray:
    """Reciprocal rank of the first relevant item in the list, per user.

    `1 / (1-based position of the first relevant item)` within the first k items (the
    whole list when k is None), 0.0 if none is relevant; NaN for rows with no relevant item.

    Args:
        top_items: `[n_users, K]` item indices, best first, seen items already removed.
        relevant: `[n_users, n_items]` sparse matrix or one iterable of items per row.
        k: Optional cut-off.

    Returns:
        `[n_users]` float64.
    """
    top_items = np.asarray(top_items)
    hits, n_relevant = _hits(top_items, relevant, top_items.shape[1] if k is None else k)
    first = np.argmax(hits, axis=1)
    reciprocal = np.where(hits.any(axis=1), 1.0 / (first + 1.0), 0.0)
    return _per_relevant(reciprocal, n_relevant, denominator=np.ones(len(hits)))


def coverage_at_k(top_items: np.ndarray, n_items: int, k: int) -> float:
    """Catalogue coverage: share of the `n_items` items that appear in any top-k list.

    Args:
        top_items: `[n_users, K]` item indices (-1 = padding).
        n_items: Size of the catalogue.
        k: Cut-off.

    Returns:
        A fraction in [0, 1].
    """
    check_k(k)
    if not isinstance(n_items, (int, np.integer)) or n_items <= 0:
        raise ConfigError(f"`n_items` should be a positive integer. Received: `n_items` = {n_items!r}")
    shown = np.unique(np.asarray(top_items)[:, :k])
    return float(np.count_nonzero(shown >= 0) / n_items)


def mean_popularity_at_k(top_items: np.ndarray, item_counts: np.ndarray, k: int) -> np.ndarray:
    """Mean training-interaction count of the top-k recommended items, per user.

    Args:
        top_items: `[n_users, K]` item indices (-1 = padding, ignored).
        item_counts: `[n_items]` training interactions per item.
        k: Cut-off.

    Returns:
        `[n_users]` float64; NaN for a row that holds padding only.
    """
    check_k(k)
    top = np.asarray(top_items)[:, :k]
    counts = np.asarray(item_counts, dtype=np.float64)
    valid = top >= 0
    total = np.where(valid, counts[np.where(valid, top, 0)], 0.0).sum(axis=1)
    n_valid = valid.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n_valid > 0, total / np.maximum(n_valid, 1), np.nan)


# ----------------------------------------------------------------------------- helpers


def _hits(top_items: np.ndarray, relevant: Relevant, k: int) -> tuple[np.ndarray, np.ndarray]:
    """`([n_users, min(k, K)] bool hit matrix, [n_users] int number of relevant items)`."""
    check_k(k)
    top = np.asarray(top_items)
    if top.ndim != 2:
        raise ConfigError(f"`top_items` should be [n_users, K]. Received: shape {top.shape}")
    top = top[:, :k].astype(np.int64)
    matrix = _as_csr(relevant, n_rows=top.shape[0], min_cols=int(top.max(initial=-1)) + 1)
    if matrix.shape[0] != top.shape[0]:
        raise ConfigError(
            f"`relevant` needs one row per row of `top_items`. Received: {matrix.shape[0]} rows "
            f"for {top.shape[0]} lists"
        )
    valid = (top >= 0) & (top < matrix.shape[1])
    rows = np.repeat(np.arange(top.shape[0]), top.shape[1]).reshape(top.shape)
    hits = np.zeros(top.shape, dtype=bool)
    if valid.any():
        hits[valid] = np.asarray(matrix[rows[valid], top[valid]]).reshape(-1) != 0
    n_relevant = np.diff(matrix.indptr)
    return hits, n_relevant


def _as_csr(relevant: Relevant, n_rows: int, min_cols: int) -> sp.csr_matrix:
    """Sparse relevance matrix with explicit zeros dropped and duplicates merged."""
    if sp.issparse(relevant):
        matrix = sp.csr_matrix(relevant, copy=True)
    else:
        sets = [np.unique(np.fromiter(row, dtype=np.int64)) for row in relevant]
        lengths = [len(s) for s in sets]
        cols = np.concatenate(sets) if sets else np.zeros(0, np.int64)
        if len(cols) and cols.min() < 0:
            raise ConfigError(f"`relevant` holds a negative item index. Received: {cols.min()}")
        n_cols = max(min_cols, int(cols.max(initial=-1)) + 1, 1)
        rows = np.repeat(np.arange(len(sets)), lengths)
        matrix = sp.csr_matrix((np.ones(len(cols)), (rows, cols)), shape=(len(sets), n_cols))
    matrix.sum_duplicates()
    matrix.eliminate_zeros()
    return matrix


def _per_relevant(numerator: np.ndarray, n_relevant: np.ndarray, denominator: np.ndarray | None = None) -> np.ndarray:
    """`numerator / denominator` (default `n_relevant`), NaN where a row has no relevant item."""
    denominator = n_relevant if denominator is None else denominator
    out = np.full(len(n_relevant), np.nan)
    has = n_relevant > 0
    out[has] = np.asarray(numerator, dtype=np.float64)[has] / np.asarray(denominator, dtype=np.float64)[has]
    return out

"""EASE: an item-item linear autoencoder with a closed-form solution (Steck, WWW 2019).

    G = XᵀX + λI,   P = G⁻¹,   B_ij = -P_ij / P_jj,   B_jj = 0,   scores = X_u B

`X` is the binary `[n_users, n_items]` training matrix. The zero diagonal stops an
item from recommending itself. Often the strongest baseline on MovieLens.

On a large catalogue the dense inverse is fitted on the `max_items` most-rated movies only
(as the EASE paper did for ML-20M); the other movies are never scored by `B` and rank after
every fitted one, by popularity. The cut is logged and recorded in the config.

Explanations are exact: `score(i) = sum_j B[j, i]` over the user's history j, so movie j
contributes `B[j, i]` (movies outside the fitted cut contribute nothing).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy.linalg import lapack
from threadpoolctl import threadpool_limits

from movierec._checks import check_k
from movierec.config import EaseConfig
from movierec.data.interactions import Interactions
from movierec.errors import ConfigError
from movierec.explanation import Method
from movierec.ranking import top_k
from movierec.recommender import FitOptions, Recommender, check_users, cold_start_fallback, histories_to_csr

__all__ = ["EaseRecommender", "ease_weights", "MAX_EASE_ITEMS"]

logger = logging.getLogger(__name__)

MAX_EASE_ITEMS = 30_000  # a hard stop: G in float64 plus B in float32 need about 11 GB at 30,000 items
_UNFITTED_OFFSET = -1e6  # score of movies outside the fitted cut, below any `X_u B` value (plus popularity)


def ease_weights(matrix: sp.csr_matrix, l2: float) -> np.ndarray:
    """EASE item-item weights `B` from a `[n_users, n_items]` interaction matrix.

    Args:
        matrix: Binary (or weighted) `[n_users, n_items]` sparse matrix.
        l2: Ridge penalty λ > 0.

    Returns:
        `[n_items, n_items]` float32 `B` with a zero diagonal.
    """
    n_items = matrix.shape[1]
    if n_items > MAX_EASE_ITEMS:
        gigabytes = 1.5 * n_items**2 * 8 / 1e9  # G (inverted in place) in float64, B in float32
        raise ConfigError(
            f"EASE's dense item x item matrix would need about {gigabytes:.0f} GB for {n_items} items "
            f"(limit {MAX_EASE_ITEMS}); lower ease.max_items"
        )
    gram = _gram(matrix)
    gram[np.diag_indices(n_items)] += l2
    precision = _inverse_in_place(gram)  # gram's memory now holds P
    precision /= -np.diag(precision)[None, :]  # in place: B = -P / diag(P)
    precision[np.diag_indices(n_items)] = 0.0
    return precision.astype(np.float32, order="C")


def _gram(matrix: sp.spmatrix, block: int = 2048) -> np.ndarray:
    """Dense float64 `XᵀX`, a block of columns at a time (the sparse product of all of it at once
    holds every co-occurrence as a sparse entry: about 10 GB at ML-25M's 20,000 most-rated movies)."""
    n_items = matrix.shape[1]
    columns = sp.csc_matrix(matrix, dtype=np.float64)
    transposed = columns.T.tocsr()
    gram = np.empty((n_items, n_items), np.float64)
    for start in range(0, n_items, block):
        stop = min(start + block, n_items)
        gram[:, start:stop] = (transposed @ columns[:, start:stop]).toarray()
    return gram


def _inverse_in_place(gram: np.ndarray, block: int = 2048) -> np.ndarray:
    """The inverse of a symmetric positive definite matrix, overwriting it (Cholesky: LAPACK potrf + potri).

    Half the arithmetic of a general inverse and no second n x n array: `np.linalg.inv` needs
    two more copies (its LU work array and its result), 6.4 GB more at 20,000 movies.
    """
    # LAPACK works on Fortran order: the transpose of a C-ordered symmetric matrix is the same matrix
    # in Fortran order, so the routines can overwrite it instead of copying it.
    fortran = gram.T
    # One thread for the factorisation: OpenBLAS' threaded potrf (0.3.30 in scipy's wheel, 0.3.31 in
    # numpy's) crashed with a segmentation fault at 16,000 and 20,000 movies on a 2-core AVX-512 (Zen 4)
    # machine, while 12,000 passed; single-threaded it passes (20,000: 50 s, against about 26 s). potri
    # stays threaded (20,000: 50 s, no crash).
    with threadpool_limits(1, user_api="blas"):
        factor, info = lapack.dpotrf(fortran, lower=False, clean=False, overwrite_a=True)
    if info != 0:
        raise ValueError(f"EASE: the regularised Gram matrix is not positive definite (LAPACK potrf info {info})")
    inverse, info = lapack.dpotri(factor, lower=False, overwrite_c=True)
    if info != 0:
        raise ValueError(f"EASE: the regularised Gram matrix is singular (LAPACK potri info {info})")
    # potri fills the upper triangle only: mirror it, a block of rows at a time
    n = inverse.shape[0]
    for start in range(0, n, block):
        stop = min(start + block, n)
        inverse[start:stop, :start] = inverse[:start, start:stop].T
        square = inverse[start:stop, start:stop]
        lower = np.tril_indices(stop - start, -1)
        square[lower] = square.T[lower]
    return inverse


class EaseRecommender(Recommender):
    """EASE over binary implicit feedback; scores a user from their training items.

    Example:
        >>> train = Interactions.from_arrays([0, 0, 1], [0, 1, 0], n_users=2, n_items=2)
        >>> rec = EaseRecommender(EaseConfig(l2=1.0)).fit(train)
        >>> rec.recommend(np.array([1]), k=1)[0].tolist()
        [[1]]
    """

    kind = "ease"

    def __init__(self, config: EaseConfig | None = None) -> None:
        super().__init__(config if config is not None else EaseConfig())
        self.weights = np.zeros((0, 0), np.float32)  # [n_fitted, n_fitted] B over the fitted movies
        self.fitted_items = np.zeros(0, np.int64)  # [n_fitted] item indices B covers (all, or the most-rated)
        self.item_counts = np.zeros(0, np.int64)  # [n_items] training interactions (cold-start fallback)

    def _fit(self, data: Interactions, options: FitOptions) -> None:
        """Solves for `B` in closed form on binary `data` (validation and features are ignored)."""
        self.item_counts = self.seen.getnnz(axis=0).astype(np.int64)
        self.fitted_items = _most_rated(self.item_counts, self.config.max_items)
        if len(self.fitted_items) < self.n_items:
            logger.info(
                "EASE: fitting the %d most-rated of %d movies (ease.max_items); the rest rank last by popularity",
                len(self.fitted_items), self.n_items,
            )  # fmt: skip
        self.weights = ease_weights(self.seen[:, self.fitted_items], self.config.l2)
        logger.debug("EASE fitted: %d items, l2=%s", len(self.fitted_items), self.config.l2)

    def _learned_arrays(self) -> dict[str, np.ndarray]:
        return {"weights": self.weights}

    def score(self, users: np.ndarray) -> np.ndarray:
        """`[batch, n_items]` float32 `X_u B` for the `[batch]` users' training rows."""
        self._check_fitted()
        return self._score_rows(self.seen[check_users(users, self.n_users)])

    def score_history(self, histories: list[np.ndarray]) -> np.ndarray:
        """`[len(histories), n_items]` float32: binary history row times `B`."""
        self._check_fitted()
        return self._score_rows(histories_to_csr(histories, self.n_items))

    def _score_rows(self, rows: sp.csr_matrix) -> np.ndarray:
        fitted = np.asarray(rows[:, self.fitted_items] @ self.weights, dtype=np.float32)
        if len(self.fitted_items) == self.n_items:
            scores = fitted
        else:
            scores = np.empty((rows.shape[0], self.n_items), np.float32)
            scores[:] = _UNFITTED_OFFSET + self.item_counts / max(1.0, float(self.item_counts.max()))
            scores[:, self.fitted_items] = fitted
        return cold_start_fallback(scores, rows.getnnz(axis=1), self.item_counts)

    @property
    def explanation_method(self) -> Method:
        return "exact"

    def _contributions(
        self, histories: list[np.ndarray], items: np.ndarray, users: np.ndarray | None
    ) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray]:
        """`B[j, i]` for each history movie j and item i: the terms of `X_u B`, exactly."""
        position = np.full(self.n_items, -1, np.int64)  # item index -> row of B (-1: outside the fitted cut)
        position[self.fitted_items] = np.arange(len(self.fitted_items))
        distinct, values = [], []
        for history, row_items in zip(histories, items):
            history = np.unique(history)
            rows, cols = position[history], position[np.maximum(row_items, 0)]
            cols[row_items < 0] = -1
            block = np.zeros((len(row_items), len(history)), np.float32)
            fitted_rows, fitted_cols = rows >= 0, cols >= 0
            block[np.ix_(fitted_cols, fitted_rows)] = self.weights[np.ix_(rows[fitted_rows], cols[fitted_cols])].T
            distinct.append(history)
            values.append(block)
        popular = np.array([len(h) == 0 for h in distinct], bool)  # `cold_start_fallback`'s rows
        return distinct, values, popular

    def similar_items(self, items: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Items `j` with the largest weight `B_ij`: what a user with item `i` alone would be shown."""
        self._check_fitted()
        items = self._check_items(items)
        rows = sp.csr_matrix(
            (np.ones(len(items), np.float32), (np.arange(len(items)), items)), shape=(len(items), self.n_items)
        )
        scores = self._score_rows(rows)
        scores[np.arange(len(items)), items] = -np.inf
        return top_k(scores, check_k(k))

    def _save_state(self, directory: Path) -> None:
        np.savez(directory / "ease.npz", weights=self.weights, fitted_items=self.fitted_items)

    def _load_state(self, directory: Path) -> None:
        with np.load(directory / "ease.npz", allow_pickle=False) as state:
            self.weights = state["weights"]
            self.fitted_items = state["fitted_items"]
        self.item_counts = self.seen.getnnz(axis=0).astype(np.int64)


def _most_rated(counts: np.ndarray, limit: int) -> np.ndarray:
    """`[min(limit, n)]` sorted indices of the most-rated items (ties: lower index first)."""
    if len(counts) <= limit:
        return np.arange(len(counts), dtype=np.int64)
    order = np.lexsort((np.arange(len(counts)), -counts))
    return np.sort(order[:limit]).astype(np.int64)

"""Implicit-feedback matrix factorisation by alternating least squares.

Hu, Koren & Volinsky (ICDM 2008), with binary preferences `p_ui = r_ui` and
confidences `c_ui = 1 + alpha * r_ui`, minimises

    L = sum_{u,i} c_ui (p_ui - x_uᵀ y_i)² + λ (sum_u |x_u|² + sum_i |y_i|²)

over all (user, item) pairs. With the items `Y` fixed, each user has the exact
solution `x_u = (YᵀY + Yᵀ(C_u - I)Y + λI)⁻¹ Yᵀ C_u p_u`; `YᵀY` is shared and
`Yᵀ(C_u - I)Y = alpha * Y_uᵀ Y_u` only touches the user's own items, so a sweep
costs `O(nnz f² + n f³)`. Items are solved the same way from the users.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from movierec.config import AlsConfig
from movierec.data.interactions import Interactions
from movierec.recommender import FitOptions, Recommender, check_users, cold_start_fallback, histories_to_csr

__all__ = ["AlsRecommender", "als_solve", "als_loss"]

logger = logging.getLogger(__name__)

_SOLVE_CHUNK = 512  # rows whose [f, f] systems are stacked into one batched solve


def als_solve(matrix: sp.csr_matrix, fixed: np.ndarray, alpha: float, regularization: float) -> np.ndarray:
    """Exact least-squares factors for every row of `matrix`, the other side held fixed.

    Args:
        matrix: `[n_rows, n_other]` binary CSR; non-zero = observed.
        fixed: `[n_other, f]` factors of the other side.
        alpha: Confidence slope.
        regularization: λ.

    Returns:
        `[n_rows, f]` float64 solutions of `(FᵀF + alpha F_rᵀF_r + λI) x = (1 + alpha) F_rᵀ 1`.
    """
    fixed = np.asarray(fixed, dtype=np.float64)
    n_rows, factors = matrix.shape[0], fixed.shape[1]
    base = fixed.T @ fixed + regularization * np.eye(factors)
    rhs = (1.0 + alpha) * np.asarray(matrix @ fixed)
    out = np.empty((n_rows, factors))
    indptr, indices = matrix.indptr, matrix.indices
    for start in range(0, n_rows, _SOLVE_CHUNK):
        stop = min(start + _SOLVE_CHUNK, n_rows)
        systems = np.broadcast_to(base, (stop - start, factors, factors)).copy()
        for j, row in enumerate(range(start, stop)):
            sub = fixed[indices[indptr[row] : indptr[row + 1]]]
            systems[j] += alpha * (sub.T @ sub)
        out[start:stop] = np.linalg.solve(systems, rhs[start:stop, :, None])[..., 0]
    return out


def als_loss(
    matrix: sp.csr_matrix, user_factors: np.ndarray, item_factors: np.ndarray, alpha: float, regularization: float
) -> float:
    """The weighted loss `L` of the module docstring, summed over all user x item pairs.

    Uses `sum_{u,i} s_ui² = sum((UᵀU) * (VᵀV))` so the dense score matrix is never built.
    """
    coo = matrix.tocoo()
    observed = np.einsum("nf,nf->n", user_factors[coo.row], item_factors[coo.col])
    all_squared = float(np.sum((user_factors.T @ user_factors) * (item_factors.T @ item_factors)))
    correction = float(np.sum((1.0 + alpha) * (1.0 - observed) ** 2 - observed**2))
    penalty = regularization * float(np.sum(user_factors**2) + np.sum(item_factors**2))
    return all_squared + correction + penalty


class AlsRecommender(Recommender):
    """Implicit ALS; `score = U Vᵀ`, `item_embeddings = V`.

    Example:
        >>> train = Interactions.from_arrays([0, 0, 1], [0, 1, 0], n_users=2, n_items=3)
        >>> rec = AlsRecommender(AlsConfig(factors=2, iterations=5)).fit(train)
        >>> rec.score(np.array([0, 1])).shape
        (2, 3)
    """

    kind = "als"

    def __init__(self, config: AlsConfig | None = None) -> None:
        super().__init__(config if config is not None else AlsConfig())
        self.user_factors = np.zeros((0, 0), np.float32)  # [n_users, f]
        self.item_factors = np.zeros((0, 0), np.float32)  # [n_items, f]
        self.loss_history: list[float] = []  # training loss after each sweep (not saved)
        self.user_counts = np.zeros(0, np.int64)  # [n_users] training items per user (cold-start fallback)
        self.item_counts = np.zeros(0, np.int64)  # [n_items] training interactions per item

    def _fit(self, data: Interactions, options: FitOptions) -> None:
        """Alternates exact item and user solves on binary `data` (validation and features are ignored)."""
        cfg = self.config
        matrix = self.seen
        transposed = matrix.T.tocsr()
        rng = np.random.default_rng(cfg.seed)
        users = rng.normal(0.0, 0.01, size=(self.n_users, cfg.factors))
        items = np.zeros((self.n_items, cfg.factors))
        self.loss_history = []
        for sweep in range(cfg.iterations):
            # users last, so that each user vector is optimal for the final items (score_history agrees)
            items = als_solve(transposed, users, cfg.alpha, cfg.regularization)
            users = als_solve(matrix, items, cfg.alpha, cfg.regularization)
            self.loss_history.append(als_loss(matrix, users, items, cfg.alpha, cfg.regularization))
            logger.debug("ALS sweep %d/%d: loss %.4f", sweep + 1, cfg.iterations, self.loss_history[-1])
        self.user_factors = users.astype(np.float32)
        self.item_factors = items.astype(np.float32)
        self.user_counts = matrix.getnnz(axis=1).astype(np.int64)
        self.item_counts = matrix.getnnz(axis=0).astype(np.int64)

    def _learned_arrays(self) -> dict[str, np.ndarray]:
        return {"user_factors": self.user_factors, "item_factors": self.item_factors}

    def score(self, users: np.ndarray) -> np.ndarray:
        """`[batch, n_items]` float32 dot products of the `[batch]` users with every item."""
        self._check_fitted()
        users = check_users(users, self.n_users)
        return cold_start_fallback(
            self.user_factors[users] @ self.item_factors.T, self.user_counts[users], self.item_counts
        )

    def score_history(self, histories: list[np.ndarray]) -> np.ndarray:
        """`[len(histories), n_items]` float32: solves each new user's vector with the items fixed."""
        self._check_fitted()
        cfg = self.config
        rows = histories_to_csr(histories, self.n_items)
        vectors = als_solve(rows, self.item_factors, cfg.alpha, cfg.regularization)
        return cold_start_fallback(
            vectors.astype(np.float32) @ self.item_factors.T, rows.getnnz(axis=1), self.item_counts
        )

    def item_embeddings(self) -> np.ndarray | None:
        """`[n_items, f]` item factors."""
        self._check_fitted()
        return self.item_factors

    def _save_state(self, directory: Path) -> None:
        np.savez(directory / "als.npz", user_factors=self.user_factors, item_factors=self.item_factors)

    def _load_state(self, directory: Path) -> None:
        with np.load(directory / "als.npz", allow_pickle=False) as state:
            self.user_factors = state["user_factors"]
            self.item_factors = state["item_factors"]
        self.user_counts = self.seen.getnnz(axis=1).astype(np.int64)
        self.item_counts = self.seen.getnnz(axis=0).astype(np.int64)

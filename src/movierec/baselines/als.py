"""Implicit-feedback matrix factorisation by alternating least squares.

Hu, Koren & Volinsky (ICDM 2008), with binary preferences `p_ui = r_ui` and
confidences `c_ui = 1 + alpha * r_ui`, minimises

    L = sum_{u,i} c_ui (p_ui - x_uᵀ y_i)² + λ (sum_u |x_u|² + sum_i |y_i|²)

over all (user, item) pairs. With the items `Y` fixed, each user has the exact
solution `x_u = (YᵀY + Yᵀ(C_u - I)Y + λI)⁻¹ Yᵀ C_u p_u`; `YᵀY` is shared and
`Yᵀ(C_u - I)Y = alpha * Y_uᵀ Y_u` only touches the user's own items, so a sweep
costs `O(nnz f² + n f³)`. Items are solved the same way from the users.

Fitting uses the `implicit` library's multi-threaded conjugate-gradient solver (Takács et
al., RecSys 2011) for the sweeps: same loss, about 30x faster than exact numpy solves on
MovieLens 100k and the only practical choice at 25M ratings. `implicit` reads a stored value
as the full confidence `c_ui`, so it is given `1 + alpha`. A final exact user solve
(`als_solve`) makes each user vector optimal for the final items, so a new user's history
(`score_history`, solved the same way) gives exactly the scores a training user would get.

That solve is linear in the history, so a score splits exactly into one term per history movie
(`explain`): with `A_u = YᵀY + alpha Y_uᵀY_u + λI`, `x_u = A_u⁻¹ (1 + alpha) sum_j y_j` and
`score(i) = sum_j (1 + alpha) y_iᵀ A_u⁻¹ y_j`, the decomposition implicit's `explain` computes.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from implicit.cpu.als import AlternatingLeastSquares
from threadpoolctl import threadpool_limits

from movierec.config import AlsConfig
from movierec.data.interactions import Interactions
from movierec.explanation import Method
from movierec.recommender import FitOptions, Recommender, check_users, cold_start_fallback, histories_to_csr

__all__ = ["AlsRecommender", "als_solve", "als_loss"]

logger = logging.getLogger(__name__)

_LOSS_CHUNK = 1 << 20  # observed pairs scored at once by `als_loss`
_SOLVE_CHUNK = 512  # rows whose [f, f] systems are stacked into one batched solve


def als_solve(
    matrix: sp.csr_matrix, fixed: np.ndarray, alpha: float, regularization: float, base: np.ndarray | None = None
) -> np.ndarray:
    """Exact least-squares factors for every row of `matrix`, the other side held fixed.

    Args:
        matrix: `[n_rows, n_other]` binary CSR; non-zero = observed.
        fixed: `[n_other, f]` factors of the other side.
        alpha: Confidence slope.
        regularization: λ.
        base: `FᵀF + λI` (float64) when already known: a served model computes it once, not per request.

    Returns:
        `[n_rows, f]` float64 solutions of `(FᵀF + alpha F_rᵀF_r + λI) x = (1 + alpha) F_rᵀ 1`.
    """
    fixed = np.asarray(fixed, dtype=np.float64)
    n_rows, factors = matrix.shape[0], fixed.shape[1]
    if base is None:
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
    observed = np.empty(coo.nnz)
    for start in range(0, coo.nnz, _LOSS_CHUNK):  # chunks: a [nnz, f] gather would need gigabytes at 10M+
        rows, cols = coo.row[start : start + _LOSS_CHUNK], coo.col[start : start + _LOSS_CHUNK]
        observed[start : start + _LOSS_CHUNK] = np.einsum("nf,nf->n", user_factors[rows], item_factors[cols])
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
        self.loss_history: list[float] = []  # loss after each sweep, then after the final user solve (not saved)
        self.user_counts = np.zeros(0, np.int64)  # [n_users] training items per user (cold-start fallback)
        self.item_counts = np.zeros(0, np.int64)  # [n_items] training interactions per item
        self._solver: tuple[np.ndarray, np.ndarray] | None = None  # float64 item factors and FᵀF + λI

    def _fit(self, data: Interactions, options: FitOptions) -> None:
        """Conjugate-gradient sweeps (`implicit`), then one exact user solve, on binary `data`."""
        cfg = self.config
        matrix = self.seen
        # implicit runs one thread per core; BLAS threads inside each would oversubscribe the CPU.
        blas = threadpool_limits(1, "blas")
        model = AlternatingLeastSquares(
            factors=cfg.factors,
            regularization=cfg.regularization,
            alpha=1.0 + cfg.alpha,  # implicit's confidence is alpha * value; ours is 1 + alpha for a rating
            iterations=cfg.iterations,
            random_state=cfg.seed if cfg.seed is not None else options.train.seed,
        )
        self.loss_history, self.epoch_seconds = [], []
        self._solver = None
        started = time.perf_counter()

        def after_sweep(iteration: int, elapsed: float, loss: float | None) -> None:
            users, items = model.user_factors, model.item_factors
            self.loss_history.append(als_loss(matrix, users, items, cfg.alpha, cfg.regularization))
            self.epoch_seconds.append(time.perf_counter() - started - sum(self.epoch_seconds))
            logger.debug("ALS sweep %d/%d: loss %.4f", iteration + 1, cfg.iterations, self.loss_history[-1])

        try:
            model.fit(matrix, show_progress=False, callback=after_sweep)
        finally:
            blas.restore_original_limits()
        items = np.asarray(model.item_factors, dtype=np.float64)
        users = als_solve(matrix, items, cfg.alpha, cfg.regularization)
        self.loss_history.append(als_loss(matrix, users, items, cfg.alpha, cfg.regularization))
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

    def add_seen(self, interactions: Interactions) -> None:
        """Marks movies as seen and re-solves the vectors of the users who gained some (items fixed).

        The same exact solve as the last step of `fit` and as a new user's: a user's vector always
        reflects everything the model has been told they watched.
        """
        super().add_seen(interactions)
        changed = np.unique(np.asarray(interactions.users, dtype=np.int64))
        if len(changed) == 0:
            return
        self.user_factors[changed] = self._solve(self.seen[changed]).astype(np.float32)
        self.user_counts = self.seen.getnnz(axis=1).astype(np.int64)

    def score_history(self, histories: list[np.ndarray]) -> np.ndarray:
        """`[len(histories), n_items]` float32: solves each new user's vector with the items fixed."""
        self._check_fitted()
        rows = histories_to_csr(histories, self.n_items)
        vectors = self._solve(rows)
        return cold_start_fallback(
            vectors.astype(np.float32) @ self.item_factors.T, rows.getnnz(axis=1), self.item_counts
        )

    def _solve(self, rows: sp.csr_matrix) -> np.ndarray:
        """`[n_rows, f]` float64 user vectors for binary item `rows`, the item factors held fixed."""
        items, base = self._solver_parts()
        return als_solve(rows, items, self.config.alpha, self.config.regularization, base=base)

    def _solver_parts(self) -> tuple[np.ndarray, np.ndarray]:
        """`([n_items, f] float64 item factors, FᵀF + λI)`, computed once per fitted or loaded model
        (7 ms per new user at 62k movies otherwise)."""
        if self._solver is None:
            items = self.item_factors.astype(np.float64)
            self._solver = (items, items.T @ items + self.config.regularization * np.eye(items.shape[1]))
        return self._solver

    @property
    def explanation_method(self) -> Method:
        return "exact"

    def _contributions(
        self, histories: list[np.ndarray], items: np.ndarray, users: np.ndarray | None
    ) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray]:
        """`(1 + alpha) y_iᵀ A_u⁻¹ y_j` for each history movie j and item i: the terms of the exact user solve."""
        cfg = self.config
        factors, base = self._solver_parts()
        distinct, values = [], []
        for history, row_items in zip(histories, items):
            history = np.unique(history)
            mine = factors[history]  # [h, f]
            system = base + cfg.alpha * (mine.T @ mine)
            parts = np.linalg.solve(system, mine.T)  # [f, h] A_u⁻¹ y_j
            block = (1.0 + cfg.alpha) * (factors[np.maximum(row_items, 0)] @ parts)
            distinct.append(history)
            values.append(block.astype(np.float32))
        popular = np.array([len(h) == 0 for h in distinct], bool)  # `cold_start_fallback`'s rows
        return distinct, values, popular

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
        self._solver = None
        self.user_counts = self.seen.getnnz(axis=1).astype(np.int64)
        self.item_counts = self.seen.getnnz(axis=0).astype(np.int64)

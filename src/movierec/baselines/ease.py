"""EASE: an item-item linear autoencoder with a closed-form solution (Steck, WWW 2019).

    G = XᵀX + λI,   P = G⁻¹,   B_ij = -P_ij / P_jj,   B_jj = 0,   scores = X_u B

`X` is the binary `[n_users, n_items]` training matrix. The zero diagonal stops an
item from recommending itself. Often the strongest baseline on MovieLens.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from movierec._checks import check_k
from movierec.config import EaseConfig
from movierec.data.interactions import Interactions
from movierec.errors import ConfigError
from movierec.recommender import FitOptions, Recommender, check_users, cold_start_fallback, histories_to_csr, top_k

__all__ = ["EaseRecommender", "ease_weights", "MAX_EASE_ITEMS"]

logger = logging.getLogger(__name__)

MAX_EASE_ITEMS = 30_000  # above this the dense float64 item x item inverse needs > 7 GB


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
        gigabytes = 3 * n_items**2 * 8 / 1e9  # G, P and B in float64
        raise ConfigError(
            f"EASE's dense item x item matrix would need about {gigabytes:.0f} GB for {n_items} items "
            f"(limit {MAX_EASE_ITEMS}); use ALS, or filter rare items first"
        )
    gram = (matrix.T @ matrix).toarray().astype(np.float64)
    gram[np.diag_indices(n_items)] += l2
    precision = np.linalg.inv(gram)
    weights = -precision / np.diag(precision)[None, :]
    weights[np.diag_indices(n_items)] = 0.0
    return weights.astype(np.float32)


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
        self.weights = np.zeros((0, 0), np.float32)  # [n_items, n_items] B
        self.item_counts = np.zeros(0, np.int64)  # [n_items] training interactions (cold-start fallback)

    def _fit(self, data: Interactions, options: FitOptions) -> None:
        """Solves for `B` in closed form on binary `data` (validation and features are ignored)."""
        self.weights = ease_weights(self.seen, self.config.l2)
        self.item_counts = self.seen.getnnz(axis=0).astype(np.int64)
        logger.debug("EASE fitted: %d items, l2=%s", self.n_items, self.config.l2)

    def _learned_arrays(self) -> dict[str, np.ndarray]:
        return {"weights": self.weights}

    def score(self, users: np.ndarray) -> np.ndarray:
        """`[batch, n_items]` float32 `X_u B` for the `[batch]` users' training rows."""
        self._check_fitted()
        rows = self.seen[check_users(users, self.n_users)]
        return cold_start_fallback(rows @ self.weights, rows.getnnz(axis=1), self.item_counts)

    def score_history(self, histories: list[np.ndarray]) -> np.ndarray:
        """`[len(histories), n_items]` float32: binary history row times `B`."""
        self._check_fitted()
        rows = histories_to_csr(histories, self.n_items)
        return cold_start_fallback(rows @ self.weights, rows.getnnz(axis=1), self.item_counts)

    def similar_items(self, items: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Items `j` with the largest weight `B_ij`: what a user with item `i` alone would be shown."""
        self._check_fitted()
        items = self._check_items(items)
        scores = self.weights[items].copy()
        scores[np.arange(len(items)), items] = -np.inf
        return top_k(scores, check_k(k))

    def _save_state(self, directory: Path) -> None:
        np.savez(directory / "ease.npz", weights=self.weights)

    def _load_state(self, directory: Path) -> None:
        with np.load(directory / "ease.npz", allow_pickle=False) as state:
            self.weights = state["weights"]
        self.item_counts = self.seen.getnnz(axis=0).astype(np.int64)

"""EASE: an item-item linear autoencoder with a closed-form solution (Steck, WWW 2019).

    G = XᵀX + λI,   P = G⁻¹,   B_ij = -P_ij / P_jj,   B_jj = 0,   scores = X_u B

`X` is the binary `[n_users, n_items]` training matrix. The zero diagonal stops an
item from recommending itself. Often the strongest baseline on MovieLens.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp

from movierec.recommender import check_users, cold_start_fallback, histories_to_csr
from movierec.config import register_model_config
from movierec.data.interactions import Interactions
from movierec.errors import ConfigError
from movierec.recommender import Recommender, register_recommender

__all__ = ["EaseConfig", "EaseRecommender", "ease_weights", "MAX_EASE_ITEMS"]

logger = logging.getLogger(__name__)

MAX_EASE_ITEMS = 30_000  # above this the dense float64 item x item inverse needs > 7 GB


@register_model_config
@dataclass(frozen=True)
class EaseConfig:
    """Configuration of `EaseRecommender`."""

    kind: Literal["ease"] = "ease"  # registry key; do not change
    name: str = "ease"  # run / report label
    l2: float = 500.0  # λ added to the Gram diagonal; a few hundred suits ML-100k

    def __post_init__(self) -> None:
        if not isinstance(self.l2, (int, float)) or isinstance(self.l2, bool) or not self.l2 > 0:
            raise ConfigError(f"ease.l2 must be a number > 0. Received: `l2` = {self.l2!r}")


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


@register_recommender
class EaseRecommender(Recommender):
    """EASE over binary implicit feedback; scores a user from their training items.

    Example:
        >>> train = Interactions.from_arrays([0, 0, 1], [0, 1, 0], n_users=2, n_items=2)
        >>> rec = EaseRecommender(EaseConfig(l2=1.0)).fit(train)
        >>> rec.recommend(np.array([1]), k=1, exclude=train.to_csr())[0].tolist()
        [[1]]
    """

    kind = "ease"

    def __init__(self, config: EaseConfig | None = None) -> None:
        super().__init__(config if config is not None else EaseConfig())
        self.weights: np.ndarray | None = None  # [n_items, n_items] float32 B
        self.train_matrix: sp.csr_matrix | None = None  # [n_users, n_items] binary training rows
        self._item_counts: np.ndarray | None = None  # [n_items] derived from train_matrix on first use

    def fit(self, train: Interactions, validation: Interactions | None = None, features: Any = None) -> "EaseRecommender":
        """Solves for `B` in closed form on binary `train` (validation and features are ignored)."""
        self.n_users, self.n_items = train.n_users, train.n_items
        self.train_matrix = train.to_csr()
        self._item_counts = None
        self.weights = ease_weights(self.train_matrix, self.config.l2)
        logger.debug("EASE fitted: %d items, l2=%s", self.n_items, self.config.l2)
        return self

    def score(self, users: np.ndarray) -> np.ndarray:
        """`[batch, n_items]` float32 `X_u B` for the `[batch]` users' training rows."""
        weights, matrix = self._fitted()
        users = check_users(users, self.n_users)
        rows = matrix[users]
        return self._with_fallback(rows @ weights, rows)

    def score_history(self, histories: list[np.ndarray]) -> np.ndarray:
        """`[len(histories), n_items]` float32: binary history row times `B`."""
        weights, _ = self._fitted()
        rows = histories_to_csr(histories, self.n_items)
        return self._with_fallback(rows @ weights, rows)

    def _save_state(self, directory: Path) -> None:
        weights, matrix = self._fitted()
        np.savez(
            directory / "ease.npz",
            weights=weights,
            data=matrix.data,
            indices=matrix.indices,
            indptr=matrix.indptr,
            shape=np.asarray(matrix.shape, dtype=np.int64),
        )

    def _load_state(self, directory: Path) -> None:
        with np.load(directory / "ease.npz", allow_pickle=False) as state:
            self.weights = state["weights"]
            shape = tuple(int(s) for s in state["shape"])
            self.train_matrix = sp.csr_matrix((state["data"], state["indices"], state["indptr"]), shape=shape)
        self._item_counts = None

    def _with_fallback(self, scores: np.ndarray, rows: sp.csr_matrix) -> np.ndarray:
        """Popularity for rows with no history (see `cold_start_fallback`); counts computed once."""
        if self._item_counts is None:
            self._item_counts = self.train_matrix.getnnz(axis=0)
        return cold_start_fallback(scores, rows.getnnz(axis=1), self._item_counts)

    def _fitted(self) -> tuple[np.ndarray, sp.csr_matrix]:
        if self.weights is None or self.train_matrix is None:
            raise RuntimeError("EaseRecommender is not fitted; call fit() first")
        return self.weights, self.train_matrix

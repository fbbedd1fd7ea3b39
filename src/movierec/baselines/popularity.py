"""Most-popular baseline: every user gets the items with the most training interactions.

The floor any personalised model must clear. With seen items excluded it is
also a strong one on MovieLens, whose test interactions lean to popular films.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp

from movierec.config import register_model_config
from movierec.data.interactions import Interactions
from movierec.errors import ConfigError, UnknownIdError
from movierec.recommender import Recommender, check_users, histories_to_csr, register_recommender

__all__ = ["PopularityConfig", "PopularityRecommender"]


@register_model_config
@dataclass(frozen=True)
class PopularityConfig:
    """Configuration of `PopularityRecommender` (it has nothing to tune)."""

    kind: Literal["popularity"] = "popularity"  # registry key; do not change
    name: str = "popularity"  # run / report label


@register_recommender
class PopularityRecommender(Recommender):
    """Scores item i by its number of training interactions, the same for every user.

    Example:
        >>> train = Interactions.from_arrays([0, 1, 1], [2, 2, 0], n_users=2, n_items=3)
        >>> rec = PopularityRecommender(PopularityConfig()).fit(train)
        >>> rec.score(np.array([0])).tolist()
        [[1.0, 0.0, 2.0]]
    """

    kind = "popularity"

    def __init__(self, config: PopularityConfig | None = None) -> None:
        super().__init__(config if config is not None else PopularityConfig())
        self.counts: np.ndarray | None = None  # [n_items] float32 training interaction counts

    def fit(self, train: Interactions, validation: Interactions | None = None, features: Any = None) -> "PopularityRecommender":
        """Counts interactions per item in `train` (validation and features are ignored)."""
        self.n_users, self.n_items = train.n_users, train.n_items
        self.counts = train.item_counts().astype(np.float32)
        return self

    def score(self, users: np.ndarray) -> np.ndarray:
        """`[batch, n_items]` float32: the item counts, repeated for each of the `[batch]` users."""
        users = check_users(users, self.n_users)
        return np.tile(self._fitted(), (len(users), 1))

    def score_history(self, histories: list[np.ndarray]) -> np.ndarray:
        """`[len(histories), n_items]` float32: popularity ignores the (checked) history."""
        counts = self._fitted()
        histories_to_csr(histories, self.n_items)  # raises UnknownIdError on bad item indices
        return np.tile(counts, (len(histories), 1))

    def _save_state(self, directory: Path) -> None:
        np.savez(directory / "popularity.npz", counts=self._fitted())

    def _load_state(self, directory: Path) -> None:
        with np.load(directory / "popularity.npz", allow_pickle=False) as state:
            self.counts = state["counts"].astype(np.float32)

    def _fitted(self) -> np.ndarray:
        if self.counts is None:
            raise RuntimeError("PopularityRecommender is not fitted; call fit() first")
        return self.counts

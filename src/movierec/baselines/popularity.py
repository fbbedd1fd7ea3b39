"""Most-popular baseline: every user gets the items with the most training interactions.

The floor any personalised model must clear. With seen items excluded it is
also a strong one on MovieLens, whose test interactions lean to popular films.
With `recent_share` < 1 it counts only the latest ratings: what is watched now. On a
split in time (the test ratings come after the training ones) that list is as strong as
a personalised model (MovieLens 100k and 1M temporal, docs/findings.md), and a blend
member that tells a personal taste model what is in fashion.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from movierec._checks import check_k
from movierec.config import PopularityConfig
from movierec.data.interactions import Interactions
from movierec.data.recency import recent_positions
from movierec.explanation import Method
from movierec.ranking import top_k
from movierec.recommender import FitOptions, Recommender, check_users, histories_to_csr

__all__ = ["PopularityRecommender"]


class PopularityRecommender(Recommender):
    """Scores item i by its number of training interactions, the same for every user.

    With `config.recent_share` < 1, by its interactions among the latest share of the training rows (by
    timestamp), ties broken by its count over every row: the score is `recent + all / (len(data) + 1)`,
    so the second count never outweighs one recent interaction.

    Example:
        >>> train = Interactions.from_arrays([0, 1, 1], [2, 2, 0], n_users=2, n_items=3)
        >>> rec = PopularityRecommender(PopularityConfig()).fit(train)
        >>> rec.score(np.array([0])).tolist()
        [[1.0, 0.0, 2.0]]
    """

    kind = "popularity"

    def __init__(self, config: PopularityConfig | None = None) -> None:
        super().__init__(config if config is not None else PopularityConfig())
        self.counts = np.zeros(0, np.float32)  # [n_items] training interaction counts

    def _fit(self, data: Interactions, options: FitOptions) -> None:
        counts = data.item_counts().astype(np.float64)
        if self.config.recent_share < 1:
            recent = np.bincount(data.items[recent_positions(data, self.config.recent_share)], minlength=data.n_items)
            counts = recent + counts / (len(data) + 1)
        self.counts = counts.astype(np.float32)

    def _learned_arrays(self) -> dict[str, np.ndarray]:
        return {"counts": self.counts}

    def score(self, users: np.ndarray) -> np.ndarray:
        """`[batch, n_items]` float32: the item counts, repeated for each of the `[batch]` users."""
        self._check_fitted()
        users = check_users(users, self.n_users)
        return np.tile(self.counts, (len(users), 1))

    def score_history(self, histories: list[np.ndarray]) -> np.ndarray:
        """`[len(histories), n_items]` float32: popularity ignores the (checked) history."""
        self._check_fitted()
        histories_to_csr(histories, self.n_items)  # raises UnknownIdError on bad item indices
        return np.tile(self.counts, (len(histories), 1))

    @property
    def explanation_method(self) -> Method:
        return "popularity"

    def _contributions(
        self, histories: list[np.ndarray], items: np.ndarray, users: np.ndarray | None
    ) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray]:
        """No history item takes part: every row is ranked by popularity."""
        k = items.shape[1]
        empty = np.zeros(0, np.int64)
        return [empty] * len(histories), [np.zeros((k, 0), np.float32)] * len(histories), np.ones(len(items), bool)

    def similar_items(self, items: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The most popular other items, whatever the item: popularity knows no similarity."""
        self._check_fitted()
        items = self._check_items(items)
        scores = np.tile(self.counts, (len(items), 1))
        scores[np.arange(len(items)), items] = -np.inf
        return top_k(scores, check_k(k))

    def _save_state(self, directory: Path) -> None:
        np.savez(directory / "popularity.npz", counts=self.counts)

    def _load_state(self, directory: Path) -> None:
        with np.load(directory / "popularity.npz", allow_pickle=False) as state:
            self.counts = state["counts"].astype(np.float32)

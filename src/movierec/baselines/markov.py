"""A Markov chain over each user's latest movies: what followed them, counted in the training sequences.

    T[a, b] = sum of 1/d over every time a user watched b exactly d <= window movies after a,
              each row divided by its sum;
    score(u) = sum over j = 1..context of T[a_j] / j,   a_1 the user's latest movie.

No training beyond counting (seconds on MovieLens 1M). It reads order, as the sequential kind does,
and is what `movierec.order`'s check scores. Blended with EASE (the `markov_ease` preset) it matched
the sequential transformer blended with EASE on MovieLens 100k's leave-last-out split; on MovieLens 1M it
falls far behind: with more data the transformer learns more than which movie follows which
(docs/sequential.md, "Small data: the Markov chain instead of the transformer"). Ludewig and Jannach
found the like of session-based recommenders in 2018: simple neighbourhood and rule-based methods
often match neural ones on small data.

A known user is scored from their stored latest movies (the training movies, plus any added with
`add_seen`), a new user from the movies they name, in the order given (the latest last). A user
whose latest movies were never followed by anything (or who has none) gets popularity, as EASE
gives a user without a history. Explanations are exact: movie `a_j` contributes `T[a_j, i] / j`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.sparse as sp

from movierec._checks import check_k
from movierec.config import MarkovConfig
from movierec.data.interactions import Interactions
from movierec.data.sequences import context_matrix, latest_rows, transition_matrix
from movierec.explanation import Method
from movierec.ranking import top_k
from movierec.recommender import FitOptions, Recommender, check_users, cold_start_fallback, histories_to_csr

__all__ = ["MarkovRecommender"]

STATE_FILE = "markov.npz"


class MarkovRecommender(Recommender):
    """Scores the movies that followed each user's latest `context` movies within `window` steps.

    Example:
        >>> train = Interactions.from_arrays([0, 0, 1, 1], [0, 1, 0, 2], timestamps=[1, 2, 1, 2], n_users=2, n_items=3)
        >>> rec = MarkovRecommender(MarkovConfig(context=1, window=1)).fit(train)
        >>> rec.score_history([np.array([0])]).tolist()  # movie 0 was followed once by 1 and once by 2
        [[0.0, 0.5, 0.5]]
    """

    kind = "markov"

    def __init__(self, config: MarkovConfig | None = None) -> None:
        super().__init__(config if config is not None else MarkovConfig())
        self.transitions = sp.csr_matrix((0, 0), dtype=np.float32)  # [n_items, n_items] T
        self.item_counts = np.zeros(0, np.int64)  # [n_items] training interactions (the popularity fallback)
        self._recent: Interactions | None = None  # each user's latest `context` rows

    def _fit(self, data: Interactions, options: FitOptions) -> None:
        """Counts the transitions of `data` (validation and features are ignored)."""
        self.transitions = transition_matrix(data, self.config.window).astype(np.float32)
        self.item_counts = self.seen.getnnz(axis=0).astype(np.int64)
        self._recent = latest_rows(data, self.config.context)

    def _learned_arrays(self) -> dict[str, np.ndarray]:
        return {"transitions": self.transitions.data}

    def add_seen(self, interactions: Interactions) -> None:
        """Marks movies as seen and appends them, by time, to each user's latest movies."""
        super().add_seen(interactions)
        assert self._recent is not None
        self._recent = latest_rows(self._recent.concat(interactions), self.config.context)

    def score(self, users: np.ndarray) -> np.ndarray:
        """`[batch, n_items]` float32: what followed each of the `[batch]` users' latest movies."""
        self._check_fitted()
        return self._score_sequences(self._histories(check_users(users, self.n_users)))

    def score_history(self, histories: list[np.ndarray]) -> np.ndarray:
        """`[len(histories), n_items]` float32 from each new user's movies, oldest first."""
        self._check_fitted()
        histories_to_csr(histories, self.n_items)  # raises UnknownIdError on bad item indices
        return self._score_sequences([np.asarray(h, np.int64).reshape(-1) for h in histories])

    def _score_sequences(self, sequences: list[np.ndarray]) -> np.ndarray:
        context = context_matrix(sequences, self.config.context, self.n_items).astype(np.float32)
        scores = np.asarray((context @ self.transitions).toarray(), np.float32)
        return cold_start_fallback(scores, np.count_nonzero(scores, axis=1), self.item_counts)

    def _histories(self, users: np.ndarray) -> list[np.ndarray]:
        """Each known user's latest movies (oldest first): the sequence the chain reads."""
        assert self._recent is not None
        order = self._recent.time_order()
        owner, items = self._recent.users[order], self._recent.items[order].astype(np.int64)
        starts, ends = np.searchsorted(owner, users, side="left"), np.searchsorted(owner, users, side="right")
        return [items[s:e] for s, e in zip(starts, ends)]

    @property
    def explanation_method(self) -> Method:
        return "exact"

    def _contributions(
        self, histories: list[np.ndarray], items: np.ndarray, users: np.ndarray | None
    ) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray]:
        """`T[a_j, i] / j` for each of the latest `context` movies `a_j` and item `i`: the score's terms."""
        context = context_matrix(histories, self.config.context, self.n_items).tocsr()
        distinct, values = [], []
        for row, row_items in enumerate(items):
            movies = context.indices[context.indptr[row] : context.indptr[row + 1]].astype(np.int64)
            weights = context.data[context.indptr[row] : context.indptr[row + 1]].astype(np.float32)
            columns = np.maximum(row_items, 0)
            block = (self.transitions[movies][:, columns].toarray().T * weights[None, :]).astype(np.float32)
            block[row_items < 0] = 0.0
            distinct.append(movies)
            values.append(block)
        scores = np.asarray((context.astype(np.float32) @ self.transitions).toarray())
        popular = np.count_nonzero(scores, axis=1) == 0  # `cold_start_fallback`'s rows
        return distinct, values, popular

    def similar_items(self, items: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The movies that most often followed each item (`T[i]`); popularity orders the rest."""
        self._check_fitted()
        items = self._check_items(items)
        scores = self.transitions[items].toarray() + self.item_counts[None, :] / (1e6 * max(1, self.item_counts.max()))
        scores[np.arange(len(items)), items] = -np.inf
        return top_k(scores.astype(np.float32), check_k(k))

    def _save_state(self, directory: Path) -> None:
        assert self._recent is not None
        transitions = self.transitions.tocsr()
        np.savez(
            directory / STATE_FILE,
            data=transitions.data, indices=transitions.indices, indptr=transitions.indptr,
            item_counts=self.item_counts, recent_users=self._recent.users, recent_items=self._recent.items,
            recent_timestamps=self._recent.timestamps,
        )  # fmt: skip

    def _load_state(self, directory: Path) -> None:
        with np.load(directory / STATE_FILE, allow_pickle=False) as state:
            n = self.n_items
            self.transitions = sp.csr_matrix(
                (state["data"].astype(np.float32), state["indices"], state["indptr"]), shape=(n, n)
            )
            self.item_counts = state["item_counts"].astype(np.int64)
            self._recent = Interactions.from_arrays(
                state["recent_users"], state["recent_items"], timestamps=state["recent_timestamps"],
                n_users=self.n_users, n_items=n,
            )  # fmt: skip

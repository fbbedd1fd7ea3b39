"""The serving hot path: everything a request needs, precomputed once at start-up.

`ServingEngine` turns a loaded model directory into plain Python and numpy structures: id ->
index dicts, titles and ids as lists, each user's seen movies as one index array (CSR). A
known-user request is then one `Recommender.score` call (a single vector-matrix product for
two-tower models and ALS) and `movierec.ranking.rank_row` (the user's seen movies set to -inf,
then the one-row top-k): no DataFrame, no per-request model set-up. Ranking is the library's
own (`movierec.ranking`), so the answers equal `Recommender.recommend` for that one user
exactly (tests compare them).

With `explain`, each recommended movie also gets `because` (the history movies that raise its score
most, `Recommender.explain`), computed after the ranking and only for requests that ask.

Similar movies by embedding cosine (two-tower models, ALS) use unit vectors normalised once,
not per request (the library's `similar_items` normalises the whole catalogue each call), with
the same arithmetic, so the answers are the same bit for bit. `warm_up` runs each kind of
request once at start-up, so lazy set-up (a TensorFlow function's first call) is not paid by
the first users.

Example:
    >>> engine = ServingEngine(load_model_dir("models/best"))  # doctest: +SKIP
    >>> engine.recommend_user("42", k=10)                        # doctest: +SKIP
    [{'rank': 1, 'item_id': '50', 'title': 'Star Wars (1977)', 'score': 4.1}, ...]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from movierec._checks import check_k
from movierec.errors import UnknownIdError
from movierec.explanation import Because
from movierec.ranking import DEFAULT_K, SeenItems, rank_row
from movierec.recommender import Recommender
from movierec.serving.model_dir import TrainedModel, shown_id

__all__ = ["ServingEngine", "EXPLAIN_TOP", "HISTORY_SHOWN"]

EXPLAIN_TOP = 3  # history movies named per recommended movie (`because`)
HISTORY_SHOWN = 20  # the latest of a user's movies an explained answer lists (`history`)


class ServingEngine:
    """Recommendations by id for one loaded model, with per-request work kept to numpy.

    Args:
        model: A loaded model directory.
    """

    def __init__(self, model: TrainedModel) -> None:
        self.model = model
        self.recommender = model.recommender
        self.name = model.name
        self.item_ids: list[str] = [str(i) for i in model.vocab.item_ids]
        self.titles: list[str] = model.items["title"].astype(str).tolist()
        self.genres: list[str] = model.items["genres"].astype(str).tolist()
        self._lower_titles = [t.lower() for t in self.titles]
        self._user_index = {str(u): i for i, u in enumerate(model.vocab.user_ids)}
        self._item_index = {item: i for i, item in enumerate(self.item_ids)}
        self._seen = SeenItems(self.recommender.seen)
        self._unit_vectors = _unit_vectors(self.recommender)

    @property
    def n_users(self) -> int:
        return len(self._user_index)

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    def user_index(self, user_id: str) -> int:
        index = self._user_index.get(user_id)
        if index is None:
            raise UnknownIdError(f"unknown user id {shown_id(user_id)}")
        return index

    def item_index(self, item_ids: list[str]) -> np.ndarray:
        """`[n]` indices of movie ids; UnknownIdError naming up to 5 unknown ones."""
        found = [self._item_index.get(i, -1) for i in item_ids]
        if min(found, default=0) < 0:
            bad = [i for i, pos in zip(item_ids, found) if pos < 0]
            raise UnknownIdError(f"unknown item id {', '.join(shown_id(b) for b in bad[:5])}")
        return np.asarray(found, dtype=np.int64)

    # ------------------------------------------------------------------ requests
    def recommend_user(self, user_id: str, k: int, include_seen: bool = False) -> list[dict[str, Any]]:
        """Top-k for a known user, as `Recommender.recommend(np.array([user]), k)` ranks them."""
        user = self.user_index(user_id)
        k = check_k(k)
        scores = np.array(self.recommender.score(np.array([user])), dtype=np.float32)[0]
        return self._ranked(*rank_row(scores, k, exclude=None if include_seen else self._seen.of(user)))

    def recommend_liked(self, liked: list[str], k: int) -> list[dict[str, Any]]:
        """Top-k for a new user from the movies they liked, as `Recommender.recommend_history` ranks them."""
        history = self.item_index(liked)
        k = check_k(k)
        scores = np.array(self.recommender.score_history([history]), dtype=np.float32)[0]
        return self._ranked(*rank_row(scores, k, exclude=history))

    def explain_user(self, user_id: str, ranked: list[dict[str, Any]]) -> dict[str, Any]:
        """Adds `because` to each of a known user's `ranked` movies; returns the answer's `explanation` and
        `history` fields (`Recommender.explain`). Off the hot path: only requests asking for it pay."""
        user = self.user_index(user_id)
        because = self.recommender.explain(np.array([user]), self._slots(ranked), top=EXPLAIN_TOP)
        return self._explained(ranked, because, self.recommender.user_history(user))

    def explain_liked(self, liked: list[str], ranked: list[dict[str, Any]]) -> dict[str, Any]:
        """`explain_user` for a new user from the movies they liked (`Recommender.explain_history`)."""
        history = self.item_index(liked)
        because = self.recommender.explain_history([history], self._slots(ranked), top=EXPLAIN_TOP)
        return self._explained(ranked, because, history)

    def _slots(self, ranked: list[dict[str, Any]]) -> np.ndarray:
        return np.asarray([[self._item_index[item["item_id"]] for item in ranked]], np.int64).reshape(1, -1)

    def _explained(self, ranked: list[dict[str, Any]], because: Because, history: np.ndarray) -> dict[str, Any]:
        ids, titles = self.item_ids, self.titles
        for item, reasons in zip(ranked, because.row(0)):
            item["because"] = [{"item_id": ids[j], "title": titles[j], "weight": w} for j, w in reasons]
        popular = bool(because.popular[0])
        latest = np.asarray(history, np.int64)[::-1]
        _, first = np.unique(latest, return_index=True)
        latest = latest[np.sort(first)][:HISTORY_SHOWN]
        return {
            "explanation": "popularity" if popular else because.method,
            "history": [{"item_id": ids[j], "title": titles[j]} for j in latest.tolist()],
        }

    def similar(self, item_id: str, k: int) -> list[dict[str, Any]]:
        """The k movies most like `item_id` (`Recommender.similar_items`)."""
        index, k = self.item_index([item_id]), check_k(k)
        if self._unit_vectors is None:
            items, scores = self.recommender.similar_items(index, k)
            return self._ranked(items[0], scores[0])
        # Recommender.similar_items' arithmetic, on vectors normalised once
        row = (self._unit_vectors[index] @ self._unit_vectors.T).astype(np.float32)[0]
        return self._ranked(*rank_row(row, k, exclude=index))

    def warm_up(self) -> None:
        """Answers one request of each kind (first user, first movie) and discards the answers."""
        if self.n_items:
            self.recommend_liked(self.item_ids[:1], DEFAULT_K)
            self.similar(self.item_ids[0], DEFAULT_K)
        if self.n_users:
            self.recommend_user(str(self.model.vocab.user_ids[0]), DEFAULT_K)

    def search(self, query: str, limit: int) -> list[dict[str, str]]:
        """Movies whose title contains `query` (case-insensitive), in index order."""
        needle = query.strip().lower()
        hits: list[dict[str, str]] = []
        for index, title in enumerate(self._lower_titles):
            if needle in title:
                hits.append(self.describe(index))
                if len(hits) >= limit:
                    break
        return hits

    def describe(self, index: int) -> dict[str, str]:
        return {"item_id": self.item_ids[index], "title": self.titles[index], "genres": self.genres[index]}

    def _ranked(self, items: np.ndarray, scores: np.ndarray) -> list[dict[str, Any]]:
        ids, titles = self.item_ids, self.titles
        return [
            {"rank": rank, "item_id": ids[item], "title": titles[item], "score": score}
            for rank, (item, score) in enumerate(zip(items.tolist(), scores.tolist()), start=1)
            if item >= 0
        ]


def _unit_vectors(recommender: Recommender) -> np.ndarray | None:
    """`[n_items, dim]` unit item vectors if `similar_items` is the base class's cosine, else None."""
    if type(recommender).similar_items is not Recommender.similar_items:
        return None
    vectors = recommender.item_embeddings()
    if vectors is None:
        return None
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)

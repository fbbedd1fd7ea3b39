"""The `Recommender` contract as a test base class, run by every kind and every two-tower variant.

A test module subclasses `RecommenderContract`, sets `kind`, implements `make()` and its
own `test_known_answer` (required: a subclass without one fails at import), and inherits
every contract test (LensKit's `ScorerTests`, implicit's `RecommenderBaseTestMixin`):

    class TestEase(RecommenderContract):
        kind = "ease"

        def make(self):
            return EaseRecommender(EaseConfig(l2=1.0))

        def test_known_answer(self, fitted):
            items, _ = fitted.recommend(ALL_USERS, k=1)
            np.testing.assert_array_equal(items[:, 0], WITHHELD)

The data: 20 users in two groups each watching their own block of 5 of the 10 items, minus
one withheld item per user (implicit's checkerboard idea), so each user's withheld item
is the obvious recommendation and a block's items are each other's nearest neighbours.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from movierec.config import from_dict, to_dict
from movierec.data.interactions import Interactions
from movierec.errors import ConfigError, NotFittedError, UnknownIdError
from movierec.explanation import METHODS, Because
from movierec.recommender import Recommender
from movierec.records import FitRecord
from movierec.registry import config_from_dict, load_recommender

__all__ = [
    "RecommenderContract",
    "block_data",
    "TRAIN",
    "WITHHELD",
    "N_USERS",
    "N_ITEMS",
    "BLOCK",
    "ALL_USERS",
    "OWN_BLOCK",
    "cyclic_blocks",
    "CYCLIC",
]

N_USERS, N_ITEMS, BLOCK = 20, 10, 5
GROUP_A = 12  # users 0-11 watch items 0-4, users 12-19 watch items 5-9


def block_data(ratings_own: float = 1.0) -> tuple[Interactions, np.ndarray]:
    """`(train, withheld)`: each user watches their own block except item `block_start + u % 5`.

    Timestamps increase with the item index, so the "last" items of a history are well defined.
    """
    users, items, withheld = [], [], np.empty(N_USERS, np.int64)
    for u in range(N_USERS):
        start = 0 if u < GROUP_A else BLOCK
        withheld[u] = start + u % BLOCK
        for i in range(start, start + BLOCK):
            if i != withheld[u]:
                users.append(u)
                items.append(i)
    n = len(users)
    train = Interactions.from_arrays(
        users,
        items,
        np.full(n, ratings_own, np.float32),
        1_000_000 + np.arange(n) * 60,
        n_users=N_USERS,
        n_items=N_ITEMS,
    )
    return train, withheld


TRAIN, WITHHELD = block_data()
ALL_USERS = np.arange(N_USERS)
OWN_BLOCK = np.where(ALL_USERS < GROUP_A, 0, 1)  # [n_users] the block each user watches


def cyclic_blocks() -> Interactions:
    """The block data's (user, movie) pairs, each user's movies in cyclic order after their withheld one.

    A user who withheld movie 2 watched 3, 4, 0, 1: the movie after each movie is its cyclic successor in
    every sequence that has it, so the movie after a user's last one is exactly their withheld movie.
    The known answer of the kinds that read order (sequential, Markov).
    """
    users, items, times = [], [], []
    for u in ALL_USERS:
        start = OWN_BLOCK[u] * BLOCK
        for step in range(1, BLOCK):
            users.append(u)
            items.append(start + (WITHHELD[u] - start + step) % BLOCK)
            times.append(1_000_000 + 100 * u + step)
    return Interactions.from_arrays(users, items, None, times, n_users=N_USERS, n_items=N_ITEMS)


CYCLIC = cyclic_blocks()


class RecommenderContract:
    """Contract tests every `Recommender` passes; subclasses add their kind's known answer."""

    kind: ClassVar[str] = ""  # the registry kind this subclass covers
    train: ClassVar[Interactions] = TRAIN  # the data `fitted` learns from; a subclass may change it
    similar_in_block: ClassVar[bool] = True  # whether an item's nearest neighbour is in its own block

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__name__.startswith("Test") and "test_known_answer" not in cls.__dict__:
            raise TypeError(f"{cls.__name__} must define its own test_known_answer (the contract requires one)")

    def make(self) -> Recommender:
        """The unfitted recommender under test; every subclass defines it."""
        raise TypeError(f"{type(self).__name__} must define make()")

    def fit_options(self) -> Any:
        """`FitOptions` for `fitted`; None uses the defaults."""
        return None

    @pytest.fixture(scope="class")
    @classmethod
    def fitted(cls) -> Recommender:
        """The recommender fitted once per test class."""
        case = cls()
        return case.make().fit(case.train, case.fit_options())

    def test_kind_matches_the_registry(self, fitted: Recommender) -> None:
        assert fitted.kind == self.kind == fitted.config.kind

    def test_fit_record_is_json_and_names_the_fitted_model(self, fitted: Recommender) -> None:
        record = fitted.fit_record()
        # run records (results.json, a model's meta) store it as JSON
        assert FitRecord.from_dict(json.loads(json.dumps(record.to_dict()))) == record
        chosen = getattr(fitted, "chosen", None)  # a chooser (auto, the default) names the candidate it kept
        trained = chosen if chosen is not None else fitted
        assert trained.is_fitted and (record.model, record.kind) == (trained.name, trained.kind)
        assert config_from_dict(record.refit_config).kind == trained.kind  # what a refit would train
        assert record.history == trained.history and list(record.epoch_seconds) == trained.epoch_seconds
        # a decision recorded is a decision told, and nothing to record means nothing to tell
        assert bool(record.decisions) == (record.summary() is not None)
        if chosen is not None:  # a chooser: its scores are those of the model it kept
            np.testing.assert_array_equal(fitted.score(ALL_USERS), chosen.score(ALL_USERS))
            assert record.decisions

    def test_unfitted_recommender_refuses_to_recommend(self) -> None:
        fresh = self.make()
        assert not fresh.is_fitted
        with pytest.raises(NotFittedError, match="not fitted"):
            fresh.recommend(ALL_USERS, k=3)

    def test_score_shape_and_dtype(self, fitted: Recommender) -> None:
        assert fitted.is_fitted
        scores = fitted.score(ALL_USERS)
        assert scores.shape == (N_USERS, N_ITEMS)
        assert scores.dtype == np.float32
        assert np.all(np.isfinite(scores))

    def test_recommend_returns_k_items_sorted_by_score(self, fitted: Recommender) -> None:
        items, scores = fitted.recommend(ALL_USERS, k=4, exclude_seen=False)
        assert items.shape == scores.shape == (N_USERS, 4)
        assert np.all(np.diff(scores, axis=1) <= 0)
        np.testing.assert_allclose(scores, np.take_along_axis(fitted.score(ALL_USERS), items, axis=1), rtol=1e-6)
        assert all(len(set(row)) == 4 for row in items.tolist())

    def test_recommend_excludes_seen_items_by_default(self, fitted: Recommender) -> None:
        seen = self.train.to_csr()
        items, _ = fitted.recommend(ALL_USERS, k=N_ITEMS)
        for u in ALL_USERS:
            allowed = set(range(N_ITEMS)) - set(seen[u].indices)
            assert set(items[u][items[u] >= 0]) == allowed
            assert np.sum(items[u] == -1) == N_ITEMS - len(allowed)

    def test_exclude_seen_false_keeps_seen_items(self, fitted: Recommender) -> None:
        items, _ = fitted.recommend(ALL_USERS, k=N_ITEMS, exclude_seen=False)
        assert np.all(np.sort(items, axis=1) == np.arange(N_ITEMS))

    def test_items_restricts_and_filter_items_blocks(self, fitted: Recommender) -> None:
        allowed = np.array([1, 3, 6, 8])
        items, _ = fitted.recommend(ALL_USERS, k=N_ITEMS, exclude_seen=False, items=allowed)
        assert np.all(np.sort(items[:, :4], axis=1) == allowed) and np.all(items[:, 4:] == -1)
        items, _ = fitted.recommend(ALL_USERS, k=N_ITEMS, exclude_seen=False, filter_items=allowed)
        assert np.all(np.sort(items[:, :6], axis=1) == np.setdiff1d(np.arange(N_ITEMS), allowed))
        with pytest.raises(UnknownIdError, match="filter_items"):
            fitted.recommend(ALL_USERS, k=3, filter_items=np.array([N_ITEMS]))

    def test_batch_equals_single_user(self, fitted: Recommender) -> None:
        batch_items, batch_scores = fitted.recommend(ALL_USERS, k=3, batch_size=7)
        for u in ALL_USERS:
            items, scores = fitted.recommend(np.array([u]), k=3)
            # BLAS may round a batch and a single row differently, so near-ties may swap places:
            # compare scores, and the single-user scores of the batch's items
            np.testing.assert_allclose(scores[0], batch_scores[u], rtol=1e-5, atol=1e-6)
            single = fitted.score(np.array([u]))[0]
            valid = batch_items[u] >= 0  # -1 pads a list when fewer than k items are unseen
            np.testing.assert_allclose(single[batch_items[u][valid]], scores[0][valid], rtol=1e-5, atol=1e-6)
            if np.all(np.abs(np.diff(scores[0])) > 1e-4):
                np.testing.assert_array_equal(items[0], batch_items[u])

    def test_save_load_round_trip(self, fitted: Recommender, tmp_path: Any) -> None:
        fitted.save(tmp_path / "model")
        loaded = load_recommender(tmp_path / "model")
        assert type(loaded) is type(fitted)
        assert loaded.is_fitted and loaded.config == fitted.config
        assert (loaded.n_users, loaded.n_items) == (fitted.n_users, fitted.n_items)
        assert (loaded.seen != fitted.seen).nnz == 0
        np.testing.assert_allclose(loaded.score(ALL_USERS), fitted.score(ALL_USERS), rtol=1e-6, atol=1e-6)
        np.testing.assert_array_equal(loaded.recommend(ALL_USERS, k=3)[0], fitted.recommend(ALL_USERS, k=3)[0])

    def test_similar_items(self, fitted: Recommender) -> None:
        items = np.arange(N_ITEMS)
        neighbours, similarity = fitted.similar_items(items, k=3)
        assert neighbours.shape == similarity.shape == (N_ITEMS, 3)
        assert np.all(neighbours != items[:, None])
        assert np.all(np.diff(similarity, axis=1) <= 0)
        if self.similar_in_block:
            assert np.all(neighbours[:, 0] // BLOCK == items // BLOCK)

    def test_score_history(self, fitted: Recommender) -> None:
        # a new user who watched items 0-3 of block A, and one who watched nothing
        scores = fitted.score_history([np.array([0, 1, 2, 3]), np.array([], dtype=np.int64)])
        assert scores.shape == (2, N_ITEMS) and scores.dtype == np.float32
        items, _ = fitted.recommend_history([np.array([0, 1, 2, 3])], k=N_ITEMS)
        assert set(items[0][items[0] >= 0]) == set(range(4, N_ITEMS))
        with pytest.raises(UnknownIdError, match="histories"):
            fitted.score_history([np.array([N_ITEMS])])

    @pytest.mark.parametrize("k", [0, -1, True])
    def test_bad_k_raises(self, fitted: Recommender, k: Any) -> None:
        with pytest.raises(ConfigError, match="`k` should be a positive integer"):
            fitted.recommend(ALL_USERS, k=k)

    def test_unknown_user_raises(self, fitted: Recommender) -> None:
        with pytest.raises(UnknownIdError, match="users"):
            fitted.score(np.array([N_USERS]))
        with pytest.raises(UnknownIdError, match="users"):
            fitted.score(np.array([-1]))

    def test_config_round_trip(self) -> None:
        config = self.make().config
        assert from_dict(type(config), to_dict(config)) == config
        assert config_from_dict(to_dict(config)) == config

    # ------------------------------------------------------------------ explanations
    def test_explain_names_only_history_items_strongest_first(self, fitted: Recommender) -> None:
        items, scores = fitted.recommend(ALL_USERS, k=3)
        because = fitted.explain(ALL_USERS, items, top=2)
        assert because.method == fitted.explanation_method and because.method in METHODS
        assert because.items.shape == because.weights.shape == (N_USERS, 3, 2) and because.popular.shape == (N_USERS,)
        seen = self.train.to_csr()
        for u in range(N_USERS):
            _check_because_row(because, u, items[u], set(seen[u].indices.tolist()))
        if because.method == "popularity":  # most-popular names no movie, for anyone
            assert because.popular.all() and np.all(because.items == -1)
        else:  # every user here has a history: a model not collapsed to popularity names a reason for the top movie
            assert np.all(because.items[because.popular] == -1)
            assert np.all(because.items[~because.popular, 0, 0] >= 0)
        # a row said to be popular is scored by popularity: the training counts, scaled
        counts = self.train.item_counts().astype(np.float32)
        for row in fitted.score(ALL_USERS)[because.popular]:
            np.testing.assert_allclose(row / row.max(), counts / counts.max(), rtol=1e-6)

    def test_recommend_with_explain_adds_because_and_keeps_the_list(self, fitted: Recommender) -> None:
        items, scores = fitted.recommend(ALL_USERS, k=3)
        explained_items, explained_scores, because = fitted.recommend(ALL_USERS, k=3, explain=True, top=2)
        np.testing.assert_array_equal(explained_items, items)
        np.testing.assert_array_equal(explained_scores, scores)
        again = fitted.explain(ALL_USERS, items, top=2)
        np.testing.assert_array_equal(because.items, again.items)
        np.testing.assert_allclose(because.weights, again.weights, rtol=1e-5, atol=1e-6)
        history = [np.array([0, 1, 2, 3])]
        new_items, _, new_because = fitted.recommend_history(history, k=3, explain=True)
        _check_because_row(new_because, 0, new_items[0], {0, 1, 2, 3})
        if new_because.method in ("exact", "leave_one_out"):  # the score's own parts: movies 0-3 raise movie 4
            assert new_because.items[0, 0, 0] >= 0

    def test_explain_survives_save_and_load(self, fitted: Recommender, tmp_path: Any) -> None:
        fitted.save(tmp_path / "model")
        loaded = load_recommender(tmp_path / "model")
        items, _ = fitted.recommend(ALL_USERS, k=3)
        before, after = fitted.explain(ALL_USERS, items), loaded.explain(ALL_USERS, items)
        assert after.method == before.method
        np.testing.assert_array_equal(after.popular, before.popular)
        np.testing.assert_allclose(after.weights, before.weights, rtol=1e-4, atol=1e-5)
        clear = np.abs(np.diff(before.weights, axis=2)).min(axis=2, initial=np.inf) > 1e-4  # no near-tie to swap
        np.testing.assert_array_equal(after.items[clear], before.items[clear])

    def test_explain_refuses_bad_input(self, fitted: Recommender) -> None:
        with pytest.raises(UnknownIdError, match="users"):
            fitted.explain(np.array([N_USERS]), np.zeros((1, 1), np.int64))
        with pytest.raises(ConfigError, match="one row per user"):
            fitted.explain(ALL_USERS, np.zeros((1, 1), np.int64))
        with pytest.raises(UnknownIdError, match="items"):
            fitted.explain(ALL_USERS[:1], np.array([[N_ITEMS]]))
        with pytest.raises(ConfigError, match="`top` should be a positive integer"):
            fitted.explain(ALL_USERS[:1], np.array([[0]]), top=0)
        with pytest.raises(UnknownIdError, match="histories"):
            fitted.explain_history([np.array([N_ITEMS])], np.array([[0]]))

    # each kind runs it on its own class: the "different executors" are the kinds, not state shared between them
    @settings(
        max_examples=12,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.differing_executors],
    )
    @given(history=st.lists(st.integers(0, N_ITEMS - 1), max_size=7), k=st.integers(1, N_ITEMS))
    def test_explanations_never_name_a_movie_outside_the_history(
        self, fitted: Recommender, history: list[int], k: int
    ) -> None:
        items, _, because = fitted.recommend_history([np.array(history, np.int64)], k=k, explain=True, top=3)
        _check_because_row(because, 0, items[0], set(history))


def _check_because_row(because: Because, row: int, items: np.ndarray, history: set[int]) -> None:
    """One row of a `Because` is well formed: history movies only, positive weights, strongest first, -1 padded."""
    named, weights = because.items[row], because.weights[row]
    assert set(named[named >= 0].tolist()) <= history
    assert np.all(weights[named >= 0] > 0) and np.all(weights[named < 0] == 0)
    assert np.all(np.diff(weights, axis=1) <= 0)  # strongest first, pads last
    assert np.all(named[items < 0] == -1)  # an empty slot explains nothing
    for slot in named:  # a movie is named once per recommended movie
        assert len(set(slot[slot >= 0].tolist())) == int((slot >= 0).sum())

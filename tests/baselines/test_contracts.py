"""The `Recommender` contract for every baseline, each with its own known answer on the block data."""

from __future__ import annotations

import numpy as np
import pytest

from movierec.baselines import AlsRecommender, EaseRecommender, PopularityRecommender
from movierec.config import AlsConfig, EaseConfig, PopularityConfig
from movierec.data import Interactions
from movierec.recommender import Recommender
from movierec.testing import ALL_USERS, N_ITEMS, TRAIN, WITHHELD, RecommenderContract


class TestPopularity(RecommenderContract):
    kind = "popularity"
    similar_in_block = False  # popularity's "similar" items are the most popular others

    def make(self) -> Recommender:
        return PopularityRecommender(PopularityConfig())

    def test_known_answer(self, fitted):
        # a most popular unseen item (items 2, 3, 4 tie at 10 interactions, so compare counts)
        items, _ = fitted.recommend(ALL_USERS, k=1)
        counts = np.bincount(TRAIN.items, minlength=N_ITEMS).astype(float)
        masked = np.where(TRAIN.to_csr().toarray() > 0, -np.inf, counts)
        np.testing.assert_array_equal(counts[items[:, 0]], masked.max(axis=1))

    def test_similar_items_are_the_most_popular_others(self, fitted):
        counts = np.bincount(TRAIN.items, minlength=N_ITEMS)
        neighbours, _ = fitted.similar_items(np.array([0]), k=N_ITEMS - 1)
        assert 0 not in neighbours[0]
        assert np.all(np.diff(counts[neighbours[0]]) <= 0)


class TestEase(RecommenderContract):
    kind = "ease"

    def make(self) -> Recommender:
        return EaseRecommender(EaseConfig(l2=1.0))

    def test_known_answer(self, fitted):
        items, _ = fitted.recommend(ALL_USERS, k=1)
        np.testing.assert_array_equal(items[:, 0], WITHHELD)


class TestAls(RecommenderContract):
    kind = "als"

    def make(self) -> Recommender:
        # rank 2 = the two blocks; more factors would memorise the withheld zeros
        return AlsRecommender(AlsConfig(factors=2, regularization=0.1, alpha=10.0, iterations=10))

    def test_known_answer(self, fitted):
        items, _ = fitted.recommend(ALL_USERS, k=1)
        np.testing.assert_array_equal(items[:, 0], WITHHELD)


@pytest.mark.parametrize("cls", [EaseRecommender, AlsRecommender], ids=["ease", "als"])
def test_users_without_history_get_popularity_not_ties(cls):
    """A user with no training rows must not get all-equal scores (which TFRS's top-k counts as hits)."""
    # users 0-2 rate items; user 3 rates nothing. Item popularity: item 1 (3) > item 0 (2) > item 2 (1) > item 3 (0)
    train = Interactions.from_arrays([0, 0, 1, 1, 2, 2], [0, 1, 1, 2, 0, 1], n_users=4, n_items=4)
    rec = cls().fit(train)
    cold = rec.score(np.array([3]))[0]
    assert np.argsort(-cold, kind="stable").tolist() == [1, 0, 2, 3]
    assert len(np.unique(cold)) == 4
    np.testing.assert_allclose(rec.score_history([np.array([], np.int64)])[0], cold)

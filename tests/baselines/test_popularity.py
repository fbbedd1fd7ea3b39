"""Popularity's `recent_share`: counts over the latest ratings, ties broken by counts over every rating."""

from __future__ import annotations

import numpy as np
import pytest

from movierec.baselines import PopularityRecommender
from movierec.config import PopularityConfig
from movierec.data import Interactions
from movierec.errors import ConfigError
from movierec.registry import load_recommender

# 10 ratings of 4 movies by 3 users, timestamps 1..10 (listed out of time order on purpose).
# Over every rating: movie 0 x4, movie 1 x3, movie 2 x2, movie 3 x1.
# The latest 40% (timestamps 7-10): movie 2 at 7 and 10, movie 1 at 9, movie 3 at 8.
USERS = [0, 1, 2, 0, 1, 2, 0, 1, 2, 0]
ITEMS = [2, 0, 1, 0, 0, 3, 1, 2, 1, 0]
TIMES = [10, 1, 9, 2, 3, 8, 4, 7, 5, 6]
DATA = Interactions.from_arrays(USERS, ITEMS, timestamps=TIMES, n_users=3, n_items=5)


def test_every_rating_by_default():
    rec = PopularityRecommender(PopularityConfig()).fit(DATA)
    np.testing.assert_array_equal(rec.counts, [4, 3, 2, 1, 0])


def test_latest_share_counts_first_and_every_rating_breaks_ties():
    rec = PopularityRecommender(PopularityConfig(recent_share=0.4)).fit(DATA)
    # recent counts [0, 1, 2, 1, 0] + all counts / 11
    np.testing.assert_allclose(rec.counts, [4 / 11, 1 + 3 / 11, 2 + 2 / 11, 1 + 1 / 11, 0.0], rtol=1e-6)
    # movie 2 (latest favourite) first; 1 beats 3 at one recent rating each by its older ones; 0 before
    # the never-rated 4
    order = np.argsort(-rec.score(np.array([0]))[0], kind="stable")
    assert order.tolist() == [2, 1, 3, 0, 4]


def test_recent_share_survives_save_and_load(tmp_path):
    rec = PopularityRecommender(PopularityConfig(recent_share=0.4)).fit(DATA)
    rec.save(tmp_path / "pop")
    loaded = load_recommender(tmp_path / "pop")
    assert loaded.config.recent_share == 0.4
    np.testing.assert_array_equal(loaded.score(np.array([1, 2])), rec.score(np.array([1, 2])))


@pytest.mark.parametrize("share", [0, -0.1, 1.5, True, "0.1"])
def test_recent_share_outside_0_1_refused_by_name(share):
    with pytest.raises(ConfigError, match="popularity.recent_share"):
        PopularityConfig(recent_share=share)

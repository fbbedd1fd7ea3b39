"""The Markov kind: the contract on the cyclic block data, hand-worked scores, a numpy reference, order, add_seen."""

from __future__ import annotations

import numpy as np
import pytest

from movierec.baselines import MarkovRecommender
from movierec.config import MarkovConfig
from movierec.data import Interactions
from movierec.data.sequences import context_matrix, latest_rows, transition_matrix
from movierec.errors import ConfigError
from movierec.order import markov_scores
from movierec.recommender import Recommender
from movierec.registry import load_recommender
from movierec.testing import ALL_USERS, CYCLIC, N_ITEMS, WITHHELD, RecommenderContract

# user 0 watched 0, 1, 2, 1 (in time order; rows given out of order); user 1 watched 2, 0
TINY = Interactions.from_arrays(
    [0, 0, 0, 0, 1, 1], [2, 0, 1, 1, 0, 2], timestamps=[30, 10, 20, 40, 60, 50], n_users=2, n_items=4
)


class TestMarkov(RecommenderContract):
    kind = "markov"
    train = CYCLIC  # each user's movies in cyclic order after the withheld one: the next movie is the withheld one

    def make(self) -> Recommender:
        return MarkovRecommender(MarkovConfig())

    def test_known_answer(self, fitted):
        # the movie after each user's latest one is their withheld movie: it comes first for every user
        items, _ = fitted.recommend(ALL_USERS, k=1)
        np.testing.assert_array_equal(items[:, 0], WITHHELD)
        # order matters: the same two movies in either order give the successor of the later one
        assert fitted.recommend_history([np.array([5, 7])], k=1)[0][0, 0] == 8
        assert fitted.recommend_history([np.array([7, 5])], k=1)[0][0, 0] == 6

    def test_explanation_is_the_scores_terms(self, fitted):
        # "exact": the contributions of a row add up to the movie's score
        items, scores = fitted.recommend(ALL_USERS, k=2)
        because = fitted.explain(ALL_USERS, items, top=3)
        assert because.method == "exact" and not because.popular.any()
        np.testing.assert_allclose(because.weights.sum(axis=2), scores, rtol=1e-5)
        # the withheld movie follows the latest movie, which contributes most
        latest = [fitted.user_history(u)[-1] for u in ALL_USERS]
        np.testing.assert_array_equal(because.items[:, 0, 0], latest)


def test_transitions_hand_worked():
    # sequences: user 0: 0 1 2 1; user 1: 2 0. Window 2: pairs (a, b, 1/d):
    # user 0: (0,1,1) (1,2,1) (2,1,1) (0,2,1/2) (1,1,1/2); user 1: (2,0,1)
    expected = np.zeros((4, 4))
    expected[0] = [0, 1, 0.5, 0]
    expected[1] = [0, 0.5, 1, 0]
    expected[2] = [1, 1, 0, 0]
    expected /= np.maximum(expected.sum(axis=1, keepdims=True), 1e-12)
    np.testing.assert_allclose(transition_matrix(TINY, window=2).toarray(), expected)


def test_transitions_match_a_loop_over_random_sequences():
    rng = np.random.default_rng(0)
    n_items, window = 7, 3
    users, items = rng.integers(0, 5, 60), rng.integers(0, n_items, 60)
    data = Interactions.from_arrays(users, items, timestamps=rng.integers(0, 10, 60), n_users=5, n_items=n_items)
    order = np.lexsort((np.arange(60), data.timestamps, users))  # by user, time, then row
    counts = np.zeros((n_items, n_items))
    for u in range(5):
        sequence = items[order][users[order] == u]
        for i in range(len(sequence)):
            for d in range(1, window + 1):
                if i + d < len(sequence):
                    counts[sequence[i], sequence[i + d]] += 1 / d
    expected = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1e-12)
    np.testing.assert_allclose(transition_matrix(data, window).toarray(), expected, rtol=1e-12)


def test_scores_hand_worked():
    rec = MarkovRecommender(MarkovConfig(context=2, window=2)).fit(TINY)
    t = transition_matrix(TINY, window=2).toarray()
    # user 0's latest movies: 1 (weight 1), then 2 (weight 1/2); user 1's: 0, then 2
    np.testing.assert_allclose(rec.score(np.array([0, 1])), [t[1] + t[2] / 2, t[0] + t[2] / 2], rtol=1e-6)
    # a new user is read the same way, the latest last; a repeated movie adds its weights
    np.testing.assert_allclose(rec.score_history([np.array([2, 1])]), [t[1] + t[2] / 2], rtol=1e-6)
    np.testing.assert_allclose(rec.score_history([np.array([1, 1])]), [t[1] * 1.5], rtol=1e-6)


def test_unfollowed_latest_movies_get_popularity():
    # movie 3 is never followed by anything: a user whose only movie it is gets the training counts
    rec = MarkovRecommender(MarkovConfig(context=1, window=1)).fit(TINY)
    counts = np.array([2, 1, 2, 0], np.float32)  # users per movie in TINY
    np.testing.assert_allclose(rec.score_history([np.array([3])])[0], counts / 2)
    np.testing.assert_allclose(rec.score_history([np.array([], np.int64)])[0], counts / 2)


def test_add_seen_appends_by_time_and_survives_save(tmp_path):
    rec = MarkovRecommender(MarkovConfig(context=1, window=1)).fit(TINY)
    t = transition_matrix(TINY, window=1).toarray()
    # user 1 then watched 1 (time 70): the chain now reads 1, not 0; an older row (time 0) changes nothing
    rec.add_seen(Interactions.from_arrays([1, 0], [1, 3], timestamps=[70, 0], n_users=2, n_items=4))
    np.testing.assert_allclose(rec.score(np.array([0, 1])), [t[1], t[1]], rtol=1e-6)
    assert rec.user_history(1).tolist() == [1] and rec.seen[0, 3] == 1
    rec.save(tmp_path / "markov")
    loaded = load_recommender(tmp_path / "markov")
    np.testing.assert_allclose(loaded.score(np.array([0, 1])), rec.score(np.array([0, 1])))
    loaded.add_seen(Interactions.from_arrays([0], [2], timestamps=[99], n_users=2, n_items=4))
    np.testing.assert_allclose(loaded.score(np.array([0])), [t[2]], rtol=1e-6)


def test_latest_rows_and_context_weights():
    assert sorted(latest_rows(TINY, 2).timestamps.tolist()) == [30, 40, 50, 60]
    context = context_matrix([np.array([0, 1, 2, 3]), np.array([3])], context=3, n_items=4).toarray()
    np.testing.assert_allclose(context, [[0, 1 / 3, 1 / 2, 1], [0, 0, 0, 1]])


@pytest.mark.parametrize("field", ["context", "window"])
@pytest.mark.parametrize("value", [0, -1, 1.5, True])
def test_bad_config_is_refused_by_name(field, value):
    with pytest.raises(ConfigError, match=f"markov.{field} should be a positive integer"):
        MarkovConfig(**{field: value})


def test_scores_match_the_order_check():
    # the order check (movierec.order) scores the same chain: context 3, window 3
    rec = MarkovRecommender(MarkovConfig()).fit(CYCLIC)
    np.testing.assert_allclose(rec.score(ALL_USERS), markov_scores(CYCLIC, ALL_USERS), rtol=1e-6)
    assert rec.n_items == N_ITEMS

"""The order check: hand-worked Markov and co-occurrence scores, and the decision on data with a known answer."""

from __future__ import annotations

import numpy as np
import pytest

from movierec.data.interactions import Interactions
from movierec.order import OrderDecision, cooccurrence_scores, decide_order, markov_scores
from movierec.testing import ALL_USERS, N_ITEMS, N_USERS, block_data

# user 0 watched 0, 1, 2 in that order; user 1 watched 1 then 2
TINY = Interactions.from_arrays([0, 0, 0, 1, 1], [2, 0, 1, 2, 1], timestamps=[3, 1, 2, 9, 8], n_users=2, n_items=3)


def test_markov_scores_hand_worked():
    # transitions: 0->1 (gap 1), 1->2 twice (gap 1), 0->2 (gap 2, weight 1/2); rows normalised:
    # T[0] = [0, 2/3, 1/3], T[1] = [0, 0, 1], T[2] = 0. User 0's latest are 2, 1, 0 (weights 1, 1/2, 1/3):
    # T[2] + T[1] / 2 + T[0] / 3 = [0, 2/9, 1/2 + 1/9]; user 1's are 2, 1: [0, 0, 1/2]
    expected = np.array([[0.0, 2 / 9, 0.5 + 1 / 9], [0.0, 0.0, 0.5]])
    np.testing.assert_allclose(markov_scores(TINY, np.array([0, 1])), expected, rtol=1e-6)


def test_cooccurrence_scores_hand_worked():
    # columns 0: {u0}, 1: {u0, u1}, 2: {u0, u1}: cos(0,1) = cos(0,2) = 1/sqrt2, cos(1,2) = 1, cos(a,a) = 1.
    # user 1 watched 1 and 2: [2/sqrt2, 2, 2]; user 0 watched all three: [1 + 2/sqrt2, 1/sqrt2 + 2, same]
    r = 1 / np.sqrt(2)
    expected = np.array([[1 + 2 * r, r + 2, r + 2], [2 * r, 2.0, 2.0]])
    np.testing.assert_allclose(cooccurrence_scores(TINY, np.array([0, 1])), expected, rtol=1e-6)


RING = 12  # movies on a ring; user u watches 4 consecutive ones from u % RING, in ring order


def _ring() -> tuple[Interactions, Interactions]:
    """`(train, next)`: 24 users, each watching movies s..s+3 of the ring in order; next is s+4 for each."""
    users, items, times, nexts = [], [], [], []
    for u in range(2 * RING):
        for step in range(4):
            users.append(u)
            items.append((u + step) % RING)
            times.append(1_000 * u + step)
        nexts.append((u + 4) % RING)
    n = 2 * RING
    train = Interactions.from_arrays(users, items, None, times, n_users=n, n_items=RING)
    held = Interactions.from_arrays(np.arange(n), nexts, None, np.full(n, 10**6), n_users=n, n_items=RING)
    return train, held


def test_order_is_used_when_the_next_movie_follows_the_latest():
    # the Markov chain names s+4 first (it always followed s+3); co-occurrence cannot tell the movies just
    # before a user's window from those just after it (the ring is symmetric), so it ranks s+4 lower
    train, held = _ring()
    decision = decide_order(train, held)
    assert decision.ordered == pytest.approx(1.0)
    assert decision.unordered < 0.9
    assert decision.used


def test_order_is_not_used_when_the_next_movie_is_what_the_block_lacks():
    # each user's one unseen movie of their block is the answer; co-occurrence ranks it first for everyone
    train, withheld = block_data()
    held = Interactions.from_arrays(ALL_USERS, withheld, None, np.full(N_USERS, 2_000_000), n_users=N_USERS,
                                    n_items=N_ITEMS)  # fmt: skip
    decision = decide_order(train, held)
    assert decision.unordered == pytest.approx(1.0)
    assert not decision.used


def test_no_validation_keeps_the_order_free_model():
    decision = decide_order(TINY, None)
    assert not decision.used and decision.users == 0


def test_decision_round_trips_and_says_why():
    decision = decide_order(*_ring(), max_users=7, seed=1)
    assert decision.users == 7
    assert OrderDecision(**decision.to_dict()) == decision
    assert "Markov chain" in decision.summary() and "co-occurrence" in decision.summary()

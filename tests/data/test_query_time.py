"""When the two-tower model asks its queries: the share of the validation slice after the training data."""

from __future__ import annotations

import pytest

from movierec.data import Interactions
from movierec.data.query_time import LATER_SHARE, decide_query_time, later_share
from movierec.records import QueryTimeDecision

TRAIN = Interactions.from_arrays([0, 0, 1, 2], [0, 1, 2, 3], timestamps=[10, 20, 30, 40], n_users=3, n_items=5)


def _slice(stamps: list[int]) -> Interactions:
    n = len(stamps)
    return Interactions.from_arrays([i % 3 for i in range(n)], [4] * n, timestamps=stamps, n_users=3, n_items=5)


def test_a_slice_after_the_training_data_asks_every_query_now():
    # every validation rating after 40, the latest training one (a split in time)
    decision = decide_query_time(TRAIN, _slice([41, 50, 60]))
    assert decision == QueryTimeDecision(used=True, later=1.0)


def test_a_slice_from_the_same_months_leaves_the_rating_time_out():
    # 1 of 4 after 40 (a random slice); a rating at exactly 40 is not later
    assert later_share(TRAIN, _slice([15, 40, 25, 45])) == 0.25
    assert decide_query_time(TRAIN, _slice([15, 40, 25, 45])) == QueryTimeDecision(used=False, later=0.25)


def test_half_the_slice_after_the_training_data_is_enough():
    assert LATER_SHARE == 0.5
    assert decide_query_time(TRAIN, _slice([5, 45])).used
    assert not decide_query_time(TRAIN, _slice([5, 6, 45])).used


@pytest.mark.parametrize("validation", [None, _slice([])])
def test_without_a_validation_slice_the_rating_time_is_left_out(validation):
    decision = decide_query_time(TRAIN, validation)
    assert decision == QueryTimeDecision(used=False, later=None)
    assert "without a validation slice" in decision.summary()
    assert QueryTimeDecision.from_dict(decision.to_dict()) == decision

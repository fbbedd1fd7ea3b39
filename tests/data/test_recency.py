"""`movierec.data.recency`: which rows count more, the drift check on the validation slice, known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from movierec.data import Interactions
from movierec.data.recency import (
    decide_recency,
    recent_positions,
    validation_log_probability,
    weighted_counts,
    weighted_stream,
)


def _rows(users, items, timestamps=None, n_users=3, n_items=3) -> Interactions:
    return Interactions.from_arrays(users, items, timestamps=timestamps, n_users=n_users, n_items=n_items)


# movie 0 was watched early, movie 2 late: 6 rows, times out of row order, a tie at 50
DRIFT = _rows([0, 1, 2, 0, 1, 2], [0, 0, 0, 1, 2, 2], timestamps=[10, 20, 30, 50, 60, 50])


def test_recent_positions_are_the_latest_share_with_ties_in_row_order():
    # by time: rows 0, 1, 2, then 3 and 5 tie at 50 (row order: 3 before 5), then 4
    assert recent_positions(DRIFT, 0.5).tolist() == [3, 4, 5]
    assert recent_positions(DRIFT, 2 / 6).tolist() == [4, 5]  # of the tie, the later row
    assert recent_positions(DRIFT, 0.25).tolist() == [4, 5]  # 1.5 rows round half up to 2
    assert recent_positions(DRIFT, 0.05).tolist() == []
    assert recent_positions(DRIFT, 1.0).tolist() == list(range(6))


def test_weighted_stream_appends_the_latest_rows_repeats_times():
    stream = weighted_stream(DRIFT, 0.5, 2)
    assert len(stream) == 6 + 2 * 3
    np.testing.assert_array_equal(stream.items, [0, 0, 0, 1, 2, 2] + [1, 2, 2] * 2)
    np.testing.assert_array_equal(stream.users[6:], [0, 1, 2, 0, 1, 2])
    np.testing.assert_array_equal(stream.timestamps[6:], [50, 60, 50] * 2)
    assert stream.item_counts().tolist() == [3, 3, 6]
    assert (stream.n_users, stream.n_items) == (3, 3)


def test_validation_log_probability_uses_add_one_counts():
    validation = _rows([0, 1], [2, 0])
    # plain counts 3, 1, 2 -> add one: 4, 2, 3 of 9
    np.testing.assert_allclose(validation_log_probability(DRIFT.item_counts(), validation), np.log([3 / 9, 4 / 9]))


def test_weighted_counts_are_the_weighted_streams_counts():
    for share, repeats in ((0.5, 2), (2 / 6, 1), (0.05, 3), (1.0, 2)):
        np.testing.assert_array_equal(
            weighted_counts(DRIFT, share, repeats), weighted_stream(DRIFT, share, repeats).item_counts()
        )


def test_a_validation_slice_of_late_movies_turns_recency_on():
    late = _rows([0, 1, 2], [2, 2, 1])
    decision = decide_recency("validation", 0.5, 2, DRIFT, late)
    assert decision.used
    # plain add-one counts 4, 2, 3 of 9; weighted (3, 3, 6) + 1 = 4, 4, 7 of 15
    plain = np.log([3 / 9, 3 / 9, 2 / 9])
    weighted = np.log([7 / 15, 7 / 15, 4 / 15])
    assert decision.plain == pytest.approx(plain.mean(), abs=1e-6)
    assert decision.weighted == pytest.approx(weighted.mean(), abs=1e-6)
    assert decision.gain_se == pytest.approx(np.std(weighted - plain, ddof=1) / math.sqrt(3), abs=1e-6)
    assert "counted the latest 50% of the training ratings 3x: the validation movies are likelier" in (
        decision.summary()
    )


def test_a_validation_slice_like_the_whole_past_keeps_it_off():
    early = _rows([0, 1, 2], [0, 0, 0])  # the movie everyone watched first
    decision = decide_recency("validation", 0.5, 2, DRIFT, early)
    assert not decision.used and decision.weighted < decision.plain
    assert "counted the latest 50% of the training ratings like the others" in decision.summary()


def test_fixed_modes_and_missing_validation():
    late = _rows([0], [2])
    assert decide_recency("on", 0.5, 2, DRIFT, None).used
    assert not decide_recency("off", 0.5, 2, DRIFT, late).used
    assert decide_recency("off", 0.5, 2, DRIFT, late).plain is None  # "off" reads nothing
    empty = _rows([], [])
    for validation in (None, empty):
        decision = decide_recency("validation", 0.5, 2, DRIFT, validation)
        assert not decision.used and decision.plain is None
    assert not decide_recency("validation", 0.05, 2, DRIFT, late).used  # no row is among the latest 5%

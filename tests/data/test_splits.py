"""split_ratings: known answers on tiny frames plus hypothesis properties for every strategy."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from movierec.config import SplitConfig
from movierec.data.splits import split_ratings
from movierec.errors import ConfigError, DataError

STRATEGIES = ("random", "temporal", "leave_last")


def _frame(rows: list[tuple[str, int]]) -> pd.DataFrame:
    """Ratings whose item id is the row position, so rows can be traced through a split."""
    return pd.DataFrame(
        {
            "user_id": [u for u, _ in rows],
            "item_id": [str(i) for i in range(len(rows))],
            "rating": [1.0] * len(rows),
            "timestamp": [t for _, t in rows],
        }
    )


rows_strategy = st.lists(st.tuples(st.sampled_from("abcde"), st.integers(0, 20)), min_size=0, max_size=60)
fractions = st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.9])


def _ids(frame: pd.DataFrame) -> list[int]:
    return [int(i) for i in frame.item_id]


@settings(max_examples=150, deadline=None)
@given(rows=rows_strategy, strategy=st.sampled_from(STRATEGIES), test=fractions, val=fractions, seed=st.integers(0, 5))
def test_parts_are_disjoint_cover_all_rows_and_are_deterministic(rows, strategy, test, val, seed):
    frame = _frame(rows)
    config = SplitConfig(strategy=strategy, test_fraction=test, validation_fraction=val, seed=seed)
    split = split_ratings(frame, config)
    parts = [_ids(split.train), _ids(split.validation), _ids(split.test)]
    assert sorted(parts[0] + parts[1] + parts[2]) == list(range(len(rows)))
    assert all(p == sorted(p) for p in parts)  # input order preserved
    again = split_ratings(frame, config)
    assert [_ids(again.train), _ids(again.validation), _ids(again.test)] == parts
    assert list(split.train.columns) == list(frame.columns)
    if val == 0:
        assert split.validation.empty
    if test == 0:
        assert split.test.empty
    if strategy != "leave_last":
        n_test = int(test * len(rows) + 0.5)
        assert len(split.test) == n_test
        assert len(split.validation) == int(val * (len(rows) - n_test) + 0.5)


@settings(max_examples=150, deadline=None)
@given(rows=rows_strategy, test=fractions, val=fractions)
def test_temporal_never_trains_on_the_future(rows, test, val):
    split = split_ratings(_frame(rows), SplitConfig(strategy="temporal", test_fraction=test, validation_fraction=val))
    if len(split.test) and len(split.train):
        assert split.train.timestamp.max() <= split.test.timestamp.min()
    if len(split.validation) and len(split.train):
        assert split.train.timestamp.max() <= split.validation.timestamp.min()
    if len(split.validation) and len(split.test):
        assert split.validation.timestamp.max() <= split.test.timestamp.min()


@settings(max_examples=150, deadline=None)
@given(rows=rows_strategy, val=st.sampled_from([0.0, 0.1]))
def test_leave_last_holds_out_each_users_latest(rows, val):
    frame = _frame(rows)
    split = split_ratings(frame, SplitConfig(strategy="leave_last", validation_fraction=val))
    counts = frame.user_id.value_counts()
    assert sorted(split.test.user_id) == sorted(counts[counts >= 2].index)  # one row per such user
    for row in split.test.itertuples():
        mine = frame[frame.user_id == row.user_id]
        latest = mine[mine.timestamp == mine.timestamp.max()]
        assert int(row.item_id) == int(latest.item_id.iloc[-1])  # ties: the later row
    assert set(split.train.user_id) == set(frame.user_id)  # every user keeps a train row
    if val:
        assert sorted(split.validation.user_id) == sorted(counts[counts >= 3].index)


def test_known_answers_for_each_strategy():
    frame = _frame([("a", 5), ("a", 1), ("b", 3), ("b", 3), ("a", 9), ("c", 0)])
    temporal = split_ratings(frame, SplitConfig(strategy="temporal", test_fraction=0.34, validation_fraction=0.25))
    # by time: 5(0) 1(1) 3(2) 3(3) 9(4) 0(5) -> order 5,1,2,3,0,4; last 2 rows (0.34*6=2.04) to test
    assert (_ids(temporal.train), _ids(temporal.validation), _ids(temporal.test)) == ([1, 2, 5], [3], [0, 4])
    last = split_ratings(frame, SplitConfig(strategy="leave_last", validation_fraction=0.1))
    # a: ts 5,1,9 -> test row 4, validation row 0; b: equal ts -> test the later row 3; c: 1 rating
    assert (_ids(last.train), _ids(last.validation), _ids(last.test)) == ([1, 2, 5], [0], [3, 4])
    shuffled = split_ratings(frame, SplitConfig(strategy="random", seed=7))
    assert shuffled.sizes() == (4, 1, 1)  # test round(0.2 * 6) = 1, validation round(0.1 * 5) = 1


def test_bad_input_is_reported():
    with pytest.raises(DataError, match="lacks column"):
        split_ratings(pd.DataFrame({"user_id": ["a"]}), SplitConfig())
    with pytest.raises(ConfigError, match="should be a SplitConfig"):
        split_ratings(_frame([("a", 1)]), {"strategy": "random"})  # type: ignore[arg-type]

"""Ranking (`movierec.ranking`): top-k of a block and of one row, seen-masking, the default `k`.

Every caller ranks through these (the library's `recommend`, evaluation, the compare job's
samples, the serving engine), so their tie-breaking and padding are checked here once.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from movierec.ranking import SeenItems, _top_k_above_threshold, rank_row, rank_rows, top_k, top_k_row

# few distinct values, so ties at the cut (and -inf, the masked items) are common; NaN now and then
ROW_VALUES = st.sampled_from([-np.inf, -1.0, 0.0, 0.5, 0.5000001, 1.0, 2.0, np.inf, np.nan])


@settings(max_examples=300, deadline=None)
@given(scores=hnp.arrays(np.float32, st.integers(1, 40), elements=ROW_VALUES), k=st.integers(1, 50))
def test_top_k_row_equals_top_k(scores, k):
    items, values = top_k_row(scores, k)
    expected_items, expected_values = top_k(scores[None, :], k)
    np.testing.assert_array_equal(items, expected_items[0])
    np.testing.assert_array_equal(values, expected_values[0])


def test_top_k_row_breaks_ties_by_lower_index():
    items, values = top_k_row(np.array([1.0, 3.0, 3.0, 2.0, 3.0, -np.inf], np.float32), 6)
    assert items.tolist() == [1, 2, 4, 3, 0, -1]
    assert values.tolist() == [3.0, 3.0, 3.0, 2.0, 1.0, -np.inf]


def test_top_k_breaks_ties_by_lower_index_and_pads_with_minus_one():
    scores = np.array([[1.0, 3.0, 3.0, -np.inf], [-np.inf, -np.inf, 0.5, 0.5]], np.float32)
    items, values = top_k(scores, 3)
    np.testing.assert_array_equal(items, [[1, 2, 0], [2, 3, -1]])
    np.testing.assert_array_equal(values[0], [3.0, 3.0, 1.0])


def _reference_top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """A full stable sort of every row: descending score, then ascending item; -inf becomes item -1."""
    order = np.lexsort((np.broadcast_to(np.arange(scores.shape[1]), scores.shape), -scores), axis=1)[:, :k]
    values = np.take_along_axis(scores, order, axis=1)
    return np.where(np.isneginf(values), -1, order), values


@pytest.mark.parametrize("seed", range(6))
def test_top_k_over_many_items_equals_a_full_sort(seed):
    """The threshold path (k * 64 <= n_items) against a full sort: ties, masked (-inf) and sorted rows."""
    rng = np.random.default_rng(seed)
    n_items, k = 5000, int(rng.choice([1, 10, 50, 78]))
    scores = rng.standard_normal((40, n_items)).astype(np.float32)
    scores[:8] = np.round(scores[:8] * 2) / 2  # rows full of ties, at the cut too
    scores[8:16, rng.choice(n_items, 4000, replace=False)] = -np.inf  # mostly masked: seen movies
    scores[16] = -np.inf  # nothing left to recommend
    scores[17, : k // 2] = 1.0  # fewer finite scores than k
    scores[17, k // 2 :] = -np.inf
    scores[18:24] = np.sort(scores[18:24], axis=1)[:, ::-1]  # scores that fall with the item index
    scores[24:28] = np.sort(scores[24:28], axis=1)  # ... or rise with it
    scores[28] = 0.0  # all tied
    items, values = top_k(scores, k)
    _, _, done = _top_k_above_threshold(scores, k)
    assert done[29:].all()  # the random rows take the threshold path; the odd ones may fall back
    expected_items, expected_values = _reference_top_k(scores, k)
    np.testing.assert_array_equal(items, expected_items)
    np.testing.assert_array_equal(values, expected_values)
    assert items.dtype == np.int64 and values.dtype == np.float32


def test_rank_rows_masks_each_rows_items_and_the_blocked_ones_without_touching_the_scores():
    scores = np.array([[0.1, 0.9, 0.5, 0.9, 0.3], [0.8, 0.2, 0.7, 0.6, 0.5]], np.float32)
    before = scores.copy()
    exclude = sp.csr_matrix(np.array([[0, 1, 0, 0, 0], [1, 0, 0, 0, 0]], np.float32))
    items, values = rank_rows(scores, 3, exclude=exclude, blocked=np.array([False, False, False, True, False]))
    # row 0: 1 seen, 3 blocked -> 2 (0.5), 4 (0.3), 0 (0.1); row 1: 0 seen, 3 blocked -> 2, 4, 1
    np.testing.assert_array_equal(items, [[2, 4, 0], [2, 4, 1]])
    np.testing.assert_array_equal(values, np.array([[0.5, 0.3, 0.1], [0.7, 0.5, 0.2]], np.float32))
    np.testing.assert_array_equal(scores, before)
    np.testing.assert_array_equal(rank_rows(scores, 2)[0], [[1, 3], [0, 2]])  # nothing masked: ties by index


def test_rank_row_equals_rank_rows_for_one_row():
    rng = np.random.default_rng(0)
    scores = np.round(rng.standard_normal((6, 50)), 1).astype(np.float32)
    seen = sp.random(6, 50, density=0.3, format="csr", random_state=1, dtype=np.float32)
    seen.data[:3] = 0.0  # explicit zeros are not seen items, for either
    rows = SeenItems(seen)
    expected_items, expected_values = rank_rows(scores, 12, exclude=seen)
    for row in range(6):
        items, values = rank_row(scores[row].copy(), 12, exclude=rows.of(row))
        np.testing.assert_array_equal(items, expected_items[row])
        np.testing.assert_array_equal(values, expected_values[row])


def test_seen_items_lists_each_rows_non_zero_columns():
    rows = SeenItems(sp.csr_matrix(np.array([[0, 2, 0, 1], [0, 0, 0, 0], [3, 0, 0, 0]], np.float32)))
    assert [rows.of(r).tolist() for r in range(3)] == [[1, 3], [], [0]]

"""The base `Recommender`: what `fit` checks and remembers, for any subclass."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from movierec.data import Interactions
from movierec.errors import ModelFitError, NotFittedError
from movierec.recommender import FitOptions, Recommender, _top_k_above_threshold, top_k


class ConstantRecommender(Recommender):
    """Scores every item `value`; `value=nan` stands for a fit that diverged."""

    kind = "constant_for_tests"

    def __init__(self, value: float) -> None:
        super().__init__(None)
        self.value = value
        self.factors = np.zeros(0, np.float32)
        self.options: FitOptions | None = None

    def _fit(self, data, options):
        self.options = options
        self.factors = np.full(data.n_items, self.value, np.float32)

    def _learned_arrays(self):
        return {"item factors": self.factors}

    def score(self, users):
        return np.tile(self.factors, (len(users), 1))

    def _save_state(self, directory: Path) -> None:  # pragma: no cover - not saved
        pass

    def _load_state(self, directory: Path) -> None:  # pragma: no cover - not saved
        pass


DATA = Interactions.from_arrays([0, 0, 1], [0, 2, 1], n_users=2, n_items=3)


def test_nan_after_fit_is_a_model_fit_error():
    rec = ConstantRecommender(float("nan"))
    with pytest.raises(ModelFitError, match=r"3 non-finite value\(s\) in item factors"):
        rec.fit(DATA)
    assert not rec.is_fitted
    with pytest.raises(NotFittedError):
        rec.recommend(np.array([0]), k=1)


def test_fit_remembers_seen_items_and_passes_options_through():
    options = FitOptions(validation=DATA)
    rec = ConstantRecommender(1.0).fit(DATA, options)
    assert rec.is_fitted and rec.options is options
    np.testing.assert_array_equal(rec.seen.toarray(), [[1, 0, 1], [0, 1, 0]])
    # all scores tie, so the lowest unseen index comes first
    items, _ = rec.recommend(np.array([0, 1]), k=2)
    np.testing.assert_array_equal(items, [[1, -1], [0, 2]])


def test_top_k_breaks_ties_by_lower_index_and_pads_with_minus_one():
    scores = np.array([[1.0, 3.0, 3.0, -np.inf], [-np.inf, -np.inf, 0.5, 0.5]], np.float32)
    items, values = top_k(scores, 3)
    np.testing.assert_array_equal(items, [[1, 2, 0], [2, 3, -1]])
    np.testing.assert_array_equal(values[0], [3.0, 3.0, 1.0])


def test_add_seen_excludes_more_items_without_refitting():
    rec = ConstantRecommender(1.0).fit(DATA)
    before = rec.factors.copy()
    rec.add_seen(Interactions.from_arrays([1], [2], n_users=2, n_items=3))
    np.testing.assert_array_equal(rec.seen.toarray(), [[1, 0, 1], [0, 1, 1]])
    np.testing.assert_array_equal(rec.factors, before)
    items, _ = rec.recommend(np.array([1]), k=3)
    np.testing.assert_array_equal(items, [[0, -1, -1]])


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

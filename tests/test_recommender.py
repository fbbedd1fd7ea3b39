"""The base `Recommender`: what `fit` checks and remembers, for any subclass."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from movierec.data import Interactions
from movierec.errors import ModelFitError, NotFittedError
from movierec.recommender import FitOptions, Recommender


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


def test_add_seen_excludes_more_items_without_refitting():
    rec = ConstantRecommender(1.0).fit(DATA)
    before = rec.factors.copy()
    rec.add_seen(Interactions.from_arrays([1], [2], n_users=2, n_items=3))
    np.testing.assert_array_equal(rec.seen.toarray(), [[1, 0, 1], [0, 1, 1]])
    np.testing.assert_array_equal(rec.factors, before)
    items, _ = rec.recommend(np.array([1]), k=3)
    np.testing.assert_array_equal(items, [[0, -1, -1]])

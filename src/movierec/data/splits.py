"""Split canonical ratings into train / validation / test.

Three strategies (`SplitConfig.strategy`):

* "random": a seeded shuffle; `test_fraction` of the rows go to test (the TFRS tutorial's 80/20).
* "temporal": one global cut in time; the latest `test_fraction` of the rows go to test.
  Equal timestamps are ordered by their row position, so the split is deterministic.
* "leave_last": each user's latest rating goes to test; users with a single rating stay in train.

Validation is carved out of train with the same strategy, never out of test, so test
stays untouched by model selection. Fractions are rounded to whole rows;
a fraction of 0 gives an empty frame. For "leave_last" the fractions only switch the
held-out set on (> 0) or off (0): each user gives at most one row to each.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from movierec.config import SplitConfig
from movierec.data.dataset import RATING_COLUMNS
from movierec.errors import ConfigError, DataError

__all__ = ["Split", "split_ratings"]


@dataclass(frozen=True)
class Split:
    """Disjoint train / validation / test ratings, each a canonical ratings frame.

    Attributes:
        train: Rows the models are fitted on.
        validation: Rows for early stopping and tuning (may be empty).
        test: Held-out rows for the final report (may be empty).

    Example:
        >>> frame = pd.DataFrame({"user_id": ["a"] * 3, "item_id": ["x", "y", "z"],
        ...     "rating": [4.0] * 3, "timestamp": [1, 3, 2]})
        >>> s = split_ratings(frame, SplitConfig(strategy="leave_last"))
        >>> s.test.item_id.tolist(), s.validation.item_id.tolist(), s.train.item_id.tolist()
        (['y'], ['z'], ['x'])
    """

    train: pd.DataFrame
    validation: pd.DataFrame
    test: pd.DataFrame

    def sizes(self) -> tuple[int, int, int]:
        """Row counts `(train, validation, test)`."""
        return len(self.train), len(self.validation), len(self.test)


def split_ratings(ratings: pd.DataFrame, config: SplitConfig) -> Split:
    """Splits ratings into train / validation / test according to `config`.

    Args:
        ratings: Canonical ratings frame (`user_id`, `item_id`, `rating`, `timestamp`).
        config: Strategy, fractions and seed.

    Returns:
        A `Split` whose three frames are disjoint, together hold every input row,
        keep the input's row order and have a fresh `0..n-1` index.

    Raises:
        DataError: if `ratings` lacks a canonical column.
        ConfigError: if `config` is not a `SplitConfig`.
    """
    if not isinstance(config, SplitConfig):
        raise ConfigError(f"`config` should be a SplitConfig. Received: {type(config).__name__}")
    missing = [c for c in RATING_COLUMNS if c not in ratings.columns]
    if missing:
        raise DataError(f"split_ratings: `ratings` lacks column(s) {missing}; need {list(RATING_COLUMNS)}")
    rows = np.arange(len(ratings))
    timestamps = ratings["timestamp"].to_numpy()
    users = ratings["user_id"].to_numpy()
    rng = np.random.default_rng(config.seed)
    train, test = _hold_out(rows, config.strategy, config.test_fraction, timestamps, users, rng)
    train, validation = _hold_out(train, config.strategy, config.validation_fraction, timestamps, users, rng)
    return Split(_take(ratings, train), _take(ratings, validation), _take(ratings, test))


def _hold_out(
    rows: np.ndarray,
    strategy: str,
    fraction: float,
    timestamps: np.ndarray,
    users: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Splits row positions into (kept, held out), both sorted."""
    if fraction <= 0 or len(rows) == 0:
        return rows, rows[:0]
    if strategy == "random":
        held = rng.permutation(rows)[: _count(fraction, len(rows))]
    elif strategy == "temporal":
        by_time = rows[np.argsort(timestamps[rows], kind="stable")]  # ties: row order
        held = by_time[len(rows) - _count(fraction, len(rows)) :]
    else:
        held = _last_per_user(rows, timestamps, users)
    held = np.sort(held)
    return np.setdiff1d(rows, held, assume_unique=True), held


def _last_per_user(rows: np.ndarray, timestamps: np.ndarray, users: np.ndarray) -> np.ndarray:
    """Each user's latest row (the later row on equal timestamps), for users with >= 2 rows."""
    frame = pd.DataFrame({"row": rows, "user": users[rows], "ts": timestamps[rows]})
    frame = frame.sort_values(["user", "ts", "row"], kind="stable")
    counts = frame.groupby("user", sort=False)["row"].transform("size")
    last = ~frame["user"].duplicated(keep="last")
    return frame.loc[last & (counts >= 2), "row"].to_numpy()


def _count(fraction: float, n: int) -> int:
    return int(min(n, fraction * n + 0.5))  # round half up


def _take(ratings: pd.DataFrame, rows: np.ndarray) -> pd.DataFrame:
    return ratings.iloc[rows].reset_index(drop=True)

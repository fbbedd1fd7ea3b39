"""Configurations of the non-neural models (most-popular, EASE, ALS, the Markov chain)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from movierec._checks import check_finite_fields, check_seed
from movierec.errors import ConfigError

__all__ = ["PopularityConfig", "EaseConfig", "AlsConfig", "MarkovConfig"]


@dataclass(frozen=True)
class PopularityConfig:
    """Configuration of `PopularityRecommender`."""

    kind: Literal["popularity"] = "popularity"  # registry key; do not change
    name: str = "popularity"  # run / report label
    # count only the latest share of the training ratings (by timestamp): what is watched now, not over the
    # years (ties, and movies not rated in that window, go by their counts over every rating); 1 = every rating
    recent_share: float = 1.0

    def __post_init__(self) -> None:
        share = self.recent_share
        if not isinstance(share, (int, float)) or isinstance(share, bool) or not 0 < share <= 1:
            raise ConfigError(f"popularity.recent_share must be a number in (0, 1]. Received: {share!r}")


@dataclass(frozen=True)
class EaseConfig:
    """Configuration of `EaseRecommender`."""

    kind: Literal["ease"] = "ease"  # registry key; do not change
    name: str = "ease"  # run / report label
    l2: float = 500.0  # λ added to the Gram diagonal; a few hundred suits ML-100k
    # Fit on the N most-rated movies only (the EASE paper kept 20k of ML-20M's 27k): the dense
    # item x item inverse needs about 24 * N² bytes at its peak. The rest rank last, by popularity.
    max_items: int = 20_000

    def __post_init__(self) -> None:
        check_finite_fields(self, "ease.")
        if not isinstance(self.l2, (int, float)) or isinstance(self.l2, bool) or not self.l2 > 0:
            raise ConfigError(f"ease.l2 must be a number > 0. Received: `l2` = {self.l2!r}")
        if not isinstance(self.max_items, int) or isinstance(self.max_items, bool) or self.max_items <= 0:
            raise ConfigError(
                f"ease.max_items should be a positive integer. Received: `max_items` = {self.max_items!r}"
            )


@dataclass(frozen=True)
class AlsConfig:
    """Configuration of `AlsRecommender`."""

    kind: Literal["als"] = "als"  # registry key; do not change
    name: str = "als"  # run / report label
    factors: int = 64  # latent dimension f
    regularization: float = 50.0  # λ on the squared norms of factors (not scaled by counts); ML-100k tuned
    alpha: float = 5.0  # confidence slope: an observed pair weighs 1 + alpha, an unobserved one 1
    iterations: int = 15  # sweeps; each solves all items, then all users
    seed: int | None = None  # seeds the initial user factors; None: the run's seed (`train --seed`)

    def __post_init__(self) -> None:
        check_finite_fields(self, "als.")
        if self.seed is not None:
            check_seed(self.seed, "als.seed")
        for name in ("factors", "iterations"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ConfigError(f"als.{name} should be a positive integer. Received: `{name}` = {value!r}")
        for name in ("regularization", "alpha"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not value >= 0:
                raise ConfigError(f"als.{name} must be a number >= 0. Received: `{name}` = {value!r}")
        if self.regularization == 0:
            raise ConfigError("als.regularization must be > 0 so every system is solvable. Received: 0")


@dataclass(frozen=True)
class MarkovConfig:
    """Configuration of `MarkovRecommender`: what followed each user's latest movies, counted."""

    kind: Literal["markov"] = "markov"  # registry key; do not change
    name: str = "markov"  # run / report label
    # the user's latest movies read (the j-th latest weighs 1/j)
    context: int = 3
    # a movie "follows" another when it comes 1 to `window` steps later (d steps later weighs 1/d)
    window: int = 3

    def __post_init__(self) -> None:
        for name in ("context", "window"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ConfigError(f"markov.{name} should be a positive integer. Received: `{name}` = {value!r}")

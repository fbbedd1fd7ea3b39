"""Configuration of `AutoRecommender`: several candidate models, one kept by its validation score."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from movierec._checks import check_finite_fields
from movierec.errors import ConfigError

__all__ = ["AutoConfig", "METRICS"]

METRICS = ("ndcg@10", "hr@10", "recall@10")  # the per-user metrics of `evaluate`, so choices are paired


@dataclass(frozen=True)
class AutoConfig:
    """Configuration of `AutoRecommender` (`movierec train --preset auto`).

    Each candidate is a model config table with a `kind` (what `[overrides]` or `--config` files
    hold); `movierec.registry.config_from_dict` checks them when the recommender is built.
    """

    kind: Literal["auto"] = "auto"  # registry key; do not change
    name: str = "auto"  # run / report label
    # candidate model configs, fitted in this order: the first always runs and is kept unless a later one
    # is clearly better (margin_se), so put the model you would otherwise use first
    candidates: tuple[dict[str, Any], ...] = ({"kind": "popularity"}, {"kind": "ease"}, {"kind": "als"})
    # seconds: no candidate starts once the candidates fitted so far took this long (the first always runs,
    # and a started candidate finishes)
    time_budget: float = 600.0
    # validation metric that picks the winner (higher is better), one of METRICS
    metric: str = "ndcg@10"
    # a candidate replaces the one chosen so far only if its validation mean is higher by more than this
    # many standard errors of the per-user difference (the same users score both): earlier candidates
    # win ties and noise-level differences; 0 keeps any higher mean
    margin_se: float = 1.0

    def __post_init__(self) -> None:
        check_finite_fields(self, "auto.")
        if not isinstance(self.candidates, tuple) or not self.candidates:
            raise ConfigError(
                f"auto.candidates must be a non-empty list of model tables. Received: {self.candidates!r}"
            )
        names = []
        for position, candidate in enumerate(self.candidates):
            if not isinstance(candidate, dict) or not isinstance(candidate.get("kind"), str):
                raise ConfigError(f"auto.candidates[{position}] must be a table with a `kind`. Received: {candidate!r}")
            if candidate["kind"] == "auto":
                raise ConfigError(f"auto.candidates[{position}]: a candidate cannot itself be `auto`")
            names.append(str(candidate.get("name", candidate["kind"])))
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ConfigError(f"auto.candidates: names must be unique (give each a `name`). Repeated: {repeated}")
        budget = self.time_budget
        if not isinstance(budget, (int, float)) or isinstance(budget, bool) or not budget > 0:
            raise ConfigError(f"auto.time_budget must be a number of seconds > 0. Received: {budget!r}")
        if self.metric not in METRICS:
            raise ConfigError(f"auto.metric must be one of {list(METRICS)}. Received: {self.metric!r}")
        margin = self.margin_se
        if not isinstance(margin, (int, float)) or isinstance(margin, bool) or not margin >= 0:
            raise ConfigError(f"auto.margin_se must be a number >= 0. Received: {margin!r}")

"""Configuration of `BlendRecommender`: two models' scores mixed with a weight chosen on the validation slice."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from movierec._checks import check_finite_fields, check_model_table
from movierec.errors import ConfigError

__all__ = ["BlendConfig"]


@dataclass(frozen=True)
class BlendConfig:
    """Scores `weight * z(first) + (1 - weight) * z(second)`, each member's scores standardised per user.

    Both members are trained on the same data; `weight` is then chosen on the validation slice among
    `steps + 1` evenly spaced values from 0 (the second alone) to 1 (the first alone), then refined
    `refine` times around the best (the spacing halved each time), unless given. A member may be a blend
    itself: it chooses its own weight on the same slice, then this blend weighs its standardised scores.

    Example:
        >>> BlendConfig().first["kind"], BlendConfig().second["kind"]
        ('sequential', 'ease')
    """

    kind: Literal["blend"] = "blend"  # registry key; do not change
    name: str = "blend"  # run / report label
    first: dict[str, Any] = field(default_factory=lambda: {"kind": "sequential"})  # a model table with a `kind`
    second: dict[str, Any] = field(default_factory=lambda: {"kind": "ease"})  # a model table with a `kind`
    weight: float | None = None  # of the first member; None: chosen on the validation slice
    # the weight when there is no validation slice to choose on (`--validation-fraction 0`); None: that is an error
    fallback_weight: float | None = None
    steps: int = 10  # weights tried: 0, 1/steps, ..., 1
    # then this many rounds try the two weights halfway between the best so far and its neighbours
    refine: int = 2
    # validation users the weight is chosen on at most (a fixed random sample beyond that)
    check_users: int = 3000

    def __post_init__(self) -> None:
        check_finite_fields(self, "blend.")
        for name in ("first", "second"):  # a member may itself be a blend (its weight is chosen first)
            check_model_table(getattr(self, name), f"blend.{name}", ("auto", "choice"), "a member cannot itself choose")
        for name in ("weight", "fallback_weight"):
            weight = getattr(self, name)
            if weight is not None and (
                not isinstance(weight, (int, float)) or isinstance(weight, bool) or not 0.0 <= weight <= 1.0
            ):
                raise ConfigError(f"blend.{name} must be a number in [0, 1] or absent. Received: {weight!r}")
        for name in ("steps", "check_users"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ConfigError(f"blend.{name} should be a positive integer. Received: {value!r}")
        refine = self.refine
        if isinstance(refine, bool) or not isinstance(refine, int) or not 0 <= refine <= 20:
            raise ConfigError(f"blend.refine should be an integer from 0 to 20. Received: {refine!r}")

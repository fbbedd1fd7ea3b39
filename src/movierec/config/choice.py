"""Configuration of `ChoiceRecommender`: an order-free and a sequential model, one trained, chosen by a check."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from movierec._checks import check_finite_fields, check_model_table
from movierec.errors import ConfigError

__all__ = ["ChoiceConfig", "DEFAULT_PRESET"]

# the preset `movierec train` uses without --preset (a `ChoiceConfig` of that name); the report finds it by name
DEFAULT_PRESET = "default"


@dataclass(frozen=True)
class ChoiceConfig:
    """`movierec train`'s default: a seconds-long check on the validation slice picks which model to train.

    The check (`movierec.order.decide_order`) scores a Markov chain over each user's latest movies
    against item co-occurrence on the validation movies; only the chosen candidate is trained.

    Example:
        >>> ChoiceConfig().ordered["kind"]
        'sequential'
    """

    kind: Literal["choice"] = "choice"  # registry key; do not change
    name: str = DEFAULT_PRESET  # run / report label
    # the model trained when order adds little (a model config table with a `kind`)
    unordered: dict[str, Any] = field(default_factory=lambda: {"kind": "ease"})
    # the model trained when order predicts the next movies (a model config table with a `kind`)
    ordered: dict[str, Any] = field(default_factory=lambda: {"kind": "sequential"})
    # trained instead of `ordered` when order predicts the next movies but the training data holds fewer than
    # `small_ratings` ratings (a model config table with a `kind`; None: `ordered` at every size)
    ordered_small: dict[str, Any] | None = None
    small_ratings: int = 0
    # the ordered predictor must lead by more than this many standard errors of the per-user difference
    margin_se: float = 1.0
    # validation users the check scores at most (a fixed random sample beyond that)
    check_users: int = 2000

    def __post_init__(self) -> None:
        check_finite_fields(self, "choice.")
        for name in self.member_fields():
            check_model_table(
                getattr(self, name), f"choice.{name}", ("auto", "choice"), "a candidate cannot itself choose"
            )
        margin = self.margin_se
        if not isinstance(margin, (int, float)) or isinstance(margin, bool) or not margin >= 0:
            raise ConfigError(f"choice.margin_se must be a number >= 0. Received: {margin!r}")
        users = self.check_users
        if isinstance(users, bool) or not isinstance(users, int) or users <= 0:
            raise ConfigError(f"choice.check_users should be a positive integer. Received: {users!r}")
        small = self.small_ratings
        if isinstance(small, bool) or not isinstance(small, int) or small < 0:
            raise ConfigError(f"choice.small_ratings should be an integer >= 0. Received: {small!r}")

    def member_fields(self) -> tuple[str, ...]:
        """The fields holding candidate model tables: `unordered`, `ordered` and, when set, `ordered_small`."""
        return ("unordered", "ordered") + (("ordered_small",) if self.ordered_small is not None else ())

    def ordered_for(self, n_ratings: int) -> str:
        """The field of the ordered candidate for training data of `n_ratings` ratings.

        Example:
            >>> config = ChoiceConfig(ordered_small={"kind": "markov"}, small_ratings=1000)
            >>> config.ordered_for(999), config.ordered_for(1000), ChoiceConfig().ordered_for(10)
            ('ordered_small', 'ordered', 'ordered')
        """
        return "ordered_small" if self.ordered_small is not None and n_ratings < self.small_ratings else "ordered"

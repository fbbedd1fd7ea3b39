"""The record of one fit (`Recommender.fit_record`) and of `movierec train`'s epoch search.

`FitRecord` is everything a caller needs from a fit besides the recommender itself: which model's
weights were trained (the recommender, or the candidate a chooser kept), its training curves, the
config that trains it again without a validation slice, and what the fit decided (`FitDecisions`).
`EpochSearch` is what `movierec train` stores as `epoch_search` in a model directory's `model.json`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from movierec.records._fields import curves_of, field_of, object_of
from movierec.records.decisions import FitDecisions

__all__ = ["FitRecord", "EpochSearch"]


@dataclass(frozen=True)
class FitRecord:
    """What one fit produced besides the weights.

    Example:
        >>> record = FitRecord("ease", "ease", {"kind": "ease", "l2": 1.0})
        >>> FitRecord.from_dict(record.to_dict()) == record
        True
        >>> record.summary() is None  # EASE decides nothing beyond its weights
        True
    """

    model: str  # name of the model whose weights were trained: the recommender, or the candidate a chooser kept
    kind: str  # that model's kind
    refit_config: dict[str, Any]  # its config (`to_dict`) as decided: trains it again without a validation slice
    history: dict[str, list[float]] = field(default_factory=dict)  # its per-epoch curves (`loss`, `val_*`)
    epoch_seconds: tuple[float, ...] = ()  # its wall time per epoch (or sweep)
    decisions: FitDecisions = field(default_factory=FitDecisions)  # what the fit decided beyond the weights
    # the budget its epochs ran under (`TrainConfig` as a dict, model overrides applied); None if it has no epochs
    train_config: dict[str, Any] | None = None

    def summary(self) -> str | None:
        """For people: what the fit decided (one line per decision), or None if nothing."""
        return self.decisions.summary()

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "kind": self.kind,
            "refit_config": self.refit_config,
            "history": self.history,
            "epoch_seconds": list(self.epoch_seconds),
            **({"train_config": self.train_config} if self.train_config is not None else {}),
            **self.decisions.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Any, where: str = "fit record") -> FitRecord:
        data = object_of(data, where)
        return cls(
            model=field_of(data, "model", str, where),
            kind=field_of(data, "kind", str, where),
            refit_config=object_of(field_of(data, "refit_config", dict, where), f"{where}.refit_config"),
            history=curves_of(field_of(data, "history", dict, where, {}), f"{where}.history"),
            epoch_seconds=tuple(float(s) for s in field_of(data, "epoch_seconds", list, where, [])),
            decisions=FitDecisions.from_dict(data, where),
            train_config=field_of(data, "train_config", dict, where, None),
        )


@dataclass(frozen=True)
class EpochSearch:
    """How `movierec train` chose the epochs on a validation slice (`epoch_search` in `model.json`).

    Example:
        >>> search = EpochSearch("leave_last", 2, {"val_ndcg_at_10": [0.1, 0.3, 0.2]}, refit=False)
        >>> search.to_dict()["chosen_epochs"], EpochSearch.from_dict(search.to_dict()) == search
        (2, True)
    """

    validation_split: str | None  # how the slice was drawn: "random", "temporal", "leave_last" (None: not recorded)
    chosen_epochs: int  # the best validation epoch (from 1), or the epochs run when there is no curve
    validation_curve: dict[str, list[float]]  # the monitored validation metric, per epoch
    refit: bool  # whether the exported model was trained again on every rating for `chosen_epochs`
    decisions: FitDecisions = field(default_factory=FitDecisions)  # what the fit on the slice decided

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = self.decisions.to_dict()
        if self.validation_split is not None:
            out["validation_split"] = self.validation_split
        return {**out, "chosen_epochs": self.chosen_epochs, "validation_curve": self.validation_curve,
                "refit": self.refit}  # fmt: skip

    @classmethod
    def from_dict(cls, data: Any, where: str = "epoch_search") -> EpochSearch:
        data = object_of(data, where)
        return cls(
            validation_split=field_of(data, "validation_split", str, where, None),
            chosen_epochs=field_of(data, "chosen_epochs", int, where),
            validation_curve=curves_of(
                field_of(data, "validation_curve", dict, where, {}), f"{where}.validation_curve"
            ),
            refit=field_of(data, "refit", bool, where, False),
            decisions=FitDecisions.from_dict(data, where),
        )

"""`results.json` of a compare run: one `RunResults`, a `ModelResult` per model.

`movierec compare` (`movierec.experiments.run_experiment`) is the one writer, `movierec report` the
reader. Files written before these records existed read the same way: every field added since has a
default, and a file that is not a compare result fails with one `DataError` line naming the file.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from movierec.errors import DataError
from movierec.records._fields import curves_of, field_of, numbers_of, object_of
from movierec.records.decisions import FitDecisions

__all__ = ["ModelResult", "RunResults", "SplitSizes", "load_results", "RACE_PREFIX"]

RACE_PREFIX = "seconds_to_"  # `seconds_to_<kind>`: training seconds until a model reached that baseline


@dataclass(frozen=True)
class ModelResult:
    """One model of a compare run: test and validation metrics, curves, timings, what its fit decided.

    Example:
        >>> result = ModelResult("ease", test={"ndcg@10": 0.25}, train_seconds=0.5, race={"ease": None})
        >>> result.to_dict()["seconds_to_ease"] is None and ModelResult.from_dict(result.to_dict()) == result
        True
    """

    kind: str  # registry kind
    test: dict[str, float]  # test metrics (`ndcg@10`, `ndcg@10_se`, `factorized_top_100`, `rmse` ...)
    validation: dict[str, float] = field(default_factory=dict)  # the same on the validation slice
    train_seconds: float = math.nan
    eval_seconds: float | None = None
    config: dict[str, Any] = field(default_factory=dict)  # the resolved model config
    train_config: dict[str, Any] | None = None  # the budget used, for models trained in epochs (else None)
    history: dict[str, list[float]] = field(default_factory=dict)  # per-epoch curves (models trained in epochs)
    epoch_seconds: tuple[float, ...] = ()
    epochs_run: int | None = None  # None: not trained in epochs (a baseline, `auto`)
    decisions: FitDecisions = field(default_factory=FitDecisions)
    samples: tuple[dict[str, Any], ...] = ()  # sample recommendations: `user`, `watched` titles, `top` items
    popularity: dict[str, Any] | None = None  # histogram: `edges`, `catalogue`, `recommended` shares
    # training seconds until the validation NDCG@10 first reached the best of a baseline kind's (None: never);
    # only kinds the run had
    race: dict[str, float | None] = field(default_factory=dict)

    def epoch_ends(self) -> list[float]:
        """Training seconds at the end of each epoch, the fit's seconds outside its epochs counted first.

        Those are set-up, a chooser's check or other candidates, a blend's other member: a model is not
        credited with work its curve does not show. Not recorded (`train_seconds` nan): none counted.

        Example:
            >>> ModelResult("two_tower", {}, train_seconds=10.0, epoch_seconds=(2.0, 3.0)).epoch_ends()
            [7.0, 10.0]
        """
        outside = self.train_seconds - sum(self.epoch_seconds)
        elapsed = outside if math.isfinite(outside) and outside > 0 else 0.0
        ends = []
        for seconds in self.epoch_seconds:
            elapsed += seconds
            ends.append(elapsed)
        return ends

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "config": self.config,
            "test": self.test,
            "validation": self.validation,
            "train_seconds": self.train_seconds,
        }
        if self.eval_seconds is not None:
            out["eval_seconds"] = self.eval_seconds
        if self.train_config is not None:
            out.update(train_config=self.train_config, history=self.history, epoch_seconds=list(self.epoch_seconds))
        if self.epochs_run is not None:
            out["epochs_run"] = self.epochs_run
        out.update(self.decisions.to_dict())
        out["samples"] = list(self.samples)
        if self.popularity is not None:
            out["popularity"] = self.popularity
        out.update({f"{RACE_PREFIX}{kind}": seconds for kind, seconds in self.race.items()})
        return out

    @classmethod
    def from_dict(cls, data: Any, where: str = "model") -> ModelResult:
        data = object_of(data, where)
        seconds = field_of(data, "epoch_seconds", list, where, [])
        samples = field_of(data, "samples", list, where, [])
        return cls(
            kind=field_of(data, "kind", str, where),
            test=numbers_of(field_of(data, "test", dict, where), f"{where}.test"),
            validation=numbers_of(field_of(data, "validation", dict, where, {}), f"{where}.validation"),
            train_seconds=field_of(data, "train_seconds", float, where, math.nan),
            eval_seconds=field_of(data, "eval_seconds", float, where, None),
            config=field_of(data, "config", dict, where, {}),
            train_config=field_of(data, "train_config", dict, where, None),
            history=curves_of(field_of(data, "history", dict, where, {}), f"{where}.history"),
            epoch_seconds=tuple(float(s) for s in seconds),
            epochs_run=field_of(data, "epochs_run", int, where, None),
            decisions=FitDecisions.from_dict(data, where),
            samples=tuple(object_of(s, f"{where}.samples[{i}]") for i, s in enumerate(samples)),
            popularity=field_of(data, "popularity", dict, where, None),
            race={
                key[len(RACE_PREFIX) :]: field_of(data, key, float, where, None)
                for key in data
                if key.startswith(RACE_PREFIX)
            },
        )


@dataclass(frozen=True)
class SplitSizes:
    """How the run split the ratings, and the rows in each part (None: not recorded)."""

    strategy: str = "?"
    train: int | None = None
    validation: int | None = None
    test: int | None = None

    def to_dict(self) -> dict[str, Any]:
        sizes = {"train": self.train, "validation": self.validation, "test": self.test}
        return {"strategy": self.strategy, **{key: n for key, n in sizes.items() if n is not None}}

    @classmethod
    def from_dict(cls, data: Any, where: str = "split") -> SplitSizes:
        data = object_of(data, where)
        sizes = {key: field_of(data, key, int, where, None) for key in ("train", "validation", "test")}
        return cls(strategy=field_of(data, "strategy", str, where, "?"), **sizes)


@dataclass(frozen=True)
class RunResults:
    """A compare run: the data, the split, and a `ModelResult` per model in the order they ran.

    Example:
        >>> run = RunResults("toy", {"a": ModelResult("ease", {"ndcg@10": 0.5})}, dataset="toy: 9 ratings")
        >>> RunResults.from_dict(run.to_dict()) == run
        True
    """

    experiment: str  # the experiment's name (its folder)
    models: dict[str, ModelResult]
    dataset: str = ""  # `Dataset.summary()`
    split: SplitSizes = field(default_factory=SplitSizes)
    test_input: str | None = None  # what models read when scoring test users ("train+validation"); None: not said
    config: dict[str, Any] = field(default_factory=dict)  # the resolved `ExperimentConfig`
    total_seconds: float | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"experiment": self.experiment, "dataset": self.dataset, "split": self.split.to_dict()}
        if self.test_input is not None:
            out["test_input"] = self.test_input
        out.update(config=self.config, models={name: m.to_dict() for name, m in self.models.items()})
        if self.total_seconds is not None:
            out["total_seconds"] = self.total_seconds
        return out

    @classmethod
    def from_dict(cls, data: Any, where: str = "results", experiment: str = "") -> RunResults:
        """Reads a `results.json` object; `experiment` names runs that did not record their name."""
        data = object_of(data, where)
        if "models" not in data:
            raise DataError(f"{where} is not a `movierec compare` results file (no 'models')")
        models = object_of(data["models"], f"{where}: 'models'")
        return cls(
            experiment=field_of(data, "experiment", str, where, experiment),
            models={name: ModelResult.from_dict(m, f"{where}: model {name!r}") for name, m in models.items()},
            dataset=field_of(data, "dataset", str, where, ""),
            split=SplitSizes.from_dict(field_of(data, "split", dict, where, {}), f"{where}: 'split'"),
            test_input=field_of(data, "test_input", str, where, None),
            config=field_of(data, "config", dict, where, {}),
            total_seconds=field_of(data, "total_seconds", float, where, None),
        )


def load_results(path: str | Path) -> RunResults:
    """Reads one `results.json` written by `movierec compare` (of any version).

    Raises:
        DataError: one line naming the file: missing, not JSON, not a compare result, or a field of the wrong type.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError as e:
        raise DataError(f"results file not found: {path}") from e
    except json.JSONDecodeError as e:
        raise DataError(f"{path} is not valid JSON: {e}") from e
    if not isinstance(data, dict):
        raise DataError(f"{path} is not a `movierec compare` results file (no 'models')")
    return RunResults.from_dict(data, where=str(path), experiment=path.parent.name)

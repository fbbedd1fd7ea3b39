"""Grid search of a model's hyper-parameters on the validation slice only.

Each trial is fit on train, scored on validation (train items masked), and
logged as its own TensorBoard run with HParams, so the HParams dashboard shows
the whole search. The test split is never touched here.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
from pathlib import Path
from typing import Any

from movierec.config import TrainConfig, to_dict
from movierec.errors import ConfigError
from movierec.evaluation import evaluate
from movierec.experiments.data import PreparedData
from movierec.recommender import FitOptions
from movierec.registry import build_recommender
from movierec.tracking import RunLog, flat_hparams

__all__ = ["parse_grid", "grid_points", "tune", "what_mattered"]

logger = logging.getLogger(__name__)

TRAIN_FIELDS = {f.name for f in dataclasses.fields(TrainConfig)}


def parse_grid(items: list[str]) -> dict[str, list[Any]]:
    """Parses `["l2=100,500", "optimizer=adam"]` into `{"l2": [100, 500], "optimizer": ["adam"]}`.

    Values are read as int, then float, then `none`/`true`/`false`, else kept as strings.
    """
    grid: dict[str, list[Any]] = {}
    for item in items:
        key, sep, values = item.partition("=")
        if not sep or not key.strip() or not values.strip():
            raise ConfigError(f"--grid entries look like name=v1,v2. Received: {item!r}")
        grid[key.strip()] = [_parse_value(v.strip()) for v in values.split(",") if v.strip()]
    return grid


def _parse_value(text: str) -> Any:
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return {"none": None, "true": True, "false": False}.get(text.lower(), text)


def grid_points(grid: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """Every combination of the grid, in a stable order."""
    keys = sorted(grid)
    return [dict(zip(keys, values)) for values in itertools.product(*(grid[k] for k in keys))]


def tune(
    model_config: Any,
    data: PreparedData,
    train_config: TrainConfig,
    grid: dict[str, list[Any]],
    logdir: Path | None,
    metric: str = "ndcg@10",
) -> tuple[Any, list[dict[str, Any]]]:
    """Fits every grid point on `data.train`, scores it on `data.validation`, returns the best.

    Args:
        model_config: The config to vary (a preset or a loaded config).
        data: `PreparedData`; only `train`, `validation` and `features` are read.
        train_config: Budget; grid keys naming TrainConfig fields (e.g. `learning_rate`) vary it.
        grid: Field name -> values.
        logdir: Folder for one TensorBoard run per trial (None: no logs).
        metric: Validation metric to maximise (a key of `evaluate`'s result).

    Returns:
        `(best model config, trials)`; each trial has `params`, `validation`, `config`.
    """
    model_fields = {f.name for f in dataclasses.fields(model_config)} - {"kind", "name"}
    unknown = sorted(set(grid) - model_fields - TRAIN_FIELDS)
    if unknown:
        raise ConfigError(f"unknown grid field(s) {unknown} for {model_config.kind}")
    empty = sorted(key for key, values in grid.items() if not values)
    if empty:
        raise ConfigError(f"grid field(s) {empty} list no value")
    if len(data.validation) == 0:
        raise ConfigError("tuning needs a validation slice (split.validation_fraction > 0)")
    trials: list[dict[str, Any]] = []
    best_value, best_config = float("-inf"), model_config
    for number, params in enumerate(grid_points(grid)):
        # A key the model config has (including its training overrides) goes there, so it wins
        # over the experiment budget; other keys vary the TrainConfig.
        model_params = {k: v for k, v in params.items() if k in model_fields}
        trial_train = dataclasses.replace(train_config, **{k: v for k, v in params.items() if k not in model_fields})
        config = dataclasses.replace(model_config, **model_params)
        run_dir = logdir / f"trial-{number:03d}" if logdir is not None else None
        recommender = build_recommender(config)
        options = FitOptions(validation=data.validation, features=data.features, train=trial_train, run_dir=run_dir)
        recommender.fit(data.train, options)
        scores = evaluate(recommender, data.train, data.validation)
        if metric not in scores:
            raise ConfigError(f"`metric` must be one of {sorted(scores)}. Received: `metric` = {metric!r}")
        value = float(scores[metric])
        trials.append({"params": params, "validation": scores, "config": to_dict(config)})
        logger.info("trial %d %s: validation %s = %.4f", number, params, metric, value)
        if run_dir is not None:
            with RunLog(run_dir) as log:  # one HParams session per trial
                log.hparams(flat_hparams(config, recommender.train_config or trial_train))
                log.scalars(scores, step=0, prefix="validation")
        if value > best_value:
            best_value, best_config = value, config
    return best_config, trials


def what_mattered(trials: list[dict[str, Any]], metric: str = "ndcg@10") -> list[dict[str, Any]]:
    """For each varied parameter: the mean validation `metric` per value, and its range (best minus worst mean).

    Sorted by range, largest first: the parameters whose choice moved the metric most lead.

    Example:
        >>> trials = [{"params": {"a": 1, "b": 1}, "validation": {"m": 0.1}},
        ...           {"params": {"a": 2, "b": 1}, "validation": {"m": 0.3}},
        ...           {"params": {"a": 1, "b": 2}, "validation": {"m": 0.1}},
        ...           {"params": {"a": 2, "b": 2}, "validation": {"m": 0.3}}]
        >>> [(row["param"], row["range"]) for row in what_mattered(trials, "m")]
        [('a', 0.2), ('b', 0.0)]
    """
    rows = []
    names = sorted({name for trial in trials for name in trial["params"]})
    for name in names:
        values: dict[str, list[float]] = {}
        for trial in trials:
            values.setdefault(repr(trial["params"][name]), []).append(float(trial["validation"][metric]))
        if len(values) < 2:
            continue
        means = {value: sum(scores) / len(scores) for value, scores in values.items()}
        rows.append(
            {
                "param": name,
                "means": means,
                "best": max(means, key=lambda value: means[value]),
                "range": round(max(means.values()) - min(means.values()), 6),
            }
        )
    return sorted(rows, key=lambda row: -row["range"])

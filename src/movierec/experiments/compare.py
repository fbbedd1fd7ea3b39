"""The compare job: one dataset, one split, many models, one TensorBoard experiment.

`run_experiment` prepares the data once, then for every model: fit on train (TFRS
models watch the validation slice for early stopping), evaluate on test with the
same metrics, write TensorBoard runs side by side, and collect `results.json`.
`movierec.report.write_report` turns the results into Markdown and charts.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from movierec.config import ExperimentConfig, TrainConfig, save_json, to_dict
from movierec.data import Dataset
from movierec.errors import ConfigError
from movierec.evaluation import evaluate
from movierec.experiments.data import PreparedData, prepare_data
from movierec.experiments.presets import get_preset
from movierec.recommender import FitOptions, Recommender
from movierec.registry import build_recommender
from movierec.tracking import flat_hparams, write_hparams_config, write_projector, write_run_summary

__all__ = ["fit_and_evaluate", "run_experiment"]

logger = logging.getLogger(__name__)


def fit_and_evaluate(
    model_config: Any, data: PreparedData, train_config: TrainConfig, ks: tuple[int, ...], run_dir: Path | None
) -> tuple[Recommender, dict[str, Any]]:
    """Fits one model on train (validation for early stopping) and scores it on test."""
    recommender = build_recommender(model_config)
    options = FitOptions(validation=data.validation, features=data.features, train=train_config, run_dir=run_dir)
    start = time.perf_counter()
    recommender.fit(data.train, options)
    train_seconds = time.perf_counter() - start
    # Validation scores of every model (baselines too) for the report's reference lines.
    validation = evaluate(recommender, data.train, data.validation, ks=ks) if len(data.validation) else {}
    start = time.perf_counter()
    test = evaluate(recommender, data.seen, data.test, ks=ks)
    if recommender.predicts_ratings:
        predicted = recommender.predict_ratings(data.test.users, data.test.items)
        test["rmse"] = float(np.sqrt(np.mean((predicted - data.test.ratings) ** 2)))
    eval_seconds = time.perf_counter() - start
    result: dict[str, Any] = {
        "kind": model_config.kind,
        "config": to_dict(model_config),
        "test": test,
        "validation": validation,
        "train_seconds": round(train_seconds, 3),
        "eval_seconds": round(eval_seconds, 3),
    }
    if recommender.train_config is not None:
        result["train_config"] = to_dict(recommender.train_config)
        result["history"] = recommender.history
        result["epoch_seconds"] = [round(s, 3) for s in recommender.epoch_seconds]
        result["epochs_run"] = len(recommender.epoch_seconds)
    return recommender, result


def run_experiment(
    config: ExperimentConfig,
    dataset: Dataset | None = None,
    on_model_done: Callable[[str, dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Runs the compare job and writes `<logdir>/<name>/results.json`.

    Args:
        config: The experiment.
        dataset: Already-loaded data (tests); None loads `config.data`.
        on_model_done: Called with `(model name, result)` after each model (progress output).

    Returns:
        The results dict that was written.
    """
    started = time.perf_counter()
    model_configs = [get_preset(name, config.overrides.get(name)) for name in config.models]
    names = [c.name for c in model_configs]
    if len(set(names)) != len(names):
        raise ConfigError(f"model names must be unique in an experiment. Received: {names}")
    data = prepare_data(config, dataset)
    experiment_dir = Path(config.logdir) / config.name
    experiment_dir.mkdir(parents=True, exist_ok=True)
    hparam_names: set[str] = set()
    results: dict[str, Any] = {
        "experiment": config.name,
        "dataset": data.dataset.summary(),
        "split": {"strategy": config.split.strategy, **data.sizes()},
        "config": to_dict(config),
        "models": {},
    }
    item_counts = data.train.item_counts()
    items = _items_in_vocab_order(data)
    for model_config in model_configs:
        run_dir = experiment_dir / model_config.name
        logger.info("training %s ...", model_config.name)
        recommender, result = fit_and_evaluate(model_config, data, config.train, config.ks, run_dir)
        # The resolved config of this run, next to its logs (also in HParams and results.json).
        save_json(
            {"model": model_config, "train": recommender.train_config, "split": config.split, "data": config.data},
            run_dir / "config.json",
        )
        hparams = flat_hparams(model_config, recommender.train_config)
        hparam_names.update(hparams)
        write_run_summary(run_dir, hparams, result["test"])
        vectors = recommender.item_embeddings()
        if vectors is not None:
            write_projector(run_dir, vectors, items, item_counts)
        results["models"][model_config.name] = result
        if on_model_done is not None:
            on_model_done(model_config.name, result)
    write_hparams_config(experiment_dir, sorted(hparam_names))
    results["total_seconds"] = round(time.perf_counter() - started, 3)
    save_json(results, experiment_dir / "results.json")
    return results


def _items_in_vocab_order(data: PreparedData) -> pd.DataFrame:
    items = data.dataset.items.set_index("item_id")
    return items.reindex(list(data.vocab.item_ids)).reset_index()

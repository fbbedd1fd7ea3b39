"""The compare job: one dataset, one split, many models, one TensorBoard experiment.

`run_experiment` prepares the data once, then for every model: fit on train (TFRS
models watch the validation slice for early stopping), evaluate on test with the
same metrics, write TensorBoard runs side by side, and collect `results.json`.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from movierec._io import write_text_atomic
from movierec.config import ExperimentConfig, TrainConfig, save_json, to_dict
from movierec.data import Dataset, Features, Interactions, Split, Vocab, build_features, load_dataset, split_ratings
from movierec.evaluation import evaluate
from movierec.models.presets import get_preset
from movierec.recommender import RECOMMENDERS, Recommender

__all__ = ["PreparedData", "prepare_data", "build_recommender", "run_experiment", "fit_and_evaluate"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PreparedData:
    """Everything models need, encoded once: vocab, split interactions, side features."""

    dataset: Dataset
    vocab: Vocab
    split: Split
    train: Interactions
    validation: Interactions
    test: Interactions
    features: Features

    @functools.cached_property
    def seen(self) -> Interactions:
        """Train + validation: the items a user had rated before the test period."""
        return self.train.concat(self.validation)

    def sizes(self) -> dict[str, int]:
        return {"train": len(self.train), "validation": len(self.validation), "test": len(self.test)}


def prepare_data(config: ExperimentConfig, dataset: Dataset | None = None) -> PreparedData:
    """Loads (unless given), splits and encodes the experiment's data.

    The vocabulary covers every user and movie of the dataset (ids only, no labels), so
    test movies nobody rated in train are still candidates, as in the TFRS tutorial.
    """
    dataset = dataset if dataset is not None else load_dataset(config.data)
    split = split_ratings(dataset.ratings, config.split)
    vocab = Vocab.build(dataset.ratings["user_id"], list(dataset.items["item_id"]) + list(dataset.ratings["item_id"]))
    encode = lambda frame: Interactions.from_frame(frame, vocab)  # noqa: E731
    return PreparedData(
        dataset=dataset,
        vocab=vocab,
        split=split,
        train=encode(split.train),
        validation=encode(split.validation),
        test=encode(split.test),
        features=build_features(dataset, vocab),
    )


def build_recommender(model_config: Any, train_config: TrainConfig, run_dir: Path | None = None) -> Recommender:
    """Instantiates the recommender class registered for `model_config.kind`."""
    if model_config.kind == "two_tower":
        from movierec.models.recommender import TwoTowerRecommender  # noqa: PLC0415  (imports TensorFlow)

        return TwoTowerRecommender(model_config, train_config, run_dir)
    return RECOMMENDERS[model_config.kind](model_config)


def fit_and_evaluate(
    model_config: Any, data: PreparedData, train_config: TrainConfig, ks: tuple[int, ...], run_dir: Path | None
) -> tuple[Recommender, dict[str, Any]]:
    """Fits one model on train (validation for early stopping) and scores it on test."""
    recommender = build_recommender(model_config, train_config, run_dir)
    start = time.perf_counter()
    recommender.fit(data.train, data.validation, data.features)
    train_seconds = time.perf_counter() - start
    # Validation scores of every model (baselines too) for the report's reference lines.
    validation = evaluate(recommender, data.train, data.validation, ks=ks) if len(data.validation) else {}
    start = time.perf_counter()
    test = evaluate(recommender, data.seen, data.test, ks=ks)
    if getattr(recommender, "has_rating_head", False):
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
    if hasattr(recommender, "history"):
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
    from movierec.training import tensorboard as tb  # noqa: PLC0415  (imports TensorFlow)

    started = time.perf_counter()
    data = prepare_data(config, dataset)
    experiment_dir = Path(config.logdir) / config.name
    experiment_dir.mkdir(parents=True, exist_ok=True)
    model_configs = [get_preset(name, config.overrides.get(name)) for name in config.models]
    names = [c.name for c in model_configs]
    if len(set(names)) != len(names):
        from movierec.errors import ConfigError  # noqa: PLC0415

        raise ConfigError(f"model names must be unique in an experiment. Received: {names}")
    hparam_names: set[str] = set()
    results: dict[str, Any] = {
        "experiment": config.name,
        "dataset": data.dataset.summary(),
        "split": {"strategy": config.split.strategy, **data.sizes()},
        "config": to_dict(config),
        "models": {},
    }
    item_counts = data.train.item_counts()
    for model_config in model_configs:
        run_dir = experiment_dir / model_config.name
        logger.info("training %s ...", model_config.name)
        recommender, result = fit_and_evaluate(model_config, data, config.train, config.ks, run_dir)
        train_config = getattr(recommender, "train_config", None)
        # The resolved config of this run, next to its logs (also in HParams and results.json).
        save_json(
            {"model": model_config, "train": train_config, "split": config.split, "data": config.data},
            run_dir / "config.json",
        )
        hparams = tb.flat_hparams(model_config, train_config)
        hparam_names.update(hparams)
        tb.write_run_summary(run_dir, hparams, result["test"])
        vectors = recommender.item_embeddings()
        if vectors is not None:
            tb.write_projector(run_dir, vectors, _items_in_vocab_order(data), item_counts)
        results["models"][model_config.name] = result
        if on_model_done is not None:
            on_model_done(model_config.name, result)
    tb.write_hparams_config(experiment_dir, sorted(hparam_names))
    results["total_seconds"] = round(time.perf_counter() - started, 3)
    save_json(results, experiment_dir / "results.json")
    write_report(results, experiment_dir)
    return results


def write_report(results: dict[str, Any], experiment_dir: Path) -> None:
    """`report.md` (tables) and `curves.png` (per-epoch curves) beside results.json."""
    from movierec.report import markdown_report, plot_curves  # noqa: PLC0415

    plot_curves(results, experiment_dir / "curves.png")
    text = markdown_report([experiment_dir / "results.json"], title=f"movierec compare: {results['experiment']}")
    text += "\n![per-epoch curves](curves.png)\n"
    write_text_atomic(experiment_dir / "report.md", text)


def _items_in_vocab_order(data: PreparedData):
    items = data.dataset.items.set_index("item_id")
    return items.reindex(list(data.vocab.item_ids)).reset_index()


def replace_train(config: ExperimentConfig, **changes: Any) -> ExperimentConfig:
    """A copy of `config` with training-budget fields changed (CLI overrides)."""
    return dataclasses.replace(config, train=dataclasses.replace(config.train, **changes))

"""The compare job: one dataset, one split, many models, one TensorBoard experiment.

`run_experiment` prepares the data once, then for every model: fit on train (TFRS
models watch the validation slice for early stopping), add the validation ratings to what
each user watched (`Recommender.add_seen`, no refit), evaluate on test with the same
metrics, write TensorBoard runs side by side, and collect `results.json`.
`movierec.report.write_report` turns the results into Markdown, HTML and charts.

TensorBoard: exactly one run per model (`<logdir>/<experiment>/<model>`), holding its curves
(`train/loss`, `validation/<metric>` per epoch; baselines as flat lines over the same epochs),
`test/<metric>`, its HParams session, its config and sample recommendations as text, the
popularity histograms, the Custom Scalars layout and (for models with item vectors) the
embedding projector. Nothing is written at the experiment root, so there is no run ".".
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from movierec._io import atomic_path
from movierec.config import ExperimentConfig, TrainConfig, resolve_train_config, save_json, to_dict
from movierec.data import Dataset
from movierec.errors import ConfigError
from movierec.evaluation import PER_USER_FILE, VALIDATION_LOGS, evaluate, sample_users
from movierec.experiments.backup import prepare_backup, remove_backup
from movierec.experiments.data import PreparedData, items_in_vocab_order, prepare_data
from movierec.experiments.presets import get_preset
from movierec.experiments.samples import (
    popularity_bins,
    recommended_items,
    sample_lists,
    samples_markdown,
    showcase_users,
)
from movierec.recommender import FitOptions, Recommender, SharedFit
from movierec.records import ModelResult, RunResults, SplitSizes
from movierec.registry import build_recommender
from movierec.tracking import (
    LAYOUT_METRICS,
    RunLog,
    comparison_layout,
    config_markdown,
    flat_hparams,
    log_curves,
    log_epoch,
    write_projector,
)

__all__ = ["fit_and_evaluate", "run_experiment"]

logger = logging.getLogger(__name__)


def fit_and_evaluate(
    model_config: Any,
    data: PreparedData,
    train_config: TrainConfig,
    ks: tuple[int, ...],
    run_dir: Path | None,
    epoch_hooks: tuple[Callable[[int, dict[str, float]], None], ...] = (),
    recommender: Recommender | None = None,
    shared_fits: Path | None = None,
) -> tuple[Recommender, ModelResult]:
    """Fits one model on train (validation for early stopping) and scores it on test.

    With `shared_fits` (see `FitOptions.shared_fits`), a model whose identical fit ran earlier loads it; its
    `train_seconds` are then the seconds measured here plus the training seconds of the fit it loaded.
    """
    recommender = recommender if recommender is not None else build_recommender(model_config)
    backup = None
    if run_dir is not None and recommender.trains_in_epochs:
        # a compare killed midway resumes this model from its last finished epoch when run again
        backup = run_dir / "backup"
        rows = hashlib.sha1(data.train.users.tobytes() + data.train.items.tobytes()).hexdigest()
        fingerprint = {"model": to_dict(model_config), "train": to_dict(train_config), "train_rows": rows}
        prepare_backup(backup, fingerprint, model_config.name)
    options = FitOptions(
        validation=data.validation,
        features=data.features,
        train=train_config,
        run_dir=run_dir,
        epoch_hooks=epoch_hooks,
        backup_dir=backup,
        shared_fits=shared_fits,
    )
    start = time.perf_counter()
    recommender.fit(data.train, options)
    train_seconds = time.perf_counter() - start
    if recommender.shared_fit is not None:  # what fitting costs, not what loading an identical fit cost
        train_seconds += recommender.shared_fit.train_seconds
    remove_backup(backup)
    # Validation scores of every model (baselines too) for the report's reference lines.
    validation = evaluate(recommender, data.train, data.validation, ks=ks) if len(data.validation) else {}
    if len(data.validation):
        # test is scored from everything before it, as `movierec train` serves: the validation
        # movies join each user's input (EASE's rows, ALS's re-solved vectors, history and
        # sequential models) without refitting; a model that reads only ids keeps its vectors
        recommender.add_seen(data.validation)
    start = time.perf_counter()
    per_user: dict[str, np.ndarray] = {}
    test = evaluate(recommender, data.seen, data.test, ks=ks, per_user=per_user)
    if recommender.predicts_ratings:
        predicted = recommender.predict_ratings(data.test.users, data.test.items)
        test["rmse"] = float(np.sqrt(np.mean((predicted - data.test.ratings) ** 2)))
    eval_seconds = time.perf_counter() - start
    if run_dir is not None:  # each test user's own metrics: paired comparisons in `movierec report`
        with atomic_path(Path(run_dir) / PER_USER_FILE) as tmp, open(tmp, "wb") as handle:
            np.savez(handle, **per_user)  # type: ignore[arg-type]  # numpy stubs type **kwds as allow_pickle
    # the model whose epochs ran (a chooser's kept candidate, a blend's member trained in epochs): its curves
    # and budget; None for models without epochs
    record = recommender.fit_record()
    trained = record.train_config is not None
    result = ModelResult(
        kind=model_config.kind,
        config=to_dict(model_config),
        test=test,
        validation=validation,
        train_seconds=round(train_seconds, 3),
        eval_seconds=round(eval_seconds, 3),
        train_config=record.train_config,
        history=record.history if trained else {},
        epoch_seconds=tuple(round(s, 3) for s in record.epoch_seconds) if trained else (),
        epochs_run=len(record.epoch_seconds) if trained else None,
        decisions=record.decisions,  # what fitting decided beyond the weights
    )
    return recommender, result


def run_experiment(
    config: ExperimentConfig,
    dataset: Dataset | None = None,
    on_model_done: Callable[[str, ModelResult], None] | None = None,
) -> RunResults:
    """Runs the compare job and writes `<logdir>/<name>/results.json`.

    Args:
        config: The experiment.
        dataset: Already-loaded data (tests); None loads `config.data`.
        on_model_done: Called with `(model name, result)` after each model (progress output).

    Returns:
        The results that were written.
    """
    started = time.perf_counter()
    model_configs = [get_preset(name, config.overrides.get(name)) for name in config.models]
    names = [c.name for c in model_configs]
    if len(set(names)) != len(names):
        raise ConfigError(f"model names must be unique in an experiment. Received: {names}")
    data = prepare_data(config, dataset)
    experiment_dir = Path(config.logdir) / config.name
    experiment_dir.mkdir(parents=True, exist_ok=True)
    models: dict[str, ModelResult] = {}
    item_counts = data.train.item_counts()
    items = items_in_vocab_order(data)
    titles = items["title"].astype(str).to_numpy()
    watchers = showcase_users(data.train)
    test_users = np.unique(data.test.users).astype(np.int64)
    seen = data.seen.to_csr()
    # each distinct fit trains once: a model equal to one trained before it in this run (`sequential` and the
    # default's sequential member) loads its weights; the folder lives as long as this run
    shared_fits = experiment_dir / ".shared-fits"
    shutil.rmtree(shared_fits, ignore_errors=True)
    for model_config in model_configs:
        run_dir = experiment_dir / model_config.name
        logger.info("training %s ...", model_config.name)
        recommender = build_recommender(model_config)
        train_config = resolve_train_config(config.train, model_config) if recommender.trains_in_epochs else None
        with RunLog(run_dir) as log:
            log.layout(comparison_layout())
            log.text("config", config_markdown(model_config, train_config))
            if train_config is not None:
                scored = sample_users(data.validation, train_config.validation_users)
                if len(scored) < len(data.validation):
                    note = (
                        f"Validation curves score a fixed sample of {len(np.unique(scored.users))} of "
                        f"{len(np.unique(data.validation.users))} validation users each epoch."
                    )
                    log.text("validation_sample", note)
            hook = _epoch_logger(log, recommender, data, watchers, titles, train_config)
            recommender, result = fit_and_evaluate(
                model_config, data, config.train, config.ks, run_dir, (hook,), recommender, shared_fits
            )
            if recommender.shared_fit is not None:  # no epochs ran here: the curves of the fit it loaded
                trained = recommender.fit_record().train_config or {}
                log_curves(log, recommender.history, train_config, trained.get("batch_size"))
                log.text("shared_fit", _shared_fit_note(recommender.shared_fit))
            # The resolved config of this run, next to its logs (also in HParams and results.json).
            save_json(
                {"model": model_config, "train": recommender.train_config, "split": config.split, "data": config.data},
                run_dir / "config.json",
            )
            log.scalars(result.test, step=0, prefix="test")
            summary = result.decisions.summary()
            if summary:  # what fitting decided beyond the weights (auto: which candidate it kept; recency)
                log.text("fit", summary)
            log.hparams(flat_hparams(model_config, recommender.train_config))
            final = sample_lists(recommender.score(watchers), watchers, data.train, data.vocab.user_ids, titles)
            log.text("recommendations", samples_markdown(final))  # the trained model's lists
            picks = recommended_items(recommender, test_users, seen)
            log.histogram("popularity/recommended", item_counts[picks[picks >= 0]])
            log.histogram("popularity/catalogue", item_counts)
        result = dataclasses.replace(result, samples=tuple(final), popularity=popularity_bins(item_counts, picks))
        vectors = recommender.item_embeddings()
        if vectors is not None:
            write_projector(run_dir, vectors, items, item_counts)
        models[model_config.name] = result
        if on_model_done is not None:
            on_model_done(model_config.name, result)
    shutil.rmtree(shared_fits, ignore_errors=True)
    _baseline_levels(experiment_dir, models)
    results = RunResults(
        experiment=config.name,
        models=_seconds_to_reach(models, "ease"),
        dataset=data.dataset.summary(),
        split=SplitSizes(config.split.strategy, **data.sizes()),
        test_input="train+validation",  # what each model reads when it scores test users (see fit_and_evaluate)
        config=to_dict(config),
        total_seconds=round(time.perf_counter() - started, 3),
    )
    save_json(results.to_dict(), experiment_dir / "results.json")
    return results


def _epoch_logger(
    log: RunLog,
    recommender: Recommender,
    data: PreparedData,
    watchers: np.ndarray,
    titles: np.ndarray,
    train_config: TrainConfig | None,
) -> Callable[[int, dict[str, float]], None]:
    """The epoch hook of a trainable model: curves and sample recommendations into its run."""

    def on_epoch(epoch: int, logs: dict[str, float]) -> None:
        log_epoch(log, epoch, logs, train_config)
        lists = sample_lists(recommender.score(watchers), watchers, data.train, data.vocab.user_ids, titles)
        log.text("samples", samples_markdown(lists), step=epoch)

    return on_epoch


def _shared_fit_note(shared: SharedFit) -> str:
    return (
        "These weights and curves are those of an identical fit earlier in this run (same model config, budget, "
        f"seed and data), loaded rather than trained again; that training took {shared.train_seconds:.1f} s."
    )


def _baseline_levels(experiment_dir: Path, models: dict[str, ModelResult]) -> None:
    """Models without epochs get their validation metrics as flat lines over the longest run's epochs."""
    epochs = max([m.epochs_run or 0 for m in models.values()] + [1])
    for name, result in models.items():
        if result.epochs_run is not None or not result.validation:
            continue
        keys = [k for k in result.validation if k in LAYOUT_METRICS or k.startswith("factorized_top_")]
        with RunLog(experiment_dir / name) as log:
            for step in range(1, epochs + 1):
                log.scalars({k: result.validation[k] for k in keys}, step=step, prefix="validation")


def _seconds_to_reach(models: dict[str, ModelResult], reference_kind: str) -> dict[str, ModelResult]:
    """`models` with `race[reference_kind]`: training seconds until a model's validation NDCG@10 first reaches
    the reference's (None if it never does); unchanged when the experiment has no such reference.

    The fit's seconds outside its epochs count as spent before the first (`ModelResult.epoch_ends`).
    """
    levels = [m.validation["ndcg@10"] for m in models.values() if m.kind == reference_kind and m.validation]
    if not levels:
        return models
    level = max(levels)
    out = {}
    for name, result in models.items():
        curve = result.history.get(VALIDATION_LOGS["ndcg@10"])
        if curve is not None:
            elapsed = result.epoch_ends()
            reached = [i for i, value in enumerate(curve) if value >= level]
            seconds = round(float(elapsed[reached[0]]), 3) if reached else None
            result = dataclasses.replace(result, race={**result.race, reference_kind: seconds})
        out[name] = result
    return out

"""`movierec train`: fit one model on a ratings file and export it to a model directory."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import time
from pathlib import Path
from typing import Any

from movierec._io import output_problem
from movierec._lock import output_lock
from movierec.cli._common import (
    add_data_arguments,
    add_strategy_argument,
    data_config_from_args,
    non_empty,
    positive_int,
    seed_int,
)
from movierec.config import AutoConfig, BlendConfig, ChoiceConfig, DataConfig, TrainConfig, read_toml, to_dict
from movierec.data import load_dataset
from movierec.errors import ConfigError, ModelDirError
from movierec.experiments import DEFAULT_PRESET, fit_final, get_preset
from movierec.experiments.backup import backup_problem, remove_backup
from movierec.experiments.train_log import TrainLog
from movierec.recommender import TRAINED
from movierec.records import EpochSearch, ModelMeta
from movierec.registry import config_from_dict
from movierec.serving.model_dir import check_model_out, save_model_dir

__all__ = ["register", "run"]

logger = logging.getLogger(__name__)


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train one model and export it to a model directory",
        description="Trains a preset (default: the project's best model) or a model config file on a ratings "
        "CSV and writes MODEL_DIR (exported model, vocabulary, titles, seen movies).",
    )
    add_data_arguments(parser, ratings_required=True)
    choice = parser.add_mutually_exclusive_group()
    choice.add_argument(
        "--preset",
        type=non_empty,
        help="model preset name (`movierec presets` lists them); default: `default`, which checks on the "
        "validation slice whether the order of each user's movies predicts the next one (seconds) and trains "
        "the sequential model if so (below 150,000 training ratings the Markov chain it checked with, which "
        "matched the sequential model there in seconds), the factorisation `best` if not, each blended with EASE "
        "(weights chosen on the validation slice), the factorisation's blend then with the movies most rated in "
        "the latest 10%% of the ratings (`recent_popularity`); `auto` fits the factorisation, the "
        "baselines and the other TFRS presets and keeps the best on the validation slice",
    )
    choice.add_argument(
        "--config", type=non_empty, help="TOML file with one model config table (kind = ..., name = ...)"
    )
    parser.add_argument(
        "--out",
        required=True,
        help="model directory to write: a new or empty folder, or a movierec model directory to replace "
        "(any other folder is refused, never emptied)",
    )
    parser.add_argument(
        "--logdir",
        type=non_empty,
        help="also write this training as a TensorBoard run, LOGDIR/<name of --out>: the loss and validation "
        "curves as each epoch ends, the config, what the fit decided, HParams and the movie vectors "
        "(`movierec tensorboard --logdir LOGDIR`)",
    )
    parser.add_argument("--epochs", type=positive_int, help="override the number of epochs")
    parser.add_argument("--seed", type=seed_int, default=42, help="seed of weights and shuffling")
    add_strategy_argument(parser)
    parser.add_argument(
        "--validation-fraction",
        type=float,
        default=0.1,
        help="for models with early stopping: share of ratings held out to find the best validation epoch "
        "(default 0.1; 0 trains on every rating for the configured epochs)",
    )
    parser.add_argument(
        "--validation-split",
        choices=("random", "temporal", "leave_last"),
        default="leave_last",
        help="how that share is drawn: each user's latest rating (leave_last, the default: choices are made "
        "on what each user watched next, the fraction only switches it on, and the weights of the best epoch "
        "are kept), the latest ratings in time (temporal), or random ratings (random: choices are made on "
        "filling gaps in the past); temporal and random train again on every rating for the chosen epochs",
    )
    parser.set_defaults(func=run)


def load_model_config(args: argparse.Namespace) -> Any:
    """The model config named by `--config FILE.toml` or `--preset NAME` (default: the project's default)."""
    if args.config is not None:
        return config_from_dict(read_toml(args.config), where=Path(args.config).name)
    return get_preset(DEFAULT_PRESET if args.preset is None else args.preset)


def _fixed_epochs(config: Any) -> Any:
    """`config` with the budget's epochs final (no early-stopping search), in every candidate of a chooser."""
    if isinstance(config, ChoiceConfig):
        tables = {
            name: to_dict(_fixed_epochs(config_from_dict(getattr(config, name)))) for name in config.member_fields()
        }
        return dataclasses.replace(config, **tables)
    if isinstance(config, BlendConfig):
        members = {
            name: to_dict(_fixed_epochs(config_from_dict(getattr(config, name)))) for name in ("first", "second")
        }
        return dataclasses.replace(config, **members)
    if isinstance(config, AutoConfig):
        candidates = tuple(to_dict(_fixed_epochs(config_from_dict(c))) for c in config.candidates)
        return dataclasses.replace(config, candidates=candidates)
    if hasattr(config, "epochs"):
        return dataclasses.replace(config, epochs=None, early_stopping_patience=0)
    return config


def run(args: argparse.Namespace) -> int:
    if not 0.0 <= args.validation_fraction < 1.0:
        raise ConfigError(f"--validation-fraction must be in [0, 1). Received: {args.validation_fraction}")
    model_config = load_model_config(args)
    train_config = TrainConfig(seed=args.seed, strategy=args.strategy or "default")
    if args.epochs:
        train_config = dataclasses.replace(train_config, epochs=args.epochs)
        model_config = _fixed_epochs(model_config)
    replaces = check_model_out(args.out)  # before any data is read or any epoch run
    data_config = data_config_from_args(args)
    out = Path(args.out)
    backup = out.parent / f".{out.name}.resume"  # a killed train resumes from here when run again
    problem = backup_problem(backup) or (args.logdir and output_problem(_run_dir(args), folder=True))
    if problem:
        raise ConfigError(problem)
    with output_lock(out):  # a second train into the same --out fails in one line instead of sharing the backup
        return _train(args, model_config, train_config, data_config, backup, replaces)


def _train(
    args: argparse.Namespace, model_config: Any, train_config: TrainConfig, data_config: DataConfig, backup: Path,
    replaces: bool,
) -> int:  # fmt: skip
    started = time.perf_counter()
    dataset = load_dataset(data_config)
    logger.info("%s (%.1f s); training %s (%s) ...", dataset.summary(), time.perf_counter() - started,
                model_config.name, model_config.kind)  # fmt: skip
    started = time.perf_counter()
    # the TensorBoard run starts afresh, unless this train resumes a killed one (whose epochs it holds)
    log = TrainLog(_run_dir(args), model_config, train_config, fresh=not backup.exists()) if args.logdir else None
    try:
        try:
            recommender, data, search = fit_final(
                model_config, dataset, train_config, args.validation_fraction, backup_dir=backup,
                validation_split=args.validation_split, on_epoch=log.on_epoch if log is not None else None,
            )  # fmt: skip
        except OSError as e:  # a full disk while writing the backup: it is half-written, so it goes
            remove_backup(backup)
            raise ModelDirError(
                f"cannot write the training backup in {backup}: {e.strerror or e} (the backup was removed; "
                "free some space and run again)"
            ) from e
        lines = _fit_lines(args, recommender, search)  # what the fit decided, for the user and the run
        if log is not None:  # the trained weights stay in the backup until the export: a failure here loses none
            log.finish(recommender, data, lines)
    finally:
        if log is not None:
            log.close()
    logger.info("trained in %.1f s; writing %s%s ...", time.perf_counter() - started, args.out,
                " (replacing the model there)" if replaces else "")  # fmt: skip
    meta = ModelMeta(
        model=to_dict(recommender.config),
        train=to_dict(recommender.train_config or train_config),
        dataset=dataset.summary(),
        ratings=len(dataset.ratings),
        data=to_dict(data_config),
        epoch_search=search,
    )
    try:
        save_model_dir(args.out, recommender, data.vocab, dataset, meta)
    except ModelDirError as e:  # a full disk while exporting (the half-written folder is already gone)
        if not any(backup.rglob(f"{TRAINED}/history.json")):
            remove_backup(backup)  # nothing in it worth keeping
            raise
        raise ModelDirError(
            f"{e}; the trained weights are kept in {backup}: free some space and run the same command again to "
            "export them without training"
        ) from e
    remove_backup(backup)  # only now: a run killed while exporting loads the trained weights from it
    print(f"trained {model_config.name} on {dataset.summary()}")
    for line in lines:
        print(line)
    print(f"model written to {args.out}")
    if log is not None:
        print(f"TensorBoard run written to {log.run_dir} (`movierec tensorboard --logdir {args.logdir}`)")
    return 0


def _fit_lines(args: argparse.Namespace, recommender: Any, search: EpochSearch | None) -> list[str]:
    """What the fit decided beyond the weights, the question the validation slice asked and the epochs chosen."""
    lines = []
    if search is not None and search.refit:  # the refit trained what the validation slice decided: say that
        lines.append(search.decisions.summary())
    else:  # what fitting decided beyond the weights (default / auto: the model it kept)
        lines.append(recommender.fit_record().summary())
    choice = search.decisions.choice if search is not None else None
    if choice is not None and choice.order.used and args.validation_split != "random":
        # the choice answers the question the validation slice asks; say which, and how to ask the others (on
        # MovieLens' temporal splits the temporal question gave NDCG@10 0.222 against 0.158 for ML-100k)
        others = "to recommend movies missing at random from users' pasts instead (a random held-out split)"
        if args.validation_split == "leave_last":
            others = (
                "to recommend what users watch after your ratings end instead (a split in time), train with "
                f"--validation-split temporal; {others}"
            )
        lines.append(
            f"{choice.chosen} predicts what each user watches next; {others}, train with --validation-split random"
        )
    if search is not None and any(search.validation_curve.values()):  # a model trained in epochs, stopped early
        slice_ = (
            "each user's latest rating"
            if args.validation_split == "leave_last"
            else f"a {args.validation_fraction:.0%} {args.validation_split} validation slice"
        )
        again = "; then trained again on every rating for that many" if search.refit else ""
        lines.append(f"epochs chosen on {slice_}: {search.chosen_epochs}{again}")
    return [line for line in lines if line]


def _run_dir(args: argparse.Namespace) -> Path:
    """The TensorBoard run of `train --logdir`: one folder per model folder, named after it."""
    return Path(args.logdir) / Path(args.out).name

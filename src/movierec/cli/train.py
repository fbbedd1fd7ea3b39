"""`movierec train`: fit one model on a ratings file and export it to a model directory."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import tomllib
from pathlib import Path

from movierec.cli._common import add_data_arguments, data_config_from_args, positive_int
from movierec.config import SplitConfig, TrainConfig, model_config_from_dict
from movierec.errors import ConfigError

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
    choice.add_argument("--preset", help="model preset name (see `movierec compare --help`); default: best model")
    choice.add_argument("--config", help="TOML file with one model config table (kind = ..., name = ...)")
    parser.add_argument("--out", required=True, help="model directory to write")
    parser.add_argument("--epochs", type=positive_int, help="override the number of epochs")
    parser.add_argument("--seed", type=int, default=42, help="seed of weights and shuffling")
    parser.add_argument(
        "--validation-fraction", type=float, default=0.0,
        help="hold out this share of ratings (random) for early stopping; default 0: train on everything",
    )
    parser.set_defaults(func=run)


def load_model_config(args: argparse.Namespace):
    from movierec.models.presets import DEFAULT_PRESET, get_preset  # noqa: PLC0415

    if args.config:
        try:
            data = tomllib.loads(Path(args.config).read_text())
        except FileNotFoundError as e:
            raise ConfigError(f"config file not found: {args.config}") from e
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"config file {args.config} is not valid TOML: {e}") from e
        return model_config_from_dict(data, where=Path(args.config).name)
    return get_preset(args.preset or DEFAULT_PRESET)


def run(args: argparse.Namespace) -> int:
    from movierec.config import ExperimentConfig  # noqa: PLC0415
    from movierec.serving.model_dir import save_model_dir  # noqa: PLC0415
    from movierec.training.experiment import build_recommender, prepare_data  # noqa: PLC0415

    if not 0.0 <= args.validation_fraction < 1.0:
        raise ConfigError(f"--validation-fraction must be in [0, 1). Received: {args.validation_fraction}")
    model_config = load_model_config(args)
    train_config = TrainConfig(seed=args.seed)
    if args.epochs:
        train_config = dataclasses.replace(train_config, epochs=args.epochs)
        if hasattr(model_config, "epochs"):
            model_config = dataclasses.replace(model_config, epochs=None)
    experiment = ExperimentConfig(
        data=data_config_from_args(args),
        split=SplitConfig(strategy="random", test_fraction=0.0, validation_fraction=args.validation_fraction, seed=args.seed),
        train=train_config,
    )
    data = prepare_data(experiment)
    logger.info("%s; training %s (%s) ...", data.dataset.summary(), model_config.name, model_config.kind)
    recommender = build_recommender(model_config, train_config)
    recommender.fit(data.train, data.validation, data.features)
    meta = {
        "model": model_config,
        "train": getattr(recommender, "train_config", train_config),
        "dataset": data.dataset.summary(),
        "data": experiment.data,
    }
    save_model_dir(args.out, recommender, data.vocab, data.dataset, data.seen, meta)
    print(f"trained {model_config.name} on {data.dataset.summary()}")
    print(f"model written to {args.out}")
    return 0

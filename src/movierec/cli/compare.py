"""`movierec compare`: train and evaluate every model of an experiment, side by side."""

from __future__ import annotations

import argparse
import dataclasses
import logging
from pathlib import Path
from typing import Any

from movierec.cli._common import add_experiment_arguments, data_config_from_args, non_empty
from movierec.config import ExperimentConfig, load_experiment
from movierec.errors import ConfigError
from movierec.evaluation import METRIC_LABELS
from movierec.experiments import PRESETS, run_experiment
from movierec.records import ModelResult, RunResults
from movierec.report import write_report

__all__ = ["register", "run", "format_table"]

logger = logging.getLogger(__name__)

TABLE_COLUMNS = tuple(
    (key, METRIC_LABELS[key])
    for key in ("factorized_top_1", "factorized_top_5", "factorized_top_10", "factorized_top_50",
                "factorized_top_100", "recall@10", "ndcg@10", "hr@10")
)  # fmt: skip


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "compare",
        help="train and evaluate several models; TensorBoard logs + results.json",
        description="Trains every model of an experiment on the same split and budget, evaluates them on "
        "held-out test data, prints a table, writes <logdir>/<name>/results.json and TensorBoard runs.",
    )
    parser.add_argument(
        "--models",
        type=non_empty,
        help=f"comma-separated presets, e.g. model1,model2,popularity; presets: {', '.join(PRESETS)}",
    )
    add_experiment_arguments(parser, per="every TFRS model without its own budget")
    parser.set_defaults(func=run)


def build_config(args: argparse.Namespace) -> ExperimentConfig:
    config = load_experiment(args.config) if args.config else ExperimentConfig()
    changes: dict[str, Any] = {}
    if args.models is not None:
        names = tuple(m.strip() for m in args.models.split(","))
        if not all(names):
            raise ConfigError(f"--models should be comma-separated preset names, none empty. Received: {args.models!r}")
        changes["models"] = names
    if args.name:
        changes["name"] = args.name
    if args.logdir:
        changes["logdir"] = args.logdir
    changes["data"] = data_config_from_args(args, config.data)
    split = config.split
    if args.split:
        split = dataclasses.replace(split, strategy=args.split)
    if args.seed is not None:
        split = dataclasses.replace(split, seed=args.seed)
    train_changes = {}
    if args.epochs:
        train_changes["epochs"] = args.epochs
    if args.batch_size:
        train_changes["batch_size"] = args.batch_size
    if args.seed is not None:
        train_changes["seed"] = args.seed
    if args.strategy:
        train_changes["strategy"] = args.strategy
    return dataclasses.replace(config, split=split, train=dataclasses.replace(config.train, **train_changes), **changes)


def format_table(results: RunResults) -> str:
    """A fixed-width table of the test metrics of every model."""
    header = f"{'model':<18}" + "".join(f"{short:>10}" for _, short in TABLE_COLUMNS) + f"{'train s':>9}"
    lines = [header, "-" * len(header)]
    for name, result in results.models.items():
        cells = "".join(f"{result.test.get(key, float('nan')):>10.4f}" for key, _ in TABLE_COLUMNS)
        lines.append(f"{name:<18}{cells}{result.train_seconds:>9.1f}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    config = build_config(args)

    def done(name: str, result: ModelResult) -> None:
        logger.info(
            "  %-16s top-100 %.4f  NDCG@10 %.4f  (%.1f s)",
            name,
            result.test["factorized_top_100"],
            result.test["ndcg@10"],
            result.train_seconds,
        )

    results = run_experiment(config, on_model_done=done)
    write_report(results, Path(config.logdir) / config.name)
    experiment_dir = f"{config.logdir}/{config.name}"
    print(f"\n{results.dataset}; split {results.split.to_dict()}")
    print(format_table(results))
    print(f"\nresults: {experiment_dir}/results.json   ({results.total_seconds or 0.0:.1f} s in all)")
    print(f"TensorBoard: movierec tensorboard --logdir {experiment_dir}   (or: tensorboard --logdir {experiment_dir})")
    return 0

"""`movierec tune`: grid-search one model's hyper-parameters on the validation slice."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from movierec.cli._common import add_experiment_arguments
from movierec.cli.compare import build_config
from movierec.config import save_json, to_dict
from movierec.experiments import get_preset, parse_grid, prepare_data, tune, what_mattered

__all__ = ["register", "run"]


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "tune",
        help="grid-search a model's hyper-parameters on the validation slice",
        description="Fits every combination of --grid on train, scores it on the validation slice only "
        "(never test), logs each trial to TensorBoard HParams and writes the best config as JSON.",
    )
    parser.add_argument("--model", required=True, help="preset to start from, e.g. ease, als, best")
    parser.add_argument(
        "--grid",
        nargs="+",
        required=True,
        metavar="FIELD=V1,V2",
        help="values to try, e.g. l2=100,250,500 or learning_rate=0.001,0.003 embedding_dim=32,64",
    )
    parser.add_argument("--metric", default="ndcg@10", help="validation metric to maximise (default ndcg@10)")
    parser.add_argument("--out", help="where to write the best config JSON (default <logdir>/<name>-tune/best.json)")
    add_experiment_arguments(parser, per="each trial")
    parser.set_defaults(func=run, models=None)


def run(args: argparse.Namespace) -> int:
    config = build_config(args)
    model_config = get_preset(args.model, config.overrides.get(args.model))
    grid = parse_grid(args.grid)
    data = prepare_data(config)
    logdir = Path(config.logdir) / f"{config.name}-tune" / model_config.name
    best, trials = tune(model_config, data, config.train, grid, logdir, metric=args.metric)
    print(f"{'trial':<6}{'params':<50}{'validation ' + args.metric:>22}")
    for number, trial in enumerate(trials):
        print(f"{number:<6}{json.dumps(trial['params']):<50}{trial['validation'][args.metric]:>22.4f}")
    summary = what_mattered(trials, args.metric)
    if summary:
        print(f"\nwhat mattered (mean validation {args.metric} per value; largest effect first):")
        for row in summary:
            means = ", ".join(f"{value}: {mean:.4f}" for value, mean in row["means"].items())
            print(f"  {row['param']:<24} range {row['range']:.4f}   {means}")
    out = Path(args.out) if args.out else logdir / "best.json"
    save_json({"best": to_dict(best), "metric": args.metric, "trials": trials, "what_mattered": summary}, out)
    print(f"best: {json.dumps({k: getattr(best, k) for k in grid if hasattr(best, k)})}; written to {out}")
    print(f"TensorBoard HParams: movierec tensorboard --logdir {logdir}")
    return 0

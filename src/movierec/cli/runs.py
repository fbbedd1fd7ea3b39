"""`movierec runs`: list the compare experiments under a log folder, or keep one run's record apart from its logs."""

from __future__ import annotations

import argparse

from movierec.report import find_runs, keep_record, runs_table

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "runs",
        help="list compare experiments and their models with headline metrics, newest first",
        description="Finds every results.json under --logdir and lists each experiment (split, when it was "
        "written) with its models' test NDCG@10, Recall@10 and factorized top-100, best first. With --keep, "
        "copies one run's record (results.json, each model's config and per-user test metrics; no logs or "
        "checkpoints) to a folder that `movierec report` reads as it reads the run.",
    )
    parser.add_argument("--logdir", default="runs", help="log folder to search (default: runs)")
    parser.add_argument(
        "--keep", nargs=2, metavar=("RUN", "DEST"),
        help="copy the record of the compare run in folder RUN to DEST (replaced once complete)",
    )  # fmt: skip
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.keep:
        run_dir, dest = args.keep
        print(f"kept the record of {run_dir} in {keep_record(run_dir, dest)}")
        return 0
    print(runs_table(find_runs(args.logdir)))
    return 0

"""`movierec runs`: list the compare experiments under a log folder, newest first, with headline metrics."""

from __future__ import annotations

import argparse

from movierec.report import find_runs, runs_table

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "runs",
        help="list compare experiments and their models with headline metrics, newest first",
        description="Finds every results.json under --logdir and lists each experiment (split, when it was "
        "written) with its models' test NDCG@10, Recall@10 and factorized top-100, best first.",
    )
    parser.add_argument("--logdir", default="runs", help="log folder to search (default: runs)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    print(runs_table(find_runs(args.logdir)))
    return 0

"""`movierec report`: Markdown tables from one or more compare `results.json` files."""

from __future__ import annotations

import argparse

from movierec._io import write_text_atomic
from movierec.report import markdown_report

__all__ = ["register", "run"]


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "report",
        help="write a Markdown comparison table from results.json files",
        description="Reads results.json files written by `movierec compare` and prints (or writes) Markdown "
        "tables: factorized top-1/10/100, Recall@10/20, NDCG@10 with its standard error, HR@10, coverage, seconds.",
    )
    parser.add_argument("results", nargs="+", help="results.json files")
    parser.add_argument("--out", help="Markdown file to write (default: print)")
    parser.add_argument("--title", default="Results", help="document title")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:

    text = markdown_report(args.results, title=args.title)
    if args.out:
        write_text_atomic(args.out, text)
        print(f"wrote {args.out}")
    else:
        print(text)
    return 0

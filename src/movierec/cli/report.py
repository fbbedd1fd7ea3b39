"""`movierec report`: Markdown tables from one or more compare `results.json` files."""

from __future__ import annotations

import argparse

from movierec._input_files import check_input_file
from movierec._io import write_text_atomic
from movierec.errors import ConfigError, DataError
from movierec.report import html_report, markdown_report, seeds_report

__all__ = ["register", "run"]


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "report",
        help="write a comparison report (Markdown or self-contained HTML) from results.json files",
        description="Reads results.json files written by `movierec compare` (several experiments overlay in one "
        "leaderboard) and prints or writes the report: factorized top-1/10/100, Recall@10/20, NDCG@10 with its "
        "standard error, HR@10, coverage, seconds. An --out ending in .html writes a page that opens from disk "
        "with the curves, popularity histogram and sample recommendations embedded.",
    )
    parser.add_argument("results", nargs="+", help="results.json files")
    parser.add_argument("--out", help="file to write: .md (Markdown) or .html (default: print Markdown)")
    parser.add_argument("--title", default="Results", help="document title")
    parser.add_argument(
        "--seed-runs", nargs="+", default=[], metavar="RESULTS",
        help="results.json of runs that differ only by seed: adds each model's mean and range per split (Markdown)",
    )  # fmt: skip
    parser.add_argument(
        "--append", metavar="MARKDOWN",
        help="a hand-written Markdown file appended after the tables (e.g. published figures to compare with)",
    )  # fmt: skip
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    is_html = bool(args.out) and str(args.out).lower().endswith((".html", ".htm"))
    if args.append and is_html:  # checked before any report is built
        raise ConfigError("--append takes Markdown; the report would be HTML (--out ends in .html)")
    appended = read_markdown(args.append) if args.append else None
    text = html_report(args.results, title=args.title) if is_html else markdown_report(args.results, title=args.title)
    if args.seed_runs and not is_html:
        text += "\n## Mean and range over seeds\n\n" + seeds_report(args.seed_runs)
    if appended is not None:
        text = text.rstrip("\n") + "\n\n" + appended
    if args.out:
        write_text_atomic(args.out, text)
        print(f"wrote {args.out}")
    else:
        print(text)
    return 0


def read_markdown(path: str) -> str:
    """The text of the file `--append` names (a readable text file: `check_input_file`), or DataError naming it."""
    try:
        return check_input_file(path, "--append", DataError).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise DataError(f"--append: cannot read {path}: {e}") from e

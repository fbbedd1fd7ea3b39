"""`movierec data`: fetch MovieLens 100k into the cache, or summarise a ratings CSV."""

from __future__ import annotations

import argparse

from movierec.data.csv_source import load_csv
from movierec.data.movielens import cache_location, load_movielens_100k

__all__ = ["register", "run_fetch", "run_info"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Adds `movierec data {fetch,info}` to the top-level parser."""
    parser = subparsers.add_parser("data", help="fetch MovieLens 100k or summarise a CSV dataset")
    actions = parser.add_subparsers(dest="data_command", metavar="ACTION")
    fetch = actions.add_parser("fetch", help="load MovieLens 100k into the cache and summarise it")
    fetch.add_argument("--path", help="local GroupLens ml-100k.zip or its folder (else cache, then download)")
    fetch.add_argument("--cache-dir", help="cache root (default: $MOVIEREC_CACHE or the user cache dir)")
    fetch.set_defaults(func=run_fetch)
    info = actions.add_parser("info", help="summarise a ratings CSV (user_id,item_id,rating,timestamp)")
    info.add_argument("--ratings", required=True, help="ratings CSV with a header row")
    info.add_argument("--items", help="items CSV (item_id,title[,genres])")
    info.set_defaults(func=run_info)
    parser.set_defaults(func=lambda args: _usage(parser))


def run_fetch(args: argparse.Namespace) -> int:
    dataset = load_movielens_100k(path=args.path, cache_dir=args.cache_dir)
    print(dataset.summary())
    print(f"cached in {cache_location(args.cache_dir)}")
    return 0


def run_info(args: argparse.Namespace) -> int:
    print(load_csv(args.ratings, args.items).summary())
    return 0


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2

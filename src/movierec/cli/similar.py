"""`movierec similar`: the movies most like one movie, from a trained model directory."""

from __future__ import annotations

import argparse

from movierec.cli._common import add_trust_argument, positive_int, print_ranked
from movierec.ranking import DEFAULT_K
from movierec.serving.model_dir import load_model_dir

__all__ = ["register", "run"]


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "similar",
        help="list the movies most similar to a movie",
        description="Prints the k movies most similar to --movie: the cosine of the movie embeddings for TFRS "
        "models and ALS, the item-item weights for EASE, the most popular other movies for most-popular.",
    )
    parser.add_argument("--model", required=True, help="model directory written by `movierec train`")
    add_trust_argument(parser)
    parser.add_argument("--movie", required=True, help="a movie id known to the model (taken verbatim)")
    parser.add_argument("-k", type=positive_int, default=DEFAULT_K, help=f"number of movies (default {DEFAULT_K})")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    model = load_model_dir(args.model, trust=args.trust)
    print_ranked(model.similar_items(args.movie, args.k))
    return 0

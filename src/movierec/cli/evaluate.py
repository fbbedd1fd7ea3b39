"""`movierec evaluate`: score a trained model directory on a held-out ratings CSV."""

from __future__ import annotations

import argparse
import json
import logging
import math
from typing import Any

from movierec.cli._common import add_trust_argument, check_output_file, positive_int
from movierec.config import save_json
from movierec.data import Interactions, load_csv
from movierec.errors import DataError
from movierec.evaluation import evaluate
from movierec.serving.model_dir import load_model_dir

__all__ = ["register", "run", "json_safe"]

logger = logging.getLogger(__name__)


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "evaluate",
        help="evaluate a model directory on held-out ratings",
        description="Computes factorized top-k accuracy and Recall/NDCG/HR@K (seen movies excluded) of a "
        "model on a test ratings CSV (user_id,item_id,rating,timestamp). Rows with users or movies the "
        "model does not know are dropped and counted.",
    )
    parser.add_argument("--model", required=True, help="model directory written by `movierec train`")
    add_trust_argument(parser)
    parser.add_argument("--test", required=True, help="held-out ratings CSV")
    parser.add_argument("-k", "--ks", type=positive_int, nargs="+", default=[1, 5, 10, 50, 100], help="cut-offs")
    parser.add_argument("--out", help="write the metrics as JSON here (an undefined metric is null)")
    parser.set_defaults(func=run)


def json_safe(metrics: dict[str, Any], digits: int | None = None) -> dict[str, Any]:
    """Metrics with NaN and infinities as None (JSON has no NaN), floats rounded to `digits` if given."""
    out: dict[str, Any] = {}
    for key, value in metrics.items():
        if isinstance(value, float):
            value = None if not math.isfinite(value) else (round(value, digits) if digits is not None else value)
        out[key] = value
    return out


def run(args: argparse.Namespace) -> int:
    if args.out:
        check_output_file(args.out)
    model = load_model_dir(args.model, trust=args.trust)
    test = load_csv(args.test).ratings
    users = model.vocab.user_index(test["user_id"], missing="mask")
    items = model.vocab.item_index(test["item_id"], missing="mask")
    keep = (users >= 0) & (items >= 0)
    if not keep.any():
        raise DataError(f"{args.test}: no row has a user and a movie known to the model")
    if (~keep).any():
        logger.warning("dropped %d of %d test rows with unknown users or movies", int((~keep).sum()), len(keep))
    n_users, n_items = model.vocab.n_users, model.vocab.n_items
    test_rows = Interactions.from_arrays(users[keep], items[keep], n_users=n_users, n_items=n_items)
    rows, cols = model.recommender.seen.nonzero()
    seen = Interactions.from_arrays(rows, cols, n_users=n_users, n_items=n_items)
    metrics = evaluate(model.recommender, seen, test_rows, ks=tuple(args.ks), progress=True)
    metrics["dropped_rows"] = int((~keep).sum())
    if args.out:
        save_json(json_safe(metrics), args.out)
    print(json.dumps(json_safe(metrics, digits=5), indent=2))
    return 0

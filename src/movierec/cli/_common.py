"""Argument helpers shared by the subcommands."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from movierec._checks import check_seed
from movierec._io import output_problem
from movierec.config import DataConfig, packaged_experiments
from movierec.data.catalog import MOVIELENS_SETS
from movierec.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "positive_int", "seed_int", "port_number", "non_empty", "add_experiment_arguments", "add_data_arguments", "data_config_from_args", "check_output_file",
    "read_id_file", "print_ranked", "print_explained", "because_line",
]  # fmt: skip


def positive_int(text: str) -> int:
    """argparse type: an integer > 0, with a message naming the value."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def non_empty(text: str) -> str:
    """argparse type: text with something in it (an empty value is refused, not replaced by the default)."""
    if not text.strip():
        raise argparse.ArgumentTypeError(f"expected a value, got {text!r}")
    return text


def seed_int(text: str) -> int:
    """argparse type: a seed, an integer in [0, 2**32) (the configs' own check, as one argparse line)."""
    try:
        return check_seed(int(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer seed, got {text!r}") from None
    except ConfigError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def port_number(text: str) -> int:
    """argparse type: a TCP port, 1 to 65535 (a larger number would wrap around to another port)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number from 1 to 65535, got {text!r}") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port number from 1 to 65535, got {text!r}")
    return value


def add_experiment_arguments(parser: argparse.ArgumentParser, per: str) -> None:
    """Flags that override an experiment TOML: --config, --name, --logdir, --split, budget, data.

    Args:
        parser: The subcommand parser.
        per: What the budget flags apply to, for the help text ("every TFRS model", "each trial").
    """
    parser.add_argument(
        "--config",
        help="experiment TOML file, or the name of one shipped with movierec "
        f"({', '.join(packaged_experiments())}; see configs/)",
    )
    parser.add_argument("--name", type=non_empty, help="experiment name (runs go to <logdir>/<name>/...)")
    parser.add_argument("--logdir", type=non_empty, help="TensorBoard log root (default: runs)")
    parser.add_argument("--split", choices=("random", "temporal", "leave_last"), help="split strategy")
    parser.add_argument("--epochs", type=positive_int, help=f"epochs for {per}")
    parser.add_argument("--batch-size", type=positive_int, help=f"batch size for {per}")
    parser.add_argument("--seed", type=seed_int, help="seed of the split and the training")
    add_strategy_argument(parser)
    add_data_arguments(parser)


def add_strategy_argument(parser: argparse.ArgumentParser) -> None:
    """--strategy: the tf.distribute strategy of TFRS models (README: "Several devices or machines")."""
    parser.add_argument(
        "--strategy",
        choices=("default", "mirrored", "multi_worker"),
        help="tf.distribute strategy for TFRS models: one device (default), every local GPU (mirrored), "
        "or the workers listed in TF_CONFIG (multi_worker)",
    )


def add_data_arguments(parser: argparse.ArgumentParser, *, ratings_required: bool = False) -> None:
    group = parser.add_argument_group("data")
    group.add_argument(
        "--ratings",
        required=ratings_required,
        help="ratings CSV or .parquet with user_id,item_id,rating,timestamp, a GroupLens-layout folder "
        "(e.g. from `movierec data synth`), or a MovieLens set: ml-100k, ml-1m, ml-10m, ml-20m, ml-25m, ml-32m, "
        "ml-latest-small",
    )
    group.add_argument("--items", help="optional items CSV with header item_id,title,genres (genres '|'-separated)")
    group.add_argument(
        "--data-path",
        help="local GroupLens <set>.zip or its folder for a MovieLens --ratings (used before the cache and any download)",
    )
    group.add_argument("--cache-dir", help="data cache folder (default: $MOVIEREC_CACHE or the user cache dir)")


def data_config_from_args(args: argparse.Namespace, base: DataConfig | None = None) -> DataConfig:
    base = base or DataConfig()
    source = args.ratings or base.source
    if args.items and source in MOVIELENS_SETS:
        raise ConfigError(f"--items goes with a ratings CSV (--ratings FILE), not with the MovieLens set {source}")
    return DataConfig(
        source=source,
        items=args.items or (base.items if source == base.source else None),
        path=args.data_path or base.path,
        cache_dir=args.cache_dir or base.cache_dir,
        min_rating=base.min_rating,
    )


def check_output_file(path: str | Path) -> None:
    """Refuses, before any long work, an output file that cannot be written (one line, exit 2)."""
    problem = output_problem(path, folder=False)
    if problem:
        raise ConfigError(problem)


def read_id_file(path: str) -> list[str]:
    """Ids one per line, verbatim (commas and spaces inside an id kept); blank lines skipped; '-' is stdin."""
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except FileNotFoundError as e:
        raise ConfigError(f"id file not found: {path}") from e
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"cannot read the id file {path}: {e}") from e
    return [line.strip("\r\n") for line in text.splitlines() if line.strip()]


def print_ranked(table: pd.DataFrame) -> None:
    """Prints a `rank, item_id, title, score` table, one movie per line (a movie without a title shows its id)."""
    for row in table.itertuples(index=False):
        title = row.title if str(row.title).strip() else "(untitled)"
        print(f"{row.rank:>3}. {title}  [{row.item_id}]  score {row.score:.4f}")


def print_explained(table: pd.DataFrame) -> None:
    """`print_ranked`, each movie followed by why (`TrainedModel.recommend_users(..., explain=True)`'s columns)."""
    for row in table.itertuples(index=False):
        title = row.title if str(row.title).strip() else "(untitled)"
        print(f"{row.rank:>3}. {title}  [{row.item_id}]  score {row.score:.4f}")
        print(f"     {because_line(row.because, row.explanation)}")
    methods = set(table["explanation"]) - {"popularity"}
    if "similarity" in methods:
        print("(the model's user vector is learned, not computed from the history: reasons are approximate)")


def because_line(reasons: list[tuple[str, str, float]], explanation: str) -> str:
    """ "because you watched Heat (1995) 0.31, Ronin (1998) 0.12" (titles, else ids), or why there is no movie."""
    if explanation == "popularity":
        return "because it is popular (no movie of the history ranks it)"
    if not reasons:
        return "because of no single movie you watched (none raises its score)"
    named = ", ".join(f"{title if title.strip() else item_id} {weight:.2g}" for item_id, title, weight in reasons)
    return f"because you watched {named}"


def add_trust_argument(parser: argparse.ArgumentParser) -> None:
    """`--trust`: load a model folder this installation did not sign (see `movierec._trust`)."""
    parser.add_argument(
        "--trust",
        action="store_true",
        help="load a model folder that this installation of movierec did not write (another machine or user, or "
        "changed since): a model folder holds a TensorFlow program that runs when it is loaded",
    )

"""Argument checks shared across layers: one message format, naming the argument and the value."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from movierec.errors import ConfigError

__all__ = [
    "check_k", "check_ks", "check_finite_fields", "check_model_table", "check_non_negative", "check_seed", "SEED_LIMIT",
]  # fmt: skip

SEED_LIMIT = 2**32  # seeds are in [0, 2**32): numpy's legacy seeding and TensorFlow's int64 both take them


def check_k(k: object, name: str = "k") -> int:
    """`k` as an int, or ConfigError if it is not a positive integer (bools rejected)."""
    if not isinstance(k, (int, np.integer)) or isinstance(k, (bool, np.bool_)) or k <= 0:
        raise ConfigError(f"`{name}` should be a positive integer. Received: `{name}` = {k!r}")
    return int(k)


def check_non_negative(value: object, name: str) -> None:
    """ConfigError naming `name` unless `value` is a number >= 0 (bools and nan rejected).

    Example:
        >>> check_non_negative(0.5, "average_epochs")
        >>> check_non_negative(-1, "train.average_epochs")
        Traceback (most recent call last):
        ...
        movierec.errors.ConfigError: train.average_epochs must be >= 0. Received: -1
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) or not value >= 0:
        raise ConfigError(f"{name} must be >= 0. Received: {value!r}")


def check_ks(ks: Iterable[int] | int) -> tuple[int, ...]:
    """Sorted distinct cut-offs (a single int is one cut-off), each checked with `check_k`."""
    if isinstance(ks, (int, np.integer)):
        ks = (ks,)
    values = tuple(sorted({check_k(k, "ks") for k in ks}))
    if not values:
        raise ConfigError("`ks` should hold at least one positive integer. Received: `ks` = ()")
    return values


def check_finite_fields(config: Any, prefix: str = "") -> None:
    """ConfigError naming the first float field of dataclass `config` (or float in a tuple field) that is nan or ±inf.

    Example:
        >>> @dataclasses.dataclass
        ... class Demo:
        ...     rate: float = float("nan")
        >>> check_finite_fields(Demo(), "demo.")
        Traceback (most recent call last):
        movierec.errors.ConfigError: demo.rate must be a finite number. Received: `rate` = nan
    """
    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        for item in value if isinstance(value, tuple) else (value,):
            if isinstance(item, float) and not math.isfinite(item):
                raise ConfigError(f"{prefix}{field.name} must be a finite number. Received: `{field.name}` = {value!r}")


def check_seed(seed: object, name: str = "seed") -> int:
    """`seed` as an int, or ConfigError if it is not an integer in [0, 2**32) (bools rejected)."""
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < SEED_LIMIT:
        raise ConfigError(f"`{name}` should be an integer from 0 to {SEED_LIMIT - 1}. Received: `{name}` = {seed!r}")
    return int(seed)


def check_model_table(table: Any, where: str, refused: tuple[str, ...], why: str) -> None:
    """ConfigError unless `table` is a model table (a dict with a string `kind`) of a kind not in `refused`.

    The candidates of `choice` and the members of `blend` are model tables checked this way.

    Example:
        >>> check_model_table({"kind": "auto"}, "blend.first", ("auto",), "a member cannot itself choose")
        Traceback (most recent call last):
        movierec.errors.ConfigError: blend.first: a member cannot itself choose (kind 'auto')
    """
    if not isinstance(table, dict) or not isinstance(table.get("kind"), str):
        raise ConfigError(f"{where} must be a model table with a `kind`. Received: {table!r}")
    if table["kind"] in refused:
        raise ConfigError(f"{where}: {why} (kind {table['kind']!r})")

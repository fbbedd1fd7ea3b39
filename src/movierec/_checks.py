"""Argument checks shared across layers: one message format, naming the argument and the value."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from movierec.errors import ConfigError

__all__ = ["check_k", "check_ks"]


def check_k(k: object, name: str = "k") -> int:
    """`k` as an int, or ConfigError if it is not a positive integer (bools rejected)."""
    if not isinstance(k, (int, np.integer)) or isinstance(k, (bool, np.bool_)) or k <= 0:
        raise ConfigError(f"`{name}` should be a positive integer. Received: `{name}` = {k!r}")
    return int(k)


def check_ks(ks: Iterable[int] | int) -> tuple[int, ...]:
    """Sorted distinct cut-offs (a single int is one cut-off), each checked with `check_k`."""
    if isinstance(ks, (int, np.integer)):
        ks = (ks,)
    values = tuple(sorted({check_k(k, "ks") for k in ks}))
    if not values:
        raise ConfigError("`ks` should hold at least one positive integer. Received: `ks` = ()")
    return values

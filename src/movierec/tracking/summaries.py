"""Configs as HParams: the scalar values TensorBoard's HParams dashboard accepts."""

from __future__ import annotations

import dataclasses
from typing import Any

__all__ = ["flat_hparams"]


def flat_hparams(config: Any, train_config: Any | None = None) -> dict[str, bool | int | float | str]:
    """Flattens a model config (+ training budget) to the scalar types HParams accepts."""
    values: dict[str, bool | int | float | str] = {}
    for source in (config, train_config):
        if source is None:
            continue
        for field in dataclasses.fields(source):
            value = getattr(source, field.name)
            if field.name in ("validation_ks",):
                continue
            if value is None:
                value = "none"
            elif isinstance(value, (tuple, list)):  # candidate tables (auto) by name
                value = ",".join(str(v.get("name", v.get("kind"))) if isinstance(v, dict) else str(v) for v in value)
                value = value or "none"
            elif not isinstance(value, (bool, int, float, str)):
                value = str(value)
            values[field.name] = value
    return values

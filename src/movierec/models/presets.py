"""Named model presets: the report's Model 1 and Model 2, a fix, and baselines.

A preset is a config, never a subclass. `movierec compare` and `movierec train
--preset NAME` look names up here; experiment TOML files may override fields.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from movierec.baselines import AlsConfig, EaseConfig, PopularityConfig
from movierec.errors import ConfigError
from movierec.models.config import TwoTowerConfig

__all__ = ["PRESETS", "get_preset", "DEFAULT_PRESET"]

PRESETS: dict[str, Any] = {
    # The report's Model 1: embedding + dense layers with relu, in both towers.
    "model1": TwoTowerConfig(name="model1", embedding_dim=32, layer_sizes=(64, 32), activation="relu"),
    # The report's Model 2 as described: swish layers plus a final softmax dense layer.
    # Softmax outputs are positive and sum to 1, so all embeddings crowd into a simplex
    # corner and dot products barely differ: it cannot learn (kept to show exactly that).
    "model2": TwoTowerConfig(
        name="model2", embedding_dim=32, layer_sizes=(64, 32), activation="swish",
        head_size=32, head_activation="softmax",
    ),
    # Model 2 fixed: no softmax head, a linear last layer, unit-length embeddings and a
    # softmax temperature so cosine scores can be sharp.
    "model2_fixed": TwoTowerConfig(
        name="model2_fixed", embedding_dim=32, layer_sizes=(64, 32), activation="swish",
        activate_last=False, l2_normalize=True, temperature=0.1,
    ),
    "popularity": PopularityConfig(name="popularity"),
    "ease": EaseConfig(name="ease"),
    "als": AlsConfig(name="als"),
}

DEFAULT_PRESET = "model2_fixed"


def get_preset(name: str, overrides: dict[str, Any] | None = None):
    """The preset config called `name`, with `overrides` applied.

    Raises:
        ConfigError: for an unknown name or override field.
    """
    if name not in PRESETS:
        raise ConfigError(f"unknown preset {name!r}; choose from {sorted(PRESETS)}")
    config = PRESETS[name]
    if overrides:
        fields = {f.name for f in dataclasses.fields(config)}
        unknown = sorted(set(overrides) - fields)
        if unknown:
            raise ConfigError(f"preset {name!r}: unknown override field(s) {unknown}")
        from movierec.config import from_dict, to_dict  # noqa: PLC0415

        config = from_dict(type(config), {**to_dict(config), **overrides}, where=name)
    return config

"""The one registry: each model kind's config class and recommender class.

Every recommender is built from its config alone (`build_recommender(config)`), and any
saved one is restored by its `kind` (`load_recommender(directory)`). Recommender classes
are named by import path and imported on first use, so that reading a config, listing
kinds or training a baseline never loads TensorFlow; only the TFRS kinds (`two_tower`, `sequential`) do.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w

from movierec.config import (
    AlsConfig,
    AutoConfig,
    BlendConfig,
    ChoiceConfig,
    EaseConfig,
    MarkovConfig,
    PopularityConfig,
    SequentialConfig,
    TwoTowerConfig,
    from_dict,
    to_dict,
)
from movierec.errors import ConfigError, ModelDirError
from movierec.recommender import Recommender

__all__ = [
    "Kind", "KINDS", "kind_of", "config_from_dict", "config_to_toml", "recommender_class", "build_recommender",
    "load_recommender",
]  # fmt: skip


@dataclass(frozen=True)
class Kind:
    """A model kind: its config dataclass and where its `Recommender` subclass lives."""

    name: str  # the `kind` field of the config and the `kind` of the class
    config: type  # frozen config dataclass
    recommender: str  # "module:Class", imported on first use
    uses_tensorflow: bool  # whether building it loads TensorFlow


KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind("popularity", PopularityConfig, "movierec.baselines.popularity:PopularityRecommender", False),
        Kind("ease", EaseConfig, "movierec.baselines.ease:EaseRecommender", False),
        Kind("als", AlsConfig, "movierec.baselines.als:AlsRecommender", False),
        Kind("markov", MarkovConfig, "movierec.baselines.markov:MarkovRecommender", False),
        Kind("two_tower", TwoTowerConfig, "movierec.models.two_tower_recommender:TwoTowerRecommender", True),
        Kind("sequential", SequentialConfig, "movierec.models.sequential:SequentialRecommender", True),
        # fits its candidates (TensorFlow only if one is a two-tower model) and keeps the best on validation
        Kind("auto", AutoConfig, "movierec.selection:AutoRecommender", False),
        # trains one of two candidates (order-free or sequential), as a check on the validation slice decides
        Kind("choice", ChoiceConfig, "movierec.choice:ChoiceRecommender", False),
        # trains two models and mixes their standardised scores with a weight chosen on the validation slice
        Kind("blend", BlendConfig, "movierec.blend:BlendRecommender", False),
    )
}


def kind_of(config: Any) -> Kind:
    """The registered kind of a config instance.

    Raises:
        ConfigError: if `config` is not a registered config class.
    """
    kind = KINDS.get(getattr(config, "kind", None))  # type: ignore[arg-type]
    if kind is None or not isinstance(config, kind.config):
        raise ConfigError(f"not a model config: {config!r}; kinds are {sorted(KINDS)}")
    return kind


def config_from_dict(data: dict[str, Any], *, where: str = "model") -> Any:
    """Builds the config named by `data["kind"]`.

    Raises:
        ConfigError: on a missing or unknown kind, an unknown key or a bad value.
    """
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a table with a `kind`, got {type(data).__name__}")
    kind = data.get("kind")
    if kind not in KINDS:
        raise ConfigError(f"{where}.kind must be one of {sorted(KINDS)}. Received: {kind!r}")
    config = from_dict(KINDS[kind].config, data, where=where)
    for members in _member_tables(config).values():  # each candidate is checked now, before any data is read
        for label, candidate in members:
            place = f"{where}.{label}"
            try:
                config_from_dict(candidate, where=place)
            except ConfigError as e:
                raise ConfigError(str(e) if place in str(e) else f"{place}: {e}") from e
    return config


def _member_tables(config: Any) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """The fields of a chooser or blend config that hold other models' tables: by field name, each table with
    its label (`candidates[0]`, `first`, ...)."""
    if isinstance(config, AutoConfig):
        return {"candidates": [(f"candidates[{i}]", table) for i, table in enumerate(config.candidates)]}
    if isinstance(config, ChoiceConfig):
        return {name: [(name, getattr(config, name))] for name in config.member_fields()}
    names = ("first", "second") if isinstance(config, BlendConfig) else ()
    return {name: [(name, getattr(config, name))] for name in names}


def config_to_toml(config: Any) -> str:
    """`config` as the TOML model table that `movierec train --config` reads back into the same model.

    Every field is written, nested models' tables in full; a field that is None is left out (TOML has
    no null), which reads back as None because such fields default to None.

    Raises:
        ConfigError: if `config` is not a registered model config, or holds a None that reading back
            would turn into something else.

    Example:
        >>> print(config_to_toml(PopularityConfig(name="top")), end="")
        kind = "popularity"
        name = "top"
        recent_share = 1.0
    """
    kind_of(config)
    return tomli_w.dumps(_toml_table(config, config.name))


def _toml_table(config: Any, where: str) -> dict[str, Any]:
    members = _member_tables(config)
    table: dict[str, Any] = {}
    for field in dataclasses.fields(config):
        value, place = getattr(config, field.name), f"{where}.{field.name}"
        if value is None:
            default = field.default_factory() if field.default_factory is not dataclasses.MISSING else field.default
            if default is not None:
                raise ConfigError(f"{place} is None, which a TOML file cannot say (left out, it reads as {default!r})")
            continue
        if field.name in members:
            tables = [_toml_table(config_from_dict(t, where=f"{where}.{label}"), f"{where}.{label}")
                      for label, t in members[field.name]]  # fmt: skip
            table[field.name] = tables if isinstance(value, tuple) else tables[0]
        elif dataclasses.is_dataclass(value):
            table[field.name] = _toml_table(value, place)
        else:
            table[field.name] = to_dict(value)
    return table


def recommender_class(kind: str) -> type[Recommender]:
    """The `Recommender` subclass of `kind` (imported on first use)."""
    if kind not in KINDS:
        raise ConfigError(f"`kind` must be one of {sorted(KINDS)}. Received: {kind!r}")
    module_name, _, class_name = KINDS[kind].recommender.partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    if cls.kind != kind:
        raise TypeError(f"{KINDS[kind].recommender} has kind {cls.kind!r}, registered as {kind!r}")
    return cls


def build_recommender(config: Any) -> Recommender:
    """An unfitted recommender for `config`; everything run-specific goes to `fit(data, options)`."""
    return recommender_class(kind_of(config).name)(config)


def load_recommender(directory: str | Path) -> Recommender:
    """Restores any recommender saved with `Recommender.save`.

    Raises:
        ModelDirError: if `directory` holds no saved recommender, or a corrupt one.
    """
    directory = Path(directory)
    meta_path = directory / "recommender.json"
    if not meta_path.is_file():
        raise ModelDirError(f"{directory} is not a saved recommender (no recommender.json)")
    try:
        meta = json.loads(meta_path.read_text())
        if not isinstance(meta, dict):
            raise ValueError(f"expected a JSON object, got {type(meta).__name__}")
        config = config_from_dict(meta["config"], where=str(meta_path))
        n_users, n_items = int(meta["n_users"]), int(meta["n_items"])
    except (json.JSONDecodeError, KeyError, TypeError, ValueError, ConfigError) as e:
        raise ModelDirError(f"{meta_path} is not a valid recommender description: {e}") from e
    recommender = build_recommender(config)
    try:
        recommender._restore(directory, n_users, n_items)
    except ModelDirError:
        raise
    except (OSError, KeyError, ValueError) as e:
        raise ModelDirError(f"{directory} is incomplete or corrupt: {e}") from e
    return recommender

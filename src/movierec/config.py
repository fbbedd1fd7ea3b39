"""Typed configuration: frozen dataclasses, TOML files, dict round-trips.

Every component takes a frozen dataclass. An experiment (`ExperimentConfig`) is
a TOML file; CLI flags override it; the resolved config is written into every
run folder, exported model and TensorBoard HParams. `from_dict(to_dict(c)) == c`
holds for every config (tested).

Model configs are looked up by their `kind` field in `MODEL_CONFIGS`, which the
model and baseline modules fill in with `register_model_config`.
"""

from __future__ import annotations

import dataclasses
import json
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from movierec.errors import ConfigError

__all__ = [
    "DataConfig",
    "SplitConfig",
    "TrainConfig",
    "ExperimentConfig",
    "MODEL_CONFIGS",
    "register_model_config",
    "model_config_from_dict",
    "to_dict",
    "from_dict",
    "load_experiment",
    "save_json",
]

MODEL_CONFIGS: dict[str, type] = {}


def register_model_config(cls: type) -> type:
    """Class decorator: makes a model config loadable by its `kind` default."""
    kind = next(f.default for f in dataclasses.fields(cls) if f.name == "kind")
    MODEL_CONFIGS[kind] = cls
    return cls


@dataclass(frozen=True)
class DataConfig:
    """Where the ratings come from."""

    source: str = "ml-100k"  # "ml-100k", or the path of a ratings CSV (user_id,item_id,rating,timestamp)
    items: str | None = None  # optional items CSV (item_id,title,genres) for a CSV source
    path: str | None = None  # local GroupLens ml-100k.zip or its folder, tried before any download
    cache_dir: str | None = None  # overrides MOVIEREC_CACHE and the user cache dir
    min_rating: float | None = None  # keep only ratings >= this as positives (None: all ratings count)


@dataclass(frozen=True)
class SplitConfig:
    """How ratings are split into train / validation / test."""

    strategy: Literal["random", "temporal", "leave_last"] = "random"  # TFRS tutorial uses random 80/20
    test_fraction: float = 0.2  # share of ratings held out (random, temporal)
    validation_fraction: float = 0.1  # share of *train* carved out for early stopping and tuning
    seed: int = 42  # seeds the random split

    def __post_init__(self) -> None:
        if self.strategy not in ("random", "temporal", "leave_last"):
            raise ConfigError(f"split.strategy must be random, temporal or leave_last. Received: {self.strategy!r}")
        for name in ("test_fraction", "validation_fraction"):
            value = getattr(self, name)
            if not 0.0 <= value < 1.0:
                raise ConfigError(f"split.{name} must be in [0, 1). Received: {value!r}")


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation budget shared by every trainable model of an experiment."""

    epochs: int = 5  # maximum epochs; early stopping may end sooner
    batch_size: int = 8192  # TFRS tutorial batch size
    learning_rate: float = 0.1
    optimizer: Literal["adagrad", "adam", "sgd"] = "adagrad"  # the TFRS tutorial uses Adagrad(0.1)
    early_stopping_patience: int = 0  # epochs without validation improvement before stopping; 0 = off
    monitor: str = "val_ndcg_at_10"  # validation metric watched by early stopping and checkpoints
    seed: int = 42  # seeds weights and shuffling
    validation_ks: tuple[int, ...] = (1, 5, 10, 50, 100)  # factorized top-k logged each epoch
    jit_compile: bool = False  # XLA-compile the train step (measured: no faster on this 2-core CPU once compile time counts)

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or value <= 0:
                raise ConfigError(f"train.{name} should be a positive integer. Received: {value!r}")
        if self.learning_rate <= 0:
            raise ConfigError(f"train.learning_rate must be > 0. Received: {self.learning_rate!r}")
        if self.optimizer not in ("adagrad", "adam", "sgd"):
            raise ConfigError(f"train.optimizer must be adagrad, adam or sgd. Received: {self.optimizer!r}")


@dataclass(frozen=True)
class ExperimentConfig:
    """One comparison: data, split, budget and the models to compare."""

    name: str = "ml100k"  # runs land in <logdir>/<name>/<model name>
    logdir: str = "runs"
    data: DataConfig = field(default_factory=DataConfig)
    split: SplitConfig = field(default_factory=SplitConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    models: tuple[str, ...] = ("model1", "model2", "model2_fixed", "best", "popularity", "ease", "als")  # presets
    ks: tuple[int, ...] = (1, 5, 10, 50, 100)  # cut-offs reported on the test split
    # per-model overrides of preset fields, e.g. {"model1": {"embedding_dim": 64}}
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)


# ----------------------------------------------------------------------------- dict round-trip


def to_dict(config: Any) -> Any:
    """Converts a (nested) config dataclass into plain JSON/TOML-able values."""
    if dataclasses.is_dataclass(config) and not isinstance(config, type):
        return {f.name: to_dict(getattr(config, f.name)) for f in dataclasses.fields(config)}
    if isinstance(config, (tuple, list)):
        return [to_dict(v) for v in config]
    if isinstance(config, dict):
        return {str(k): to_dict(v) for k, v in config.items()}
    return config


def from_dict(cls: type, data: dict[str, Any], *, where: str = "") -> Any:
    """Builds config dataclass `cls` from `data`, converting lists back to tuples.

    Raises:
        ConfigError: on an unknown key or a value of the wrong type.
    """
    if not isinstance(data, dict):
        raise ConfigError(f"{where or cls.__name__}: expected a table, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ConfigError(f"{where or cls.__name__}: unknown key(s) {unknown}; known: {sorted(names)}")
    kwargs = {}
    for key, value in data.items():
        kwargs[key] = _convert(hints[key], value, f"{where}.{key}" if where else key)
    try:
        return cls(**kwargs)
    except TypeError as e:
        raise ConfigError(f"{where or cls.__name__}: {e}") from e


def _convert(hint: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if dataclasses.is_dataclass(hint):
        return from_dict(hint, value, where=where)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        non_none = [a for a in args if a is not type(None)]
        return _convert(non_none[0], value, where) if len(non_none) == 1 else value
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        inner = args[0] if args else Any
        return tuple(_convert(inner, v, where) for v in value)
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint is int and isinstance(value, float) and value.is_integer():
        return int(value)
    if hint in (int, float, str, bool) and not isinstance(value, hint):
        raise ConfigError(f"{where}: expected {hint.__name__}, got {value!r}")
    if origin is dict and isinstance(value, dict):
        return {k: dict(v) if isinstance(v, dict) else v for k, v in value.items()}
    return value


def model_config_from_dict(data: dict[str, Any], *, where: str = "model") -> Any:
    """Builds the model config named by `data["kind"]`."""
    kind = data.get("kind")
    if kind not in MODEL_CONFIGS:
        raise ConfigError(f"{where}.kind must be one of {sorted(MODEL_CONFIGS)}. Received: {kind!r}")
    return from_dict(MODEL_CONFIGS[kind], data, where=where)


def load_experiment(path: str | Path) -> ExperimentConfig:
    """Reads an experiment TOML file.

    Raises:
        ConfigError: if the file is missing, is not valid TOML, or has unknown keys.
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError as e:
        raise ConfigError(f"config file not found: {path}") from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"config file {path} is not valid TOML: {e}") from e
    return from_dict(ExperimentConfig, data, where=path.name)


def save_json(data: Any, path: str | Path) -> None:
    """Writes JSON atomically (temporary file, then rename)."""
    from movierec._io import write_text_atomic  # noqa: PLC0415

    write_text_atomic(path, json.dumps(to_dict(data), indent=2, sort_keys=False) + "\n")

"""Configs to plain values and back: dicts, JSON files and TOML files.

`from_dict(type(c), to_dict(c)) == c` holds for every config dataclass (tested), so the
resolved config written into a run folder, an exported model or TensorBoard's HParams
rebuilds exactly the config that produced it.
"""

from __future__ import annotations

import dataclasses
import json
import tomllib
import types
import typing
from pathlib import Path
from typing import Any

from movierec._input_files import check_input_file
from movierec._io import write_text_atomic
from movierec.errors import ConfigError

__all__ = ["to_dict", "from_dict", "read_toml", "save_json"]


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
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
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


def read_toml(path: str | Path) -> dict[str, Any]:
    """Reads a TOML file into a dict.

    Raises:
        ConfigError: if the file is missing, is not a regular text file, or is not valid TOML.
    """
    path = check_input_file(path, "config", ConfigError)
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as e:
        raise ConfigError(f"config file {path} is not UTF-8 text: {e.reason} at byte {e.start}") from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"config file {path} is not valid TOML: {e}") from e


def save_json(data: Any, path: str | Path) -> None:
    """Writes `data` (configs included) as indented JSON, atomically."""
    write_text_atomic(path, json.dumps(to_dict(data), indent=2, sort_keys=False) + "\n")

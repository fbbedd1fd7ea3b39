"""Which model directories a server loads, and the name each one is served under.

`movierec serve --model a --model b` serves several models at once, each under
`/models/{name}/...`. A name is given as `NAME=PATH` or taken from the folder's name; it
appears in URLs, so it holds only letters, digits, `.`, `_` and `-`. A text is read as
`NAME=PATH` when it has a `=` before any `/` (so `models/lr=0.1` is a path; write
`./lr=0.1` for such a folder in the current directory).

Worker processes (`--workers N`) receive the list through one environment variable, as
JSON (`specs_to_text` / `specs_from_text`); a plain directory there still means one model.

Example:
    >>> [spec.name for spec in model_specs(["models/best", "pop=models/popularity"])]
    ['best', 'pop']
    >>> model_specs(["a=x", "a=y"])
    Traceback (most recent call last):
    ...
    movierec.errors.ConfigError: model name 'a' is given twice (--model NAME=PATH names them apart)
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from movierec.errors import ConfigError

__all__ = ["ModelSpec", "ModelSource", "parse_model_spec", "model_specs", "specs_to_text", "specs_from_text"]

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")  # URL-safe, one path segment, at most 64 characters


@dataclass(frozen=True)
class ModelSpec:
    """One model to serve: the name used in URLs and its model directory."""

    name: str
    path: Path


ModelSource = str | Path | ModelSpec  # "NAME=PATH" or "PATH" text, a directory, or a spec


def parse_model_spec(source: ModelSource) -> ModelSpec:
    """A spec from `NAME=PATH`, a plain path (named after the folder) or a spec (checked).

    Raises:
        ConfigError: if the name is empty or not URL-safe.
    """
    if isinstance(source, ModelSpec):
        name, path = source.name, source.path
    elif isinstance(source, str) and "=" in source.split("/", 1)[0]:
        name, _, text = source.partition("=")
        path = Path(text)
    else:
        path = Path(source)
        name = Path(os.path.abspath(path)).name  # "." and "models/best/" have names too
        if not NAME.fullmatch(name):
            raise ConfigError(
                f"the folder name {name!r} of {str(path)!r} cannot name a model in URLs "
                "(letters, digits, '.', '_', '-'); name it with --model NAME=PATH"
            )
    if not NAME.fullmatch(name):
        raise ConfigError(
            f"model name {name!r} should be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    return ModelSpec(name, path)


def model_specs(sources: ModelSource | Iterable[ModelSource] | Mapping[str, str | Path]) -> list[ModelSpec]:
    """The specs of one source, a list of them, or a `{name: path}` mapping, in order; names must differ.

    Raises:
        ConfigError: on a bad or repeated name, or when no model is given.
    """
    if isinstance(sources, Mapping):
        specs = [parse_model_spec(ModelSpec(str(name), Path(path))) for name, path in sources.items()]
    elif isinstance(sources, (str, Path, ModelSpec)):
        specs = [parse_model_spec(sources)]
    else:
        specs = [parse_model_spec(source) for source in sources]
    if not specs:
        raise ConfigError("no model to serve: give at least one model directory")
    seen: set[str] = set()
    for spec in specs:
        if spec.name in seen:
            raise ConfigError(f"model name {spec.name!r} is given twice (--model NAME=PATH names them apart)")
        seen.add(spec.name)
    return specs


def specs_to_text(specs: Iterable[ModelSpec]) -> str:
    """The specs as one JSON line (absolute paths), for an environment variable."""
    return json.dumps([{"name": spec.name, "path": os.path.abspath(spec.path)} for spec in specs])


def specs_from_text(text: str) -> list[ModelSpec]:
    """Reads `specs_to_text`'s JSON, or a single `NAME=PATH` / directory.

    Raises:
        ConfigError: if the JSON is not a list of `{"name": ..., "path": ...}` objects.
    """
    if not text.lstrip().startswith("["):
        return model_specs(text)
    try:
        entries = json.loads(text)
        return model_specs([ModelSpec(str(entry["name"]), Path(entry["path"])) for entry in entries])
    except (ValueError, TypeError, KeyError) as e:
        raise ConfigError(f'expected a JSON list of {{"name": ..., "path": ...}} objects: {e}') from e

"""`movierec presets`: list the named model presets, or write one as the TOML table `train --config` reads."""

from __future__ import annotations

import argparse

from movierec._io import write_text_atomic
from movierec.cli._common import check_output_file, non_empty
from movierec.errors import ConfigError
from movierec.experiments import PRESETS, get_preset
from movierec.registry import config_from_dict, config_to_toml

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "presets",
        help="list the model presets, or print one as a TOML model table to edit and train with --config",
        description="Without NAME, lists every preset `train --preset` and `compare --models` know, with its kind "
        "and, for a blend or a choice, its members. With NAME, prints that preset as a TOML model table with "
        "every field spelled out (nested members too): `movierec train --config FILE` trains exactly the preset "
        "from it, so a copy with one field changed is a new model. `default` is what `train` uses without "
        "--preset.",
    )
    parser.add_argument("name", nargs="?", type=non_empty, metavar="NAME", help="the preset to print")
    parser.add_argument("--out", help="write the TOML to this file (replaced once complete) instead of stdout")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.name is None:
        if args.out is not None:
            raise ConfigError("--out needs a preset NAME")
        print(presets_table())
        return 0
    config = get_preset(args.name)
    text = f"# movierec preset {args.name!r}: `movierec train --config FILE` trains this model\n" + config_to_toml(
        config
    )
    if args.out is None:
        print(text, end="")
        return 0
    check_output_file(args.out)
    write_text_atomic(args.out, text)
    print(f"wrote preset {args.name!r} to {args.out}")
    return 0


def presets_table() -> str:
    """One line per preset: name, kind and, for a blend, choice or auto, what it is made of."""
    width = max(len(name) for name in PRESETS)
    lines = []
    for name, config in PRESETS.items():
        lines.append(f"{name:<{width}}  {config.kind:<10}  {_members(config)}".rstrip())
    return "\n".join(lines)


def _members(config) -> str:
    if config.kind == "blend":
        return f"{_label(config.first)} + {_label(config.second)}, weight chosen on the validation slice"
    if config.kind == "choice":
        ordered = _label(config.ordered)
        if config.ordered_small is not None:
            ordered += f" ({_label(config.ordered_small)} below {config.small_ratings:,} ratings)"
        return f"{_label(config.unordered)} or, where order predicts the next movie, {ordered}"
    if config.kind == "auto":
        return "best on the validation slice of " + ", ".join(_label(c) for c in config.candidates)
    return ""


def _label(table: dict) -> str:
    return config_from_dict(table).name

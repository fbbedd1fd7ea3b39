"""`movierec` entry point: builds the argparse tree from one module per subcommand.

Each subcommand module exposes `register(subparsers)`, which adds its parser and
sets `func=run`. Only the module of the command being run is imported (`movierec train`
never loads the web server or the charts); `movierec --help` imports them all. `main` maps `MovierecError` (and bad arguments) to one line on
stderr and exit code 2, and an operating-system error (full disk, permission denied) to
one line and exit code 1; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from movierec.cli._signals import stop_on_signals
from movierec.errors import MovierecError

__all__ = ["main", "build_parser"]

# modules of movierec.cli, in --help order
SUBCOMMANDS = (
    "data",
    "train",
    "presets",
    "compare",
    "evaluate",
    "recommend",
    "similar",
    "tune",
    "report",
    "runs",
    "tensorboard",
    "serve",
)


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr (no usage block), exit code 2."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The whole command tree, or only the subcommand `argv` names (when it names a known one)."""
    parser = OneLineParser(
        prog="movierec",
        description="Train, compare and serve movie recommenders built on TensorFlow Recommenders.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    command = next((arg for arg in argv or () if not arg.startswith("-")), None)
    for name in [command] if command in SUBCOMMANDS else SUBCOMMANDS:
        importlib.import_module(f"movierec.cli.{name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(message)s",
    )
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    # SIGTERM stops a command like Ctrl-C does: one line, exit 130, children stopped, nothing half-written;
    # within seconds, even while TensorFlow holds the main thread (`movierec.cli._signals`)
    with stop_on_signals(args.command) as stop:
        try:
            result = args.func(args)
        except MovierecError as e:
            print(f"movierec {args.command}: error: {e}", file=sys.stderr)
            return 2
        except OSError as e:  # the machine, not the code: a full disk, a read-only folder, a vanished file
            where = f": {e.filename}" if e.filename else ""
            print(f"movierec {args.command}: error: {e.strerror or e}{where}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            # Outputs are written to temporary paths and renamed, so an interrupted command leaves
            # no half-written file; a child process (tensorboard) is stopped by subprocess.run.
            stop.say_interrupted()
            return 130
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())

"""`movierec tensorboard`: start TensorBoard on an experiment's log folder (127.0.0.1 only)."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from movierec.cli._common import positive_int
from movierec.errors import ConfigError

__all__ = ["register", "run"]


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "tensorboard",
        help="start TensorBoard on the experiment logs",
        description="Runs TensorBoard on 127.0.0.1 over --logdir (default runs/): loss and top-k curves of "
        "every model overlaid, HParams table, embedding projector.",
    )
    parser.add_argument("--logdir", default="runs", help="log folder, e.g. runs/ml100k (default: runs)")
    parser.add_argument("--port", type=positive_int, default=6006, help="port (default 6006)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    logdir = Path(args.logdir)
    if not logdir.is_dir():
        raise ConfigError(f"log folder not found: {logdir} (run `movierec compare` first)")
    print(f"TensorBoard on http://127.0.0.1:{args.port}/  (Ctrl-C to stop)")
    command = [
        sys.executable,
        "-m",
        "tensorboard.main",
        "--logdir",
        str(logdir),
        "--host",
        "127.0.0.1",
        "--port",
        str(args.port),
    ]
    return subprocess.call(command)

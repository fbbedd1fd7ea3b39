"""`movierec serve`: the HTTP API and web page over a model directory, with uvicorn."""

from __future__ import annotations

import argparse

import uvicorn

from movierec.cli._common import positive_int
from movierec.serving.api import create_app

__all__ = ["register", "run"]


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="serve a trained model over HTTP, with a web page",
        description="Loads --model once and serves the recommendations API (docs at /docs) and a web page at /.",
    )
    parser.add_argument("--model", required=True, help="model directory written by `movierec train`")
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1, this machine only)"
    )
    parser.add_argument("--port", type=positive_int, default=8000, help="port (default 8000)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:

    app = create_app(args.model)  # a bad --model fails here, as a one-line error, before the port opens
    print(f"movierec on http://{args.host}:{args.port}/  (API docs at /docs; Ctrl-C to stop)")
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    return 0

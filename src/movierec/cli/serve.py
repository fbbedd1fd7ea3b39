"""`movierec serve`: the HTTP API and web page over a model directory, with uvicorn."""

from __future__ import annotations

import argparse
import os

import uvicorn

from movierec.cli._common import positive_int
from movierec.serving.api import MODEL_ENV, create_app
from movierec.serving.model_dir import verify_model_dir

__all__ = ["register", "run"]


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="serve a trained model over HTTP, with a web page",
        description="Loads --model once per worker and serves the recommendations API (docs at /docs) and a web "
        "page at /. uvicorn runs with uvloop and httptools when installed (`uvicorn[standard]`).",
    )
    parser.add_argument("--model", required=True, help="model directory written by `movierec train`")
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1, this machine only)"
    )
    parser.add_argument("--port", type=positive_int, default=8000, help="port (default 8000)")
    parser.add_argument(
        "--workers",
        type=positive_int,
        default=1,
        help="worker processes, each with its own copy of the model (default 1; about one per core)",
    )
    parser.add_argument("--access-log", action="store_true", help="log every request (off: it costs throughput)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    options = {"host": args.host, "port": args.port, "log_level": "info", "access_log": args.access_log}
    if args.workers == 1:
        app = create_app(args.model)  # a bad --model fails here, as a one-line error, before the port opens
        print(f"movierec on http://{args.host}:{args.port}/  (API docs at /docs; Ctrl-C to stop)")
        uvicorn.run(app, **options)
        return 0
    verify_model_dir(args.model)  # each worker loads the model itself; check it once here, before the port opens
    os.environ[MODEL_ENV] = os.path.abspath(args.model)
    print(f"movierec on http://{args.host}:{args.port}/  ({args.workers} workers; API docs at /docs; Ctrl-C to stop)")
    uvicorn.run("movierec.serving.api:app_from_environment", factory=True, workers=args.workers, **options)
    return 0

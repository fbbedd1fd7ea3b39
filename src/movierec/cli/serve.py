"""`movierec serve`: the HTTP API and web page over one or several model directories, with uvicorn."""

from __future__ import annotations

import argparse
import os

import uvicorn

from movierec.cli._common import port_number, positive_int
from movierec.serving.api import MODEL_ENV, create_app
from movierec.serving.model_dir import verify_model_dir
from movierec.serving.specs import model_specs, specs_to_text

__all__ = ["register", "run"]


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="serve trained models over HTTP, with a web page",
        description="Loads every --model once per worker and serves the recommendations API (docs at /docs) and "
        "a web page at /. Each model is served under /models/NAME/...; the first one also without the prefix. "
        "uvicorn runs with uvloop and httptools when installed (`uvicorn[standard]`).",
    )
    parser.add_argument(
        "--model",
        action="append",
        required=True,
        metavar="[NAME=]DIR",
        help="model directory written by `movierec train`; repeat to serve several. NAME (letters, digits, "
        "'.', '_', '-') is the name in URLs, by default the folder's name; names must differ",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1, this machine only)"
    )
    parser.add_argument("--port", type=port_number, default=8000, help="port (default 8000)")
    parser.add_argument(
        "--workers",
        type=positive_int,
        default=1,
        help="worker processes, each with its own copy of the models (default 1; about one per core)",
    )
    parser.add_argument("--access-log", action="store_true", help="log every request (off: it costs throughput)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    specs = model_specs(args.model)  # a bad or repeated name fails here, as a one-line error
    options = {"host": args.host, "port": args.port, "log_level": "info", "access_log": args.access_log}
    names = ", ".join(spec.name for spec in specs)
    if args.workers == 1:
        app = create_app(specs)  # a bad --model fails here, as a one-line error, before the port opens
        print(f"movierec on http://{args.host}:{args.port}/  (models: {names}; API docs at /docs; Ctrl-C to stop)")
        uvicorn.run(app, **options)
        return 0
    for spec in specs:  # each worker loads the models itself; check them once here, before the port opens
        verify_model_dir(spec.path)
    os.environ[MODEL_ENV] = specs_to_text(specs)
    print(f"movierec on http://{args.host}:{args.port}/  (models: {names}; {args.workers} workers; "
          "API docs at /docs; Ctrl-C to stop)")  # fmt: skip
    uvicorn.run("movierec.serving.api:app_from_environment", factory=True, workers=args.workers, **options)
    return 0

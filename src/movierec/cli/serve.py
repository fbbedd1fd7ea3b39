"""`movierec serve`: the HTTP API and web page over one or several model directories, with uvicorn."""

from __future__ import annotations

import argparse
import ipaddress
import os
import signal
import sys
import tempfile
from pathlib import Path

import uvicorn

from movierec.cli._common import add_trust_argument, port_number, positive_int
from movierec.cli._signals import graceful_stop
from movierec.errors import ModelDirError
from movierec.serving.api import FAILURE_ENV, MODEL_ENV, TRUST_ENV, create_app
from movierec.serving.connections import KEEP_ALIVE_SECONDS, MAX_INCOMPLETE_BYTES, protocol_path
from movierec.serving.model_dir import verify_model_dir
from movierec.serving.specs import model_specs, specs_to_text

__all__ = ["register", "run"]


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="serve trained models over HTTP, with a web page",
        description="Loads every --model once per worker and serves the recommendations API (docs at /docs) and "
        "a web page at /. Each model is served under /models/NAME/...; the first one also without the prefix. "
        "uvicorn runs with uvloop and httptools when installed (`uvicorn[standard]`). Ctrl-C or SIGTERM stops "
        "it: exit code 130.",
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
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1, this machine only; any other address warns: the API has "
        "no authentication)",
    )
    parser.add_argument("--port", type=port_number, default=8000, help="port, 1 to 65535 (default 8000)")
    parser.add_argument(
        "--workers",
        type=positive_int,
        default=1,
        help="worker processes, each with its own copy of the models (default 1; about one per core)",
    )
    add_trust_argument(parser)
    parser.add_argument("--access-log", action="store_true", help="log every request (off: it costs throughput)")
    parser.set_defaults(func=run)


def server_options(args: argparse.Namespace) -> dict:
    """uvicorn's options: the address, and connections that close when idle (`movierec.serving.connections`)."""
    return {
        "host": args.host, "port": args.port, "log_level": "info", "access_log": args.access_log,
        "http": protocol_path(), "timeout_keep_alive": KEEP_ALIVE_SECONDS,
        "h11_max_incomplete_event_size": MAX_INCOMPLETE_BYTES,
    }  # fmt: skip


def run(args: argparse.Namespace) -> int:
    specs = model_specs(args.model)  # a bad or repeated name fails here, as a one-line error
    options = server_options(args)
    names = ", ".join(spec.name for spec in specs)
    if not _local_only(args.host):
        print(f"movierec serve: warning: --host {args.host} lets other machines reach the API, which has no "
              "authentication; use 127.0.0.1 (the default) unless that is meant", file=sys.stderr)  # fmt: skip
    if args.workers == 1:
        app = create_app(
            specs, trust=args.trust
        )  # a bad --model fails here, as a one-line error, before the port opens
        print(f"movierec on http://{args.host}:{args.port}/  (models: {names}; API docs at /docs; Ctrl-C to stop)")
        with graceful_stop(), _StopSignals() as stopped:  # uvicorn finishes its requests, however long
            uvicorn.run(app, **options)
        if stopped.signals:
            raise KeyboardInterrupt  # as for every command: "interrupted", exit code 130
        return 0
    for spec in specs:  # each worker loads the models itself; check them once here, before the port opens
        verify_model_dir(spec.path, trust=args.trust)
    os.environ[MODEL_ENV] = specs_to_text(specs)
    os.environ[TRUST_ENV] = "1" if args.trust else "0"
    print(f"movierec on http://{args.host}:{args.port}/  (models: {names}; {args.workers} workers; "
          "API docs at /docs; Ctrl-C to stop)")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="movierec-serve-") as folder:
        failures = Path(folder) / "failures"
        os.environ[FAILURE_ENV] = str(failures)  # a worker that cannot load its models writes why, and stops
        try:
            with graceful_stop():  # uvicorn's supervisor stops its workers
                uvicorn.run("movierec.serving.api:app_from_environment", factory=True, workers=args.workers, **options)
        finally:
            del os.environ[FAILURE_ENV]
        first = failures.read_text().splitlines()[:1] if failures.exists() else []
    if first:
        raise ModelDirError(first[0])
    raise KeyboardInterrupt  # uvicorn's supervisor returns on SIGINT or SIGTERM only, once no worker failed


def _local_only(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _StopSignals:
    """Records SIGINT and SIGTERM that uvicorn re-raises after its graceful shutdown (it swallows the interrupt)."""

    def __enter__(self) -> _StopSignals:
        self.signals: list[int] = []
        self.previous = {sig: signal.signal(sig, self._record) for sig in (signal.SIGINT, signal.SIGTERM)}
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)

    def _record(self, signum: int, frame: object) -> None:
        self.signals.append(signum)

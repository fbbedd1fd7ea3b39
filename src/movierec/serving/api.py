"""The HTTP API and web page over one or several exported model directories.

`create_app(models)` loads each model once, precomputes its hot path (`ServingEngine`) and
returns a FastAPI app. Every model is served under `/models/{name}` (see `specs` for names);
the unprefixed routes serve the first one, as a single-model server always did:

* `GET /health` (and `HEAD`): the first model's name and vocabulary sizes;
* `GET /models`: every served model: name, kind, configs, data summary, training metrics;
* `GET [/models/{name}]/users/{user_id}/recommendations?k=10&include_seen=false`: top-k for a
  known user (an id holding `/` is reached as `%2F`);
* `POST [/models/{name}]/recommendations` `{"liked": [...], "k": 10}`: top-k for a brand-new user;
* `GET [/models/{name}]/movies/{movie_id}/similar?k=10`: the movies most like one movie;
* `GET [/models/{name}]/items?query=toy&limit=20`: case-insensitive title search (the page's autocomplete);
* `GET /`: the web page (`static/index.html`, shipped as package data), a column per model.

The model routes (recommendations, similar movies, search) are declared once, in
`movierec.serving.routes`; each becomes two FastAPI endpoints here (unprefixed and under
`/models/{name}`), and `HotPath` answers the busiest of them from the same declarations
before FastAPI sees them (`ServingApp`): such requests skip FastAPI's middleware and its
OpenTelemetry hooks (`hot_path=False` keeps every request in FastAPI). Whatever the hot path
does not take (errors above all) reaches the FastAPI endpoints, which also make `/openapi.json`.
Answers are built from lists and serialised with orjson, never through pandas or
response-model validation; they equal `Recommender.recommend` for the same user.
Errors: an unknown id or model name is a 404 whose `detail` names it (cut to 60
characters); a bad `k`, a `liked` list that is empty or longer than `MAX_LIKED`, or
malformed JSON is a 422; a body above 1 MB is a 413; a URL above 8 KB is a 414.

Example:
    >>> app = create_app(["models/best", "pop=models/popularity"])  # doctest: +SKIP
    >>> import uvicorn; uvicorn.run(app, host="127.0.0.1", port=8000)  # doctest: +SKIP
"""

# No `from __future__ import annotations`: FastAPI reads the route signatures at run time, and
# `ModelName` (its OpenAPI enum lists the served models) is local to `_build_app`.
import gc
import importlib.resources
import inspect
import logging
import os
import sys
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

import orjson
from fastapi import FastAPI, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, Response
from pydantic import BeforeValidator
from threadpoolctl import threadpool_limits
from uvicorn.config import STARTUP_FAILURE

from movierec.errors import ConfigError, MovierecError, UnknownIdError
from movierec.serving.docs_pages import add_docs_pages
from movierec.serving.engine import ServingEngine
from movierec.serving.hot_path import HotPath
from movierec.serving.json_body import StrictJsonRoute
from movierec.serving.limits import MAX_BODY_BYTES, MAX_URL_BYTES, RequestLimits
from movierec.serving.model_dir import load_model_dir, shown_id
from movierec.serving.routes import ROUTES, TOO_LONG, Param, Route, error
from movierec.serving.schemas import (
    MAX_K,
    MAX_LIKED,
    MAX_SEARCH,
    ErrorDetail,
    HealthResponse,
    ItemInfo,
    ModelInfo,
    NewUserRequest,
    RankedItem,
    Recommendations,
    SimilarMovies,
)
from movierec.serving.specs import ModelSource, model_specs, specs_from_text

__all__ = [
    "create_app", "app_from_environment", "ServingApp", "MODEL_ENV", "FAILURE_ENV", "MAX_K", "MAX_LIKED", "MAX_SEARCH",
    "HealthResponse", "RankedItem", "Recommendations", "SimilarMovies", "NewUserRequest", "ItemInfo",
    "ErrorDetail", "ModelInfo",
]  # fmt: skip

logger = logging.getLogger(__name__)

# The models of `app_from_environment` (uvicorn workers): a directory, NAME=PATH, or `specs_to_text`'s JSON list
MODEL_ENV = "MOVIEREC_SERVE_MODEL"
# A file where a worker that cannot load its models writes why, before it exits as a start-up failure
FAILURE_ENV = "MOVIEREC_SERVE_FAILURES"
TRUST_ENV = "MOVIEREC_SERVE_TRUST"  # "1": workers load model folders this installation did not sign (--trust)
# The page is self-contained: forbid every request that does not go back to this server.
PAGE_POLICY = "default-src 'self'; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'"

NO_MODEL = "unknown model name"


class ServingApp(FastAPI):
    """A FastAPI app whose HTTP requests go through `front` first: request limits, then the hot path.

    FastAPI's own `__call__` (an OpenTelemetry check that reads the environment on every request,
    then Starlette's middleware stack and router) costs tens of microseconds per request; the
    requests `HotPath` answers skip it.
    """

    front: Any = None  # ASGI app taking every HTTP request; it hands the rest to `fastapi_call`

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self.front is not None and scope["type"] == "http":
            await self.front(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)

    async def fastapi_call(self, scope: Any, receive: Any, send: Any) -> None:
        await super().__call__(scope, receive, send)


def create_app(
    models: ModelSource | Iterable[ModelSource] | Mapping[str, str | Path],
    *,
    max_body_bytes: int = MAX_BODY_BYTES,
    hot_path: bool = True,
    trust: bool = False,
) -> ServingApp:
    """Loads every model once and returns the FastAPI app serving them (the first one unprefixed too).

    Args:
        models: A model directory, `NAME=PATH`, a list of those, or `{name: directory}`.
        max_body_bytes: Larger request bodies get a 413.
        hot_path: Answer the busiest routes before FastAPI (`HotPath`); False serves everything
            through FastAPI (same answers, slower; for tests and measurements).
        trust: Load model folders this installation did not sign (`serve --trust`; see `load_model_dir`).

    Raises:
        ConfigError: on a bad or repeated model name.
        ModelDirError: if a directory is not a valid movierec model directory.
    """
    engines: dict[str, ServingEngine] = {}
    for spec in model_specs(models):
        engine = engines[spec.name] = ServingEngine(load_model_dir(spec.path, trust=trust))
        engine.warm_up()
        logger.info("serving %s (%s) from %s: %d users, %d movies", spec.name, engine.name, spec.path,
                    engine.n_users, engine.n_items)  # fmt: skip
    return _build_app(engines, max_body_bytes, hot_path)


def app_from_environment() -> ServingApp:
    """The app for the models named by `$MOVIEREC_SERVE_MODEL` (uvicorn's factory for `--workers N`).

    A worker whose models do not load logs one line, appends it to `$MOVIEREC_SERVE_FAILURES` (when set) and
    exits with uvicorn's start-up failure code, so the supervisor stops instead of restarting it forever.
    """
    text = os.environ.get(MODEL_ENV)
    if not text:
        raise ConfigError(f"${MODEL_ENV} must name a model directory (or hold a JSON list of them)")
    try:
        return create_app(specs_from_text(text), trust=os.environ.get(TRUST_ENV) == "1")
    except Exception as e:  # any failure repeats in every restarted worker
        line = str(e) if isinstance(e, MovierecError) else f"{type(e).__name__}: {str(e).strip()[:200]}"
        line = line.splitlines()[0] if line.strip() else type(e).__name__
        logger.error("this worker cannot load its models: %s", line)
        failures = os.environ.get(FAILURE_ENV)
        if failures:
            with open(failures, "a", encoding="utf-8") as handle:
                handle.write(line + "\n")
        sys.exit(STARTUP_FAILURE)


def _json(body: Any, status_code: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status_code, media_type="application/json")


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Server start-up and shutdown: two process-wide settings that keep the latency tail short.

    * A full garbage collection walks every object alive: with TensorFlow and a model loaded (about
      370k objects) it stalls all requests for about 300 ms. Start-up objects live as long as the
      server, so they are taken out of the collector's reach (`gc.freeze`).
    * One BLAS thread: a request scores one row, too little to share out, and a BLAS call that
      waits for a helper thread on a busy core took 8 ms instead of 0.2 ms (62k movies, 2 shared
      cores). More cores are used through `--workers`.
    """
    gc.collect()
    gc.freeze()
    blas = threadpool_limits(1, "blas")
    try:
        yield
    finally:
        blas.restore_original_limits()
        gc.unfreeze()


def _describe(engines: dict[str, ServingEngine]) -> str:
    return ", ".join(f"{name!r} ({engine.name})" for name, engine in engines.items())


def _build_app(engines: dict[str, ServingEngine], max_body_bytes: int, hot_path: bool) -> ServingApp:
    page = importlib.resources.files("movierec.serving").joinpath("static", "index.html").read_text("utf-8")
    default_name = next(iter(engines))
    default = engines[default_name]
    health = orjson.dumps({"status": "ok", "model": default.name, "users": default.n_users, "items": default.n_items})
    listing = orjson.dumps(
        [{"name": name, **engine.model.describe(), "default": name == default_name} for name, engine in engines.items()]
    )
    app = ServingApp(
        title="movierec",
        description=f"Movie recommendations from {_describe(engines)}; the unprefixed routes serve "
        f"{default_name!r}. Request bodies are limited to {max_body_bytes:,} bytes (413 above), URLs to "
        f"{MAX_URL_BYTES:,} bytes (414).",
        lifespan=_lifespan,
        docs_url=None,  # add_docs_pages: the same pages, with their assets served from here, not a CDN
        redoc_url=None,
    )
    add_docs_pages(app, "movierec")
    app.state.engine = default
    app.state.engines = engines
    inner = HotPath(app.fastapi_call, engines, default_name) if hot_path else app.fastapi_call
    app.front = RequestLimits(inner, max_body_bytes=max_body_bytes)  # first: before any body is read

    ModelName = Annotated[
        str, PathParam(description="a served model's name (GET /models)", json_schema_extra={"enum": list(engines)})
    ]

    def engine_named(name: str | None) -> ServingEngine:
        """The engine served as `name`, or the default one for None (the unprefixed routes)."""
        if name is None:
            return default
        engine = engines.get(name)
        if engine is None:
            raise UnknownIdError(f"{NO_MODEL} {shown_id(name)}; serving {', '.join(map(repr, engines))}")
        return engine

    @app.exception_handler(UnknownIdError)
    async def _unknown_id(request: Request, error: UnknownIdError) -> Response:
        return _json({"detail": str(error)}, 404)

    @app.exception_handler(MovierecError)
    async def _bad_request(request: Request, error: MovierecError) -> Response:
        return _json({"detail": str(error)}, 400)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def index() -> HTMLResponse:
        return HTMLResponse(page, headers={"Content-Security-Policy": PAGE_POLICY})

    @app.get("/health", response_model=HealthResponse, responses=TOO_LONG)
    async def get_health() -> Response:
        return Response(health, media_type="application/json")

    @app.head("/health", include_in_schema=False)
    async def head_health() -> Response:
        return Response(headers={"content-type": "application/json", "content-length": str(len(health))})

    @app.get("/models", response_model=list[ModelInfo], responses=TOO_LONG)
    async def list_models() -> Response:
        return Response(listing, media_type="application/json")

    app.router.route_class = StrictJsonRoute  # bodies: NaN and Infinity are not JSON (422), as on the hot path
    for route in ROUTES:  # each model route unprefixed (the default model), then under /models/{name}
        for prefix, model_name in (("", None), ("/models/{name}", ModelName)):
            errors = route.errors if prefix == "" or 404 in route.errors else {404: error(NO_MODEL), **route.errors}
            endpoint = _endpoint(route, engine_named, model_name)
            app.add_api_route(
                prefix + _fastapi_path(route), endpoint, methods=[route.method], name=endpoint.__name__,
                response_model=route.response, responses=errors,
            )  # fmt: skip
    return app


def _fastapi_path(route: Route) -> str:
    """The route's path with its id declared as a path (ids may hold '/', sent as %2F)."""
    if route.path_id is None:
        return route.path
    return route.path.replace("{" + route.path_id.name + "}", "{" + route.path_id.name + ":path}")


def _query_annotation(param: Param) -> Any:
    """The FastAPI query parameter declared by `param`: its type, bounds and description."""
    if param.type is int:  # digits only, as on the hot path: "5.0" or "+5" is a 422, not a 5
        return Annotated[
            int, Query(ge=param.low, le=param.high, description=param.description), BeforeValidator(_digits)
        ]
    if param.type is str:
        return Annotated[str, Query(max_length=param.high, description=param.description)]
    return Annotated[param.type, Query(description=param.description)]


def _digits(value: Any) -> Any:
    if isinstance(value, str) and not (value.isascii() and value.isdigit()):
        raise ValueError("should be an integer written in digits")
    return value


def _endpoint(route: Route, engine_named: Callable[[str | None], ServingEngine], model_name: Any) -> Callable[..., Any]:
    """A FastAPI endpoint for `route`: its signature declares the route's parameters (`model_name` adds
    `/models/{name}`), and its body answers with `route.answer` on the named (or default) engine."""
    keyword = inspect.Parameter.KEYWORD_ONLY
    parameters = [] if model_name is None else [inspect.Parameter("name", keyword, annotation=model_name)]
    if route.path_id is not None:
        description = route.path_id.description
        parameters.append(
            inspect.Parameter(
                route.path_id.name, keyword, annotation=Annotated[str, PathParam(description=description)]
            )
        )
    if route.body is not None:
        parameters.append(inspect.Parameter("request", keyword, annotation=route.body))
    for param in route.query:
        parameters.append(
            inspect.Parameter(param.name, keyword, annotation=_query_annotation(param), default=param.default)
        )
    fields = tuple(route.body.model_fields) if route.body is not None else ()

    async def endpoint(**values: Any) -> Response:
        engine = engine_named(values.pop("name", None))
        if fields:
            request = values.pop("request")
            values.update({name: getattr(request, name) for name in fields})
        return _json(route.answer(engine, **values))

    endpoint.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    endpoint.__name__ = route.name if model_name is None else f"model_{route.name}"
    return endpoint

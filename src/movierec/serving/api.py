"""The HTTP API and web page over an exported model directory.

`create_app(model_dir)` loads the model once, precomputes the hot path (`ServingEngine`) and
returns a FastAPI app:

* `GET /health` (and `HEAD`): model name and vocabulary sizes;
* `GET /users/{user_id}/recommendations?k=10&include_seen=false`: top-k for a known user
  (an id holding `/` is reached as `%2F`);
* `POST /recommendations` `{"liked": [...], "k": 10}`: top-k for a brand-new user;
* `GET /movies/{movie_id}/similar?k=10`: the movies most like one movie;
* `GET /items?query=toy&limit=20`: case-insensitive title search (the page's autocomplete);
* `GET /`: the web page (`static/index.html`, shipped as package data).

Answers are built from lists and serialised with orjson, never through pandas or
response-model validation; they equal `Recommender.recommend` for the same user. Endpoints
are `async`: the per-request work is tens of microseconds of numpy, cheaper than a
thread hand-off. Errors: an unknown id is a 404 whose `detail` names it (cut to 60
characters); a bad `k`, a `liked` list that is empty or longer than `MAX_LIKED`, or
malformed JSON is a 422; a body above 1 MB is a 413; a URL above 8 KB is a 414.

Example:
    >>> app = create_app("models/model1")  # doctest: +SKIP
    >>> import uvicorn; uvicorn.run(app, host="127.0.0.1", port=8000)  # doctest: +SKIP
"""

from __future__ import annotations

import importlib.resources
import logging
import os
from pathlib import Path
from typing import Annotated, Any

import orjson
from fastapi import FastAPI, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field

from movierec.errors import ConfigError, MovierecError, UnknownIdError
from movierec.serving.engine import ServingEngine
from movierec.serving.limits import MAX_BODY_BYTES, MAX_URL_BYTES, RequestLimits
from movierec.serving.model_dir import load_model_dir

__all__ = [
    "create_app", "app_from_environment", "MODEL_ENV", "MAX_K", "MAX_LIKED", "MAX_SEARCH", "HealthResponse",
    "RankedItem", "Recommendations", "SimilarMovies", "NewUserRequest", "ItemInfo", "ErrorDetail",
]  # fmt: skip

logger = logging.getLogger(__name__)

MODEL_ENV = "MOVIEREC_SERVE_MODEL"  # the model directory of `app_from_environment` (uvicorn workers)
MAX_K = 1000  # the largest top-k a request may ask for
MAX_SEARCH = 100  # the most titles one `/items` search returns
MAX_LIKED = 1000  # the most movies one new user may name
MAX_QUERY = 200  # the longest title search
# The page is self-contained: forbid every request that does not go back to this server.
PAGE_POLICY = "default-src 'self'; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'"

TopK = Annotated[int, Field(ge=1, le=MAX_K, description=f"number of movies, 1..{MAX_K}")]
KQuery = Annotated[int, Query(ge=1, le=MAX_K, description=f"number of movies, 1..{MAX_K}")]


class ErrorDetail(BaseModel):
    detail: str = Field(description="what was wrong, in one line")


class HealthResponse(BaseModel):
    status: str = Field(description='always "ok" when the model is loaded')
    model: str = Field(description="model name from model.json (preset or baseline)")
    users: int = Field(description="users known to the model")
    items: int = Field(description="movies the model can recommend")


class RankedItem(BaseModel):
    rank: int = Field(description="1 for the best movie")
    item_id: str
    title: str
    score: float = Field(description="model score; higher is better, comparable within one response only")


class Recommendations(BaseModel):
    user_id: str | None = Field(description="the known user, or null for a new user")
    items: list[RankedItem]


class SimilarMovies(BaseModel):
    item_id: str = Field(description="the movie asked about")
    title: str
    items: list[RankedItem] = Field(description="the most similar other movies, best first")


class NewUserRequest(BaseModel):
    liked: list[str] = Field(
        min_length=1, max_length=MAX_LIKED, description=f"ids of movies the new user liked (1..{MAX_LIKED}; excluded)"
    )
    k: TopK = 10


class ItemInfo(BaseModel):
    item_id: str
    title: str
    genres: str = Field(description="'|'-separated genres")


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorDetail, "description": description}


Responses = dict[int | str, dict[str, Any]]
TOO_LONG: Responses = {414: _error(f"URL longer than {MAX_URL_BYTES:,} bytes")}
BAD_REQUEST: Responses = {400: _error("a request the model cannot answer"), **TOO_LONG}


def create_app(model_dir: str | Path, *, max_body_bytes: int = MAX_BODY_BYTES) -> FastAPI:
    """Loads `model_dir` once and returns the FastAPI app serving it.

    Raises:
        ModelDirError: if `model_dir` is not a valid movierec model directory.
    """
    engine = ServingEngine(load_model_dir(model_dir))
    logger.info("serving %s from %s: %d users, %d movies", engine.name, model_dir, engine.n_users, engine.n_items)
    return _build_app(engine, max_body_bytes)


def app_from_environment() -> FastAPI:
    """The app for the model directory named by `$MOVIEREC_SERVE_MODEL` (uvicorn's factory for `--workers N`)."""
    model_dir = os.environ.get(MODEL_ENV)
    if not model_dir:
        raise ConfigError(f"${MODEL_ENV} must name a model directory")
    return create_app(model_dir)


def _json(body: Any, status_code: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status_code, media_type="application/json")


def _build_app(engine: ServingEngine, max_body_bytes: int) -> FastAPI:
    page = importlib.resources.files("movierec.serving").joinpath("static", "index.html").read_text("utf-8")
    health = orjson.dumps({"status": "ok", "model": engine.name, "users": engine.n_users, "items": engine.n_items})
    app = FastAPI(
        title="movierec",
        description=f"Movie recommendations from the {engine.name!r} model. Request bodies are limited to "
        f"{max_body_bytes:,} bytes (413 above), URLs to {MAX_URL_BYTES:,} bytes (414).",
    )
    app.state.engine = engine
    app.add_middleware(RequestLimits, max_body_bytes=max_body_bytes)

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

    @app.get(
        "/users/{user_id:path}/recommendations",
        response_model=Recommendations,
        responses={404: _error("unknown user id"), **BAD_REQUEST},
    )
    async def recommend_user(
        user_id: Annotated[str, PathParam(description="a user id known to the model; '/' as %2F")],
        k: KQuery = 10,
        include_seen: bool = False,
    ) -> Response:
        return _json({"user_id": user_id, "items": engine.recommend_user(user_id, k, include_seen)})

    @app.post(
        "/recommendations",
        response_model=Recommendations,
        responses={404: _error("unknown movie id in `liked`"), 413: _error("request body too large"), **BAD_REQUEST},
    )
    async def recommend_new_user(request: NewUserRequest) -> Response:
        return _json({"user_id": None, "items": engine.recommend_liked(request.liked, request.k)})

    @app.get(
        "/movies/{movie_id:path}/similar",
        response_model=SimilarMovies,
        responses={404: _error("unknown movie id"), **BAD_REQUEST},
    )
    async def similar_movies(
        movie_id: Annotated[str, PathParam(description="a movie id known to the model; '/' as %2F")], k: KQuery = 10
    ) -> Response:
        items = engine.similar(movie_id, k)
        title = engine.titles[engine.item_index([movie_id])[0]]
        return _json({"item_id": movie_id, "title": title, "items": items})

    @app.get("/items", response_model=list[ItemInfo], responses=TOO_LONG)
    async def search_items(
        query: Annotated[str, Query(max_length=MAX_QUERY, description="part of a title, any case")] = "",
        limit: Annotated[int, Query(ge=1, le=MAX_SEARCH)] = 20,
    ) -> Response:
        return _json(engine.search(query, limit))

    return app

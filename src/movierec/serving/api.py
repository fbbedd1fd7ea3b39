"""The HTTP API and web page over an exported model directory.

`create_app(model_dir)` loads the model once and returns a FastAPI app:

* `GET /health`: model name and vocabulary sizes;
* `GET /users/{user_id}/recommendations?k=10&include_seen=false`: top-k for a known user;
* `POST /recommendations` `{"liked": [...], "k": 10}`: top-k for a brand-new user;
* `GET /items?query=toy&limit=20`: case-insensitive title search (the page's autocomplete);
* `GET /`: the web page (`static/index.html`, shipped as package data).

Endpoints are plain `def`: model calls block, so FastAPI runs them in its threadpool.
An unknown user or movie id is a 404 whose `detail` names the id; a bad `k` or an
empty `liked` list is a 422 from FastAPI's validation.

Example:
    >>> app = create_app("models/model1")  # doctest: +SKIP
    >>> import uvicorn; uvicorn.run(app, host="127.0.0.1", port=8000)  # doctest: +SKIP
"""

from __future__ import annotations

import importlib.resources
import logging
from pathlib import Path
from typing import Annotated

import pandas as pd
from fastapi import FastAPI, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field

from movierec.errors import MovierecError, UnknownIdError
from movierec.serving.model_dir import load_model_dir

__all__ = ["create_app", "MAX_K", "HealthResponse", "RankedItem", "Recommendations", "NewUserRequest", "ItemInfo"]

logger = logging.getLogger(__name__)

MAX_K = 1000  # the largest top-k a request may ask for
MAX_SEARCH = 100  # the most titles one `/items` search returns
# The page is self-contained: forbid every request that does not go back to this server.
PAGE_POLICY = "default-src 'self'; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'"

TopK = Annotated[int, Field(ge=1, le=MAX_K, description=f"number of movies, 1..{MAX_K}")]


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


class NewUserRequest(BaseModel):
    liked: list[str] = Field(min_length=1, description="ids of movies the new user liked (excluded from output)")
    k: TopK = 10


class ItemInfo(BaseModel):
    item_id: str
    title: str
    genres: str = Field(description="'|'-separated genres")


def create_app(model_dir: str | Path) -> FastAPI:
    """Loads `model_dir` once and returns the FastAPI app serving it.

    Raises:
        ModelDirError: if `model_dir` is not a movierec model directory.
    """
    model = load_model_dir(model_dir)
    page = importlib.resources.files("movierec.serving").joinpath("static", "index.html").read_text("utf-8")
    titles = model.items["title"].str.lower()
    name = str(model.meta.get("model", {}).get("name", "unknown"))
    logger.info("serving %s from %s: %d users, %d movies", name, model_dir, model.vocab.n_users, model.vocab.n_items)

    app = FastAPI(title="movierec", description=f"Movie recommendations from the {name!r} model.")
    app.state.model = model

    @app.exception_handler(UnknownIdError)
    def _unknown_id(request: Request, error: UnknownIdError) -> JSONResponse:
        return JSONResponse(status_code=404, content={"detail": str(error)})

    @app.exception_handler(MovierecError)
    def _bad_request(request: Request, error: MovierecError) -> JSONResponse:
        return JSONResponse(status_code=400, content={"detail": str(error)})

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index() -> HTMLResponse:
        return HTMLResponse(page, headers={"Content-Security-Policy": PAGE_POLICY})

    @app.get("/health")
    def health() -> HealthResponse:
        return HealthResponse(status="ok", model=name, users=model.vocab.n_users, items=model.vocab.n_items)

    @app.get("/users/{user_id}/recommendations")
    def recommend_user(
        user_id: str, k: Annotated[int, Query(ge=1, le=MAX_K)] = 10, include_seen: bool = False
    ) -> Recommendations:
        table = model.recommend_users([user_id], k, include_seen=include_seen)
        return Recommendations(user_id=user_id, items=_ranked(table))

    @app.post("/recommendations")
    def recommend_new_user(request: NewUserRequest) -> Recommendations:
        table = model.recommend_new_user(request.liked, request.k)
        return Recommendations(user_id=None, items=_ranked(table))

    @app.get("/items")
    def search_items(query: str = "", limit: Annotated[int, Query(ge=1, le=MAX_SEARCH)] = 20) -> list[ItemInfo]:
        hits = model.items[titles.str.contains(query.strip().lower(), regex=False)].head(limit)
        return [ItemInfo(item_id=r.item_id, title=r.title, genres=r.genres) for r in hits.itertuples(index=False)]

    return app


def _ranked(table: pd.DataFrame) -> list[RankedItem]:
    return [
        RankedItem(rank=int(r.rank), item_id=str(r.item_id), title=str(r.title), score=float(r.score))
        for r in table.itertuples(index=False)
    ]

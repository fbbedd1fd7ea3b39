"""Each model route of the HTTP API, declared once: its path, parameters, body, answer and documented errors.

`api.py` turns every `Route` into two FastAPI endpoints, unprefixed (the default model) and under
`/models/{name}`, which validate whatever reaches them and make `/openapi.json`. `hot_path.py`
answers the `hot` routes ahead of FastAPI from the same declarations: the path template says
where the id sits, each `Param` reads its query value (`Param.fast`: the plain spellings only;
None leaves the request to FastAPI, which answers the rest with the documented 422), and
`Route.answer` builds the same JSON body for both. An id is looked up (and an unknown one
refused) by the `ServingEngine` alone.

Example:
    >>> ROUTES[0].method, ROUTES[0].path, [param.name for param in ROUTES[0].query]
    ('GET', '/users/{user_id}/recommendations', ['k', 'include_seen', 'explain'])
    >>> K.fast(b"5"), K.fast(b"0"), K.fast(b"5.0")
    (5, None, None)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel

from movierec.ranking import DEFAULT_K
from movierec.serving.engine import ServingEngine
from movierec.serving.limits import MAX_URL_BYTES
from movierec.serving.schemas import (
    MAX_K,
    MAX_LIKED,
    MAX_QUERY,
    MAX_SEARCH,
    ErrorDetail,
    ItemInfo,
    NewUserRequest,
    Recommendations,
    SimilarMovies,
)

__all__ = [
    "Param",
    "PathId",
    "Route",
    "ROUTES",
    "K",
    "INCLUDE_SEEN",
    "EXPLAIN",
    "TOO_LONG",
    "Responses",
    "error",
    "new_user_body",
]

Responses = dict[int | str, dict[str, Any]]
BOOLEANS = {b"true": True, b"false": False, b"1": True, b"0": False}  # other spellings go to FastAPI
MAX_DIGITS = 6  # a longer `k` goes to FastAPI, which refuses it (and never parses a huge integer here)


def error(description: str) -> dict[str, Any]:
    """One documented error response (its body is `ErrorDetail`)."""
    return {"model": ErrorDetail, "description": description}


@dataclass(frozen=True)
class Param:
    """A query parameter: FastAPI validates it from these fields; the hot path reads plain spellings with `fast`."""

    name: str
    type: type  # int, bool or str
    default: Any
    description: str | None = None  # shown in /openapi.json
    low: int | None = None  # int: the smallest value allowed
    high: int | None = None  # int: the largest value allowed; str: the longest text

    def fast(self, raw: bytes) -> Any:
        """The value of a plainly spelled query value, or None to leave the request to FastAPI.

        Only plain digits within bounds (ints) and `true`/`false`/`1`/`0` (bools) are read here; any
        other spelling (and every text, which may be percent-encoded) is FastAPI's to read or refuse.
        """
        if self.type is int:
            if not raw.isdigit() or len(raw) > MAX_DIGITS:
                return None
            value = int(raw)
            return value if self.within(value) else None
        if self.type is bool:
            return BOOLEANS.get(raw)
        return None

    def within(self, value: int) -> bool:
        """Whether an int value lies within `low`..`high`."""
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)


@dataclass(frozen=True)
class PathId:
    """The id in a route's path (`{user_id}`, `{movie_id}`): any text, '/' included (sent as %2F)."""

    name: str
    description: str


@dataclass(frozen=True)
class Route:
    """One route served for every model: `path` unprefixed (the default model) and under `/models/{name}`."""

    name: str  # the endpoint's name (OpenAPI operationId and summary); `model_<name>` under /models/{name}
    method: Literal["GET", "POST"]
    path: str  # e.g. "/users/{user_id}/recommendations": at most one `{id}`, which is `path_id`
    answer: Callable[..., Any]  # (engine, **parameters) -> the JSON body as lists and dicts
    response: Any  # the response model documented in /openapi.json
    errors: Responses  # documented error statuses beyond 422
    path_id: PathId | None = None
    query: tuple[Param, ...] = ()
    body: type[BaseModel] | None = None  # a JSON body, validated by FastAPI and passed on field by field
    fast_body: Callable[[Any], dict[str, Any] | None] | None = None  # the hot path's reading of a parsed body
    hot: bool = False  # answered by the hot path when the request is plain
    defaults: dict[str, Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "defaults", {param.name: param.default for param in self.query})

    @property
    def head(self) -> str:
        """The path before the id (the whole path when there is none)."""
        return self.path.partition("{")[0]

    @property
    def tail(self) -> str:
        """The path after the id ("" when there is none)."""
        return self.path.partition("}")[2] if self.path_id else ""

    def read_query(self, query: bytes) -> dict[str, Any] | None:
        """Each query parameter's value from a raw query string (defaults for absent ones; the last of a
        repeated one wins, as in FastAPI), or None if any needs FastAPI to read it."""
        values = dict(self.defaults)
        if not query:
            return values
        params = {param.name.encode(): param for param in self.query}
        for pair in query.split(b"&"):
            key, _, raw = pair.partition(b"=")
            param = params.get(key)
            if param is not None:
                value = param.fast(raw)
                if value is None:
                    return None
                values[param.name] = value
            elif b"%" in key or b"+" in key:  # might decode to a parameter's name
                return None
        return values


K = Param("k", int, DEFAULT_K, f"number of movies, 1..{MAX_K}, in digits (not 5.0 or +5)", low=1, high=MAX_K)
INCLUDE_SEEN = Param("include_seen", bool, False)
EXPLAIN = Param(
    "explain", bool, False, "add `because` (the user's movies that raise each movie's score most) to each movie"
)
USER_ID = PathId("user_id", "a user id known to the model; '/' as %2F")
MOVIE_ID = PathId("movie_id", "a movie id known to the model; '/' as %2F")
TOO_LONG: Responses = {414: error(f"URL longer than {MAX_URL_BYTES:,} bytes")}
BAD_REQUEST: Responses = {400: error("a request the model cannot answer"), **TOO_LONG}


def new_user_body(body: Any) -> dict[str, Any] | None:
    """`NewUserRequest`'s fields from a parsed JSON body, or None unless it is plainly valid (FastAPI reads the rest):
    a non-empty list of at most `MAX_LIKED` string ids and, if given, an int `k` within `K`'s bounds and a
    bool `explain`."""
    if type(body) is not dict:
        return None
    liked, k, explain = body.get("liked"), body.get("k", K.default), body.get("explain", False)
    if type(liked) is not list or not 1 <= len(liked) <= MAX_LIKED or type(k) is not int or not K.within(k):
        return None
    if type(explain) is not bool or not all(type(item) is str for item in liked):
        return None
    return {"liked": liked, "k": k, "explain": explain}


def _recommend_user(
    engine: ServingEngine, user_id: str, k: int, include_seen: bool, explain: bool = False
) -> dict[str, Any]:
    items = engine.recommend_user(user_id, k, include_seen)
    if not explain:
        return {"user_id": user_id, "items": items}
    return {"user_id": user_id, "items": items, **engine.explain_user(user_id, items)}


def _recommend_new_user(engine: ServingEngine, liked: list[str], k: int, explain: bool = False) -> dict[str, Any]:
    items = engine.recommend_liked(liked, k)
    if not explain:
        return {"user_id": None, "items": items}
    return {"user_id": None, "items": items, **engine.explain_liked(liked, items)}


def _similar_movies(engine: ServingEngine, movie_id: str, k: int) -> dict[str, Any]:
    items = engine.similar(movie_id, k)
    return {"item_id": movie_id, "title": engine.titles[int(engine.item_index([movie_id])[0])], "items": items}


def _search_items(engine: ServingEngine, query: str, limit: int) -> list[dict[str, str]]:
    return engine.search(query, limit)


ROUTES: tuple[Route, ...] = (
    Route(
        "recommend_user", "GET", "/users/{user_id}/recommendations", _recommend_user, Recommendations,
        {404: error("unknown user id or model name"), **BAD_REQUEST}, USER_ID, (K, INCLUDE_SEEN, EXPLAIN), hot=True,
    ),
    Route(
        "recommend_new_user", "POST", "/recommendations", _recommend_new_user, Recommendations,
        {404: error("unknown movie id in `liked`, or model name"), 413: error("request body too large"), **BAD_REQUEST},
        body=NewUserRequest, fast_body=new_user_body, hot=True,
    ),
    Route(
        "similar_movies", "GET", "/movies/{movie_id}/similar", _similar_movies, SimilarMovies,
        {404: error("unknown movie id or model name"), **BAD_REQUEST}, MOVIE_ID, (K,), hot=True,
    ),
    Route(
        "search_items", "GET", "/items", _search_items, list[ItemInfo], TOO_LONG,
        query=(
            Param("query", str, "", "part of a title, any case", high=MAX_QUERY),
            Param("limit", int, 20, None, low=1, high=MAX_SEARCH),
        ),
    ),
)  # fmt: skip

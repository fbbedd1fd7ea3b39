"""The hot routes answered as plain ASGI, ahead of FastAPI's routing, dependency injection and validation.

`HotPath` answers the requests that carry the traffic: a known user's top-k, a new user's
top-k from a JSON body and similar movies, each with or without a `/models/{name}` prefix. It parses the little each one needs by hand and answers only what
it fully understands: a plain `k` of 1..`MAX_K` digits, `include_seen` spelled
`true`/`false`/`1`/`0`, a body that is a JSON object with a non-empty list of string
`liked` ids. Anything else (another spelling, a bad value, an unknown id or model,
percent-encoded query keys) goes on to the FastAPI routes, which answer with the
documented errors (422 from their validation, 404 naming the id). The answers therefore
equal the FastAPI routes' for every request (a test compares the two apps), and the
routes stay declared there for `/openapi.json`.

Per request this saves about as much time as the model work itself on MovieLens 100k
(FastAPI's parameter resolution and pydantic validation are tens of microseconds per request).
`/health` stays a FastAPI route: it carries no traffic worth the shortcut, and it remains
the benchmark's yardstick of FastAPI's cheapest answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from movierec.errors import MovierecError
from movierec.serving.engine import ServingEngine
from movierec.serving.schemas import MAX_K, MAX_LIKED

__all__ = ["HotPath"]

JSON_HEADERS = [(b"content-type", b"application/json")]
BOOLEANS = {b"true": True, b"false": False, b"1": True, b"0": False}  # other spellings go to FastAPI
USERS, RECOMMENDATIONS = "/users/", "/recommendations"
MOVIES, SIMILAR = "/movies/", "/similar"
MODELS = "/models/"


class HotPath:
    """ASGI middleware answering the hot routes of `engines`; `default` serves the unprefixed ones.

    Args:
        app: The FastAPI app, which gets every request this does not answer.
        engines: Served models by name (the `/models/{name}` prefix).
        default: The name of the model behind the unprefixed routes.
    """

    def __init__(self, app: Any, engines: Mapping[str, ServingEngine], default: str) -> None:
        self.app = app
        self.engines = dict(engines)
        self.default = self.engines[default]

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            method = scope["method"]
            if method == "GET":
                body = self.answer_get(scope["path"], scope["query_string"])
                if body is not None:
                    await _send_json(send, body)
                    return
            elif method == "POST" and scope["path"].endswith(RECOMMENDATIONS) and _is_json(scope["headers"]):
                engine = self._new_user_engine(scope["path"])
                if engine is not None:
                    request, more = await _read_body(receive)
                    body = None if more else self.answer_new_user(engine, request)
                    if body is not None:
                        await _send_json(send, body)
                        return
                    receive = _replay(request, more, receive)
        await self.app(scope, receive, send)

    def answer_get(self, path: str, query: bytes) -> bytes | None:
        """The JSON body answering `GET path?query`, or None to leave the request to FastAPI."""
        engine = self.default
        if path.startswith(MODELS):
            name, slash, rest = path[len(MODELS) :].partition("/")
            named = self.engines.get(name)
            if named is None or not slash:
                return None
            engine, path = named, "/" + rest
        if path.startswith(USERS) and path.endswith(RECOMMENDATIONS) and len(path) >= len(USERS + RECOMMENDATIONS):
            options = _options(query)
            if options is None:
                return None
            user_id = path[len(USERS) : -len(RECOMMENDATIONS)]
            try:
                items = engine.recommend_user(user_id, *options)
            except MovierecError:
                return None
            return orjson.dumps({"user_id": user_id, "items": items})
        if path.startswith(MOVIES) and path.endswith(SIMILAR) and len(path) >= len(MOVIES + SIMILAR):
            options = _options(query, seen=False)
            if options is None:
                return None
            movie_id = path[len(MOVIES) : -len(SIMILAR)]
            try:
                items = engine.similar(movie_id, options[0])
            except MovierecError:
                return None
            title = engine.titles[int(engine.item_index([movie_id])[0])]
            return orjson.dumps({"item_id": movie_id, "title": title, "items": items})
        return None

    def answer_new_user(self, engine: ServingEngine, request: bytes) -> bytes | None:
        """The JSON body answering a new user's `POST .../recommendations`, or None to leave it to FastAPI."""
        try:
            body = orjson.loads(request)
        except orjson.JSONDecodeError:
            return None
        if type(body) is not dict:
            return None
        liked, k = body.get("liked"), body.get("k", 10)
        if type(liked) is not list or not 1 <= len(liked) <= MAX_LIKED or type(k) is not int or not 1 <= k <= MAX_K:
            return None
        if not all(type(item) is str for item in liked):
            return None
        try:
            return orjson.dumps({"user_id": None, "items": engine.recommend_liked(liked, k)})
        except MovierecError:
            return None

    def _new_user_engine(self, path: str) -> ServingEngine | None:
        if path == RECOMMENDATIONS:
            return self.default
        if path.startswith(MODELS) and path.count("/") == 3:
            return self.engines.get(path[len(MODELS) : -len(RECOMMENDATIONS)])
        return None


def _options(query: bytes, seen: bool = True) -> tuple[int, bool] | None:
    """`(k, include_seen)` from a query string (defaults 10, False), or None if it needs FastAPI to read it."""
    k, include_seen = 10, False
    if not query:
        return k, include_seen
    for pair in query.split(b"&"):
        key, _, value = pair.partition(b"=")
        if key == b"k":
            if not value.isdigit() or len(value) > 6 or not 1 <= int(value) <= MAX_K:
                return None
            k = int(value)
        elif seen and key == b"include_seen":
            if value not in BOOLEANS:
                return None
            include_seen = BOOLEANS[value]
        elif b"%" in key or b"+" in key:  # might decode to `k`
            return None
    return k, include_seen


def _is_json(headers: list[tuple[bytes, bytes]]) -> bool:
    for name, value in headers:
        if name == b"content-type":
            return value == b"application/json" or value.startswith(b"application/json;")
    return False


async def _read_body(receive: Any) -> tuple[bytes, bool]:
    """The request body, and whether it was cut short (the client left): `RequestLimits` bounds its size."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), True
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), False


def _replay(body: bytes, cut_short: bool, receive: Any) -> Any:
    """A `receive` that gives the already-read body once, then defers to the server's."""
    replayed = cut_short

    async def replay() -> dict:
        nonlocal replayed
        if replayed:
            return await receive()
        replayed = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


async def _send_json(send: Any, body: bytes) -> None:
    headers = [*JSON_HEADERS, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})

"""The hot routes answered as plain ASGI, ahead of FastAPI's routing, dependency injection and validation.

`HotPath` answers the routes declared `hot` in `movierec.serving.routes` (a known user's top-k,
a new user's top-k from a JSON body, similar movies), each with or without a `/models/{name}`
prefix, from the same declarations FastAPI's routes are built from: the path template, each
query parameter's plain spellings (`Param.fast`: `k` as 1..`MAX_K` digits, `include_seen` as
`true`/`false`/`1`/`0`), the body's plain form (`new_user_body`) and the answer itself. It
answers only what it fully understands; anything else (another spelling, a bad value, an
unknown id or model, percent-encoded query keys) goes on to the FastAPI routes, which answer
with the documented errors (422 from their validation, 404 naming the id). The answers
therefore equal the FastAPI routes' for every request (a test compares the two apps).

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
from movierec.serving.routes import ROUTES, Route

__all__ = ["HotPath"]

JSON_HEADERS = [(b"content-type", b"application/json")]
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
        # (route, the path before its id, the path after it), tried in order
        self.gets = [(route, route.head, route.tail) for route in ROUTES if route.hot and route.method == "GET"]
        self.posts = {route.path: route for route in ROUTES if route.hot and route.method == "POST"}

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            method = scope["method"]
            if method == "GET":
                body = self.answer_get(scope["path"], scope["query_string"])
                if body is not None:
                    await _send_json(send, body)
                    return
            elif method == "POST" and _is_json(scope["headers"]):
                found = self._post_route(scope["path"])
                if found is not None:
                    request, more = await _read_body(receive)
                    body = None if more else _answer_body(*found, request)
                    if body is not None:
                        await _send_json(send, body)
                        return
                    receive = _replay(request, more, receive)
        await self.app(scope, receive, send)

    def answer_get(self, path: str, query: bytes) -> bytes | None:
        """The JSON body answering `GET path?query`, or None to leave the request to FastAPI."""
        found = self._model(path)
        if found is None:
            return None
        engine, path = found
        for route, head, tail in self.gets:
            if route.path_id is None:
                if path != head:
                    continue
                values = route.read_query(query)
            elif path.startswith(head) and path.endswith(tail) and len(path) >= len(head) + len(tail):
                values = route.read_query(query)
                if values is not None:
                    values[route.path_id.name] = path[len(head) : len(path) - len(tail)]
            else:
                continue
            return None if values is None else _answer(route, engine, values)
        return None

    def answer_post(self, path: str, request: bytes) -> bytes | None:
        """The JSON body answering `POST path` with the JSON `request`, or None to leave it to FastAPI."""
        found = self._post_route(path)
        return None if found is None else _answer_body(*found, request)

    def _model(self, path: str) -> tuple[ServingEngine, str] | None:
        """The engine a path names and the path after its `/models/{name}` prefix, or None for an unknown name."""
        if not path.startswith(MODELS):
            return self.default, path
        name, slash, rest = path[len(MODELS) :].partition("/")
        engine = self.engines.get(name)
        return None if engine is None or not slash else (engine, "/" + rest)

    def _post_route(self, path: str) -> tuple[Route, ServingEngine] | None:
        found = self._model(path)
        if found is None:
            return None
        route = self.posts.get(found[1])
        return None if route is None else (route, found[0])


def _answer(route: Route, engine: ServingEngine, values: dict[str, Any]) -> bytes | None:
    try:
        return orjson.dumps(route.answer(engine, **values))
    except MovierecError:  # FastAPI's route answers it with the documented error
        return None


def _answer_body(route: Route, engine: ServingEngine, request: bytes) -> bytes | None:
    if route.fast_body is None:
        return None
    try:
        values = route.fast_body(orjson.loads(request))
    except orjson.JSONDecodeError:
        return None
    return None if values is None else _answer(route, engine, values)


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

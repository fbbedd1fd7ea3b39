"""Request bodies parsed as strict JSON (RFC 8259) by orjson, as the hot path parses them.

Python's `json` (FastAPI's parser) accepts `NaN`, `Infinity` and `-Infinity`, which are not JSON; a
`NaN` then reached the 422 handler, which could not serialise it, and every such request was a 500
with a traceback in the log. orjson refuses them, and its `JSONDecodeError` is the `json` one, so
FastAPI answers with its documented 422 (`json_invalid`), and both paths agree on what is JSON.

Example:
    >>> app = FastAPI()  # doctest: +SKIP
    >>> app.router.route_class = StrictJsonRoute  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import orjson
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

__all__ = ["StrictJsonRequest", "StrictJsonRoute"]


class StrictJsonRequest(Request):
    """A request whose `json()` is orjson's: no NaN or Infinity, no lone surrogates."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = orjson.loads(await self.body())
        return self._json


class StrictJsonRoute(APIRoute):
    """An APIRoute whose endpoint reads its body through `StrictJsonRequest`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def strict_handler(request: Request) -> Response:
            return await handler(StrictJsonRequest(request.scope, request.receive))

        return strict_handler

"""Request limits in front of the API: body size (413) and URL length (414), as plain ASGI.

A recommender behind a product must not read a 100 MB body or echo a 10 MB URL back; these
limits apply before routing and validation, so no handler ever sees an oversized request.
"""

from __future__ import annotations

from typing import Any

import orjson

__all__ = ["RequestLimits", "MAX_BODY_BYTES", "MAX_URL_BYTES"]

MAX_BODY_BYTES = 1_000_000  # 1 MB: far above any real request (1,000 liked ids of 100 characters is 0.1 MB)
MAX_URL_BYTES = 8_192  # path + query string, as common proxies allow


class RequestLimits:
    """ASGI middleware: 413 for a body above `max_body_bytes` (declared or streamed), 414 for a long URL.

    A declared `Content-Length` is checked before anything is read (the server enforces it as
    the body's length). A chunked body without one is read here, up to the limit, then replayed
    to the app: the app's own body parsing would turn any error raised midway into a 400.
    """

    def __init__(self, app: Any, max_body_bytes: int = MAX_BODY_BYTES, max_url_bytes: int = MAX_URL_BYTES) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_url_bytes = max_url_bytes

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        url_bytes = len(scope.get("raw_path") or scope["path"].encode()) + len(scope.get("query_string", b""))
        if url_bytes > self.max_url_bytes:
            await _reject(send, 414, f"URL longer than {self.max_url_bytes:,} bytes")
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None:
            if not declared.isdigit() or int(declared) > self.max_body_bytes:
                await _reject(send, 413, self._too_large())
                return
            await self.app(scope, receive, send)
            return
        if b"transfer-encoding" not in headers:  # no body at all
            await self.app(scope, receive, send)
            return
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_body_bytes:
                await _reject(send, 413, self._too_large())
                return
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> dict:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}

        await self.app(scope, replay, send)

    def _too_large(self) -> str:
        return f"request body larger than {self.max_body_bytes:,} bytes"


async def _reject(send: Any, status: int, detail: str) -> None:
    body = orjson.dumps({"detail": detail})
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})

"""Connections that say nothing are closed: uvicorn's HTTP protocols with deadlines on what the client sends.

uvicorn times a connection out only between requests (`timeout_keep_alive`, armed once a response is
sent): a client that connects and sends nothing, or half a request line, holds its connection (and a
file descriptor) forever, and one that sends a request head and part of its body holds a worker's
request handler too (it waits for the rest). Here a connection with no request in progress must start
one within `REQUEST_START_SECONDS`, from its opening and from the first bytes after a response, and a
request whose body is still coming must send more of it within that time, or the connection is closed.
The deadline is one timer per connection and per such wait, never per byte or per request answered.

`serve` passes `protocol_path()` to uvicorn as its `http` class (a string, so `--workers` can import it).

Example:
    >>> protocol_path().rsplit(":", 1)[1] in ("IdleClosingHttpTools", "IdleClosingH11")
    True
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["REQUEST_START_SECONDS", "KEEP_ALIVE_SECONDS", "MAX_INCOMPLETE_BYTES", "protocol_path", "IdleClosing"]

REQUEST_START_SECONDS = 10.0  # a connection must send a whole request head within this, from opening or going idle
KEEP_ALIVE_SECONDS = 5  # uvicorn's timeout_keep_alive: an idle connection after a response
MAX_INCOMPLETE_BYTES = 16 * 1024  # h11: the longest request head buffered (URLs past 8 KB get a 414 anyway)


class IdleClosing:
    """Mixin over a uvicorn HTTP protocol.

    It reads uvicorn's `self.loop`, `self.transport` and `self.cycle` (the request being answered, None before
    the first; `cycle.response_complete`), set by both protocols' `__init__`/`connection_made` in the pinned
    uvicorn; `tests/reliability/test_serve_process.py::test_idle_connections_are_closed` fails if they change.
    """

    request_start_seconds: float = REQUEST_START_SECONDS
    _deadline: asyncio.TimerHandle | None = None
    _received = 0  # data_received calls so far: a body that made no progress since a deadline was armed stalled

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)  # type: ignore[misc]
        self._arm()

    def data_received(self, data: bytes) -> None:
        self._received += 1
        if self._deadline is None and self._idle():
            self._arm()  # the first bytes of a request: its head must be complete in time
        super().data_received(data)  # type: ignore[misc]
        if self._deadline is None and self._reading_body():
            self._arm()  # the head is in, the body is not: the rest must keep coming

    def connection_lost(self, exc: Exception | None) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        super().connection_lost(exc)  # type: ignore[misc]

    def _idle(self) -> bool:
        cycle = self.cycle  # type: ignore[attr-defined]
        return cycle is None or cycle.response_complete

    def _reading_body(self) -> bool:
        cycle = self.cycle  # type: ignore[attr-defined]
        return cycle is not None and not cycle.response_complete and cycle.more_body

    def _arm(self) -> None:
        loop: asyncio.AbstractEventLoop = self.loop  # type: ignore[attr-defined]
        self._deadline = loop.call_later(
            self.request_start_seconds,
            self._expire,
            self.cycle,  # type: ignore[attr-defined]
            self._received,
        )

    def _expire(self, cycle: Any, received: int) -> None:
        self._deadline = None
        transport = self.transport  # type: ignore[attr-defined]
        if transport.is_closing():
            return
        if self._reading_body():
            if self.cycle is cycle and self._received == received:  # type: ignore[attr-defined]
                transport.close()  # not one byte of the body since the deadline was armed: the request stalled
            else:
                self._arm()  # the body is coming: time the next wait for it
            return
        if not self._idle():
            return  # answering a request: the next wait arms its own deadline
        if self.cycle is cycle:  # type: ignore[attr-defined]
            transport.close()  # no request started since the deadline was armed
        else:
            self._arm()  # requests were answered meanwhile; time the current wait


class IdleClosingH11(IdleClosing, H11Protocol):
    """uvicorn's h11 protocol with the request-start deadline."""


try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # pragma: no cover  (uvicorn without httptools)
    HttpToolsProtocol = None  # type: ignore[assignment,misc]
else:

    class IdleClosingHttpTools(IdleClosing, HttpToolsProtocol):
        """uvicorn's httptools protocol (the fast one, `uvicorn[standard]`) with the request-start deadline."""


def protocol_path() -> str:
    """uvicorn's `http` option: httptools' protocol when installed, else h11's, both with the deadline."""
    name = "IdleClosingH11" if HttpToolsProtocol is None else "IdleClosingHttpTools"
    return f"{__name__}:{name}"

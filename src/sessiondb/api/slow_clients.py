"""Bounding how long a client may take to send a request's headers (slow-loris clients).

uvicorn bounds the idle time between two requests on a kept-alive connection
(``timeout_keep_alive``, 5 s) and, through h11, the size of a request head (16 KiB), but not
the time a client takes to send it: a connection opened and left silent, or fed a header a
byte at a time, is held open for as long as the client likes, and enough of them use up the
server's file descriptors. :class:`HeaderTimeoutProtocol` is uvicorn's h11 protocol plus that
bound: the head of each request must be complete within :data:`DEFAULT_HEADER_TIMEOUT_S`
seconds of the connection opening, or of its first byte on a kept-alive connection; otherwise
the connection is closed. ``sessiondb serve`` passes it to uvicorn (``http=``); the bound comes
from the ``SESSIONDB_HEADER_TIMEOUT`` environment variable (``--header-timeout``), read per
connection, so worker processes see it too.

The body is not covered: a route reads it through the ASGI app, which bounds its own work.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

DEFAULT_HEADER_TIMEOUT_S = 10.0
"""Seconds a client has to send a request's line and headers."""

HEADER_TIMEOUT_VARIABLE = "SESSIONDB_HEADER_TIMEOUT"

HEADER_TIMEOUT_PROTOCOL = "sessiondb.api.slow_clients:HeaderTimeoutProtocol"
""":class:`HeaderTimeoutProtocol` by name, as uvicorn's ``http=`` takes it (imported where used)."""


def header_timeout_s() -> float:
    """The bound in effect: :data:`HEADER_TIMEOUT_VARIABLE`, else the default.

    Raises:
        ValueError: the variable is not a positive number of seconds.
    """
    given = os.environ.get(HEADER_TIMEOUT_VARIABLE)
    if not given:
        return DEFAULT_HEADER_TIMEOUT_S
    seconds = float(given)
    if not 0 < seconds < float("inf"):
        raise ValueError(f"{HEADER_TIMEOUT_VARIABLE} must be a positive number of seconds, not {given!r}")
    return seconds


class HeaderTimeoutProtocol(H11Protocol):
    """uvicorn's h11 protocol, closing a connection whose request head takes too long to arrive."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """As :class:`H11Protocol`; reads the bound (see :func:`header_timeout_s`)."""
        super().__init__(*args, **kwargs)
        self._header_timeout_s = header_timeout_s()
        self._header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Start the clock for the first request's head."""
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        """Start the clock at a new request's first byte; stop it once its head is complete."""
        if self._header_timer is None and self.conn.their_state is h11.IDLE:
            self._arm()
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            self._disarm()

    def connection_lost(self, exc: Exception | None) -> None:
        """Stop the clock."""
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._header_timer = self.loop.call_later(self._header_timeout_s, self._headers_too_slow)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        # Still no complete head: h11 has not left IDLE for this request.
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()

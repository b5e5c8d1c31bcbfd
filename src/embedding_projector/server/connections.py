"""HTTP connections: a deadline for every request head, and a cap on open connections.

uvicorn closes a connection left idle between requests (``timeout_keep_alive``), but
sets no limit on how long a client may take to send a request's head: a client that
never finishes its headers (slowloris) holds its connection, and a file descriptor,
for ever, and enough of them stop the server from accepting anyone. So, on top of
uvicorn's HTTP/1.1 protocol:

- a request head must arrive whole within :data:`HEAD_TIMEOUT` seconds of the
  connection opening (or of its first byte, between requests), else the connection is
  closed; trickling a byte at a time does not extend it;
- at most :data:`MAX_CONNECTIONS` stay open: past that, the connection that has waited
  longest on its client (for a head, a body, or idle between requests) is closed, so
  that idle connections can never lock out a real request.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

HEAD_TIMEOUT = 10.0
"""Seconds for a request's head (request line and headers) to arrive whole."""
MAX_CONNECTIONS = 128
"""Open HTTP connections at most; well below the usual file limit (256 on macOS)."""
_WAITING_ON_CLIENT = (h11.IDLE, h11.SEND_BODY)


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for request heads and a cap on connections."""

    _opened = 0.0
    _head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._opened = time.monotonic()
        super().connection_made(transport)
        self._expect_head()
        if len(self.connections) > MAX_CONNECTIONS:
            _close_longest_waiting(self.connections)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is h11.IDLE:  # part of a head, or nothing yet
            self._expect_head()
        else:
            self._stop_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_timer()
        super().connection_lost(exc)

    def _expect_head(self) -> None:
        if self._head_timer is None:  # the first deadline stands: bytes do not extend it
            self._head_timer = self.loop.call_later(HEAD_TIMEOUT, self._head_timed_out)

    def _stop_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.conn.their_state is h11.IDLE:
            self.transport.close()

    def waiting_on_client(self) -> bool:
        """Whether the server waits for this client (a head, a body, or a next request)."""
        return self.conn.their_state in _WAITING_ON_CLIENT and not self.transport.is_closing()


def _close_longest_waiting(connections: Iterable[object]) -> None:
    waiting = [
        c for c in connections if isinstance(c, GuardedH11Protocol) and c.waiting_on_client()
    ]
    if waiting:
        min(waiting, key=lambda c: c._opened).transport.close()

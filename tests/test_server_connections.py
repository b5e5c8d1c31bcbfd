"""Connections that never finish their request head cannot hold the server.

The attack: on a non-loopback bind, idle connections were never closed and exhausted
the server's file descriptors. Here raw sockets open connections and send half a head
(or a byte now and then); the server closes them at the head deadline, keeps at most
``MAX_CONNECTIONS`` open, and answers ``/api/health`` throughout.
"""

from __future__ import annotations

import contextlib
import re
import socket
import time
from collections.abc import Iterator

import httpx
import psutil
import pytest

from embedding_projector.server.connections import HEAD_TIMEOUT, MAX_CONNECTIONS
from tests.conftest import serving_copy
from tests.server_process import ServerProcess
from tests.support import raw_http

HALF_A_HEAD = b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    # Beyond loopback, as in the attack: connections come from anywhere, with a token.
    with serving_copy("tf2_keras_tutorial", tmp_path_factory.mktemp("s"), "--host", "0.0.0.0") as s:
        yield s


@pytest.fixture(scope="module")
def http(server: ServerProcess) -> Iterator[httpx.Client]:
    token = re.search(r"token=([\w-]+)", server.url)
    assert token, server.url
    headers = {"Authorization": f"Bearer {token.group(1)}"}
    with httpx.Client(base_url=server.base, headers=headers, timeout=30) as c:
        yield c


def _health_time(http: httpx.Client) -> float:
    started = time.monotonic()
    assert http.get("/api/health").status_code == 200
    return time.monotonic() - started


def _closed_by_server(sock: socket.socket, within: float) -> float:
    """Seconds until the server closed ``sock`` (fails if it did not within ``within``)."""
    started = time.monotonic()
    sock.settimeout(within)
    # A close that finds bytes still unread in the server's buffer is a reset, not an end.
    with contextlib.suppress(ConnectionResetError):
        assert sock.recv(4096) == b""
    return time.monotonic() - started


def _server_fds(server: ServerProcess) -> int:
    return psutil.Process(server.process.pid).num_fds()


def test_a_head_never_finished_is_closed_at_the_deadline(
    server: ServerProcess, http: httpx.Client
) -> None:
    with raw_http.connect(server.base) as silent, raw_http.connect(server.base) as half:
        half.sendall(HALF_A_HEAD)
        assert _closed_by_server(silent, HEAD_TIMEOUT + 5) >= HEAD_TIMEOUT - 1
        assert _closed_by_server(half, 5) < 5  # opened at the same time as `silent`
    assert _health_time(http) < 1


def test_trickling_bytes_does_not_extend_the_deadline(server: ServerProcess) -> None:
    with raw_http.connect(server.base) as sock:
        opened = time.monotonic()
        sock.sendall(HALF_A_HEAD)
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            while time.monotonic() - opened < HEAD_TIMEOUT + 5:
                sock.sendall(b"X")  # one byte of a header name a second
                time.sleep(1)
        assert time.monotonic() - opened < HEAD_TIMEOUT + 5
        assert _closed_by_server(sock, 5) < 5


def test_many_idle_connections_never_lock_out_a_request(
    server: ServerProcess, http: httpx.Client
) -> None:
    fds_before = _server_fds(server)
    attackers = []
    try:
        for _ in range(MAX_CONNECTIONS + 100):
            sock = raw_http.connect(server.base)
            sock.sendall(HALF_A_HEAD)
            attackers.append(sock)
        # Each new connection past the cap closed the longest-waiting one, and a real
        # request is one of the newest: it is answered at once, again and again.
        for _ in range(5):
            assert _health_time(http) < 2
        assert _server_fds(server) <= fds_before + MAX_CONNECTIONS + 10
        # The oldest went first. A close that finds our half head still unread in the
        # server's buffer is a reset rather than an orderly end: closed all the same.
        assert all(_closed_by_server(sock, 5) < 5 for sock in attackers[:100])
    finally:
        for sock in attackers:
            sock.close()
    assert _health_time(http) < 1


def test_answers_on_a_kept_alive_connection_are_not_held_back(http: httpx.Client) -> None:
    # With Nagle's algorithm on, each answer after a connection's first waited for the
    # client's delayed ACK (40 ms on Linux): the page's requests all reuse connections.
    _health_time(http)  # the connection is open
    times = sorted(_health_time(http) for _ in range(9))
    assert times[4] < 0.03, times

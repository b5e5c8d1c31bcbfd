"""Raw HTTP/1.1 over a socket: for requests no client library sends (any ``Host``, no
``Host``, a header never finished, a body that never ends)."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit


def server_address(base: str) -> tuple[str, int]:
    """``(host, port)`` of a base URL such as ``http://127.0.0.1:6006``."""
    parts = urlsplit(base)
    assert parts.hostname is not None and parts.port is not None, base
    return parts.hostname, parts.port


def connect(base: str, *, timeout: float = 30) -> socket.socket:
    """A TCP connection to the server of ``base``."""
    return socket.create_connection(server_address(base), timeout=timeout)


def read_response(sock: socket.socket) -> tuple[int, bytes]:
    """Read until the server closes or one response is whole: ``(status, body)``."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed before a response: {data!r}")
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    status = int(head.split(b" ", 2)[1])
    length = next(
        (
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")[1:]
            if line.lower().startswith(b"content-length:")
        ),
        None,
    )
    while length is not None and len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return status, body


def request(base: str, head: str, body: bytes = b"") -> tuple[int, bytes]:
    """Send ``head`` (request line and headers, without the blank line) and ``body``."""
    with connect(base) as sock:
        sock.sendall(head.encode("latin-1") + b"\r\n\r\n" + body)
        return read_response(sock)

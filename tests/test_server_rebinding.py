"""DNS rebinding: only a loopback IP literal or ``localhost`` itself is this machine.

The attack: a page of ``127.0.0.1.evil.example`` (a name its owner resolves to
127.0.0.1) is same-origin with itself, so its requests carry a matching ``Origin``; only
the ``Host`` it sends tells the server that it was not addressed by this machine's name.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from embedding_projector.server.security import host_name, is_loopback
from tests.conftest import serving_copy
from tests.server_process import ServerProcess, client
from tests.support import raw_http


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with serving_copy("tf2_keras_tutorial", tmp_path_factory.mktemp("server")) as s:
        yield s


@pytest.fixture(scope="module")
def ids(server: ServerProcess) -> dict[str, str]:
    with client(server) as http:
        emb = http.get("/api/embeddings").json()[0]["id"]
        job = http.post(f"/api/embeddings/{emb}/projections", json={"method": "pca"})
        return {"emb": emb, "job": job.json()["id"]}


def _port(server: ServerProcess) -> int:
    return raw_http.server_address(server.base)[1]


def _as(host: str) -> dict[str, str]:
    """Headers of a page served from ``host``: its ``Host`` and a matching ``Origin``."""
    return {"Host": host, "Origin": f"http://{host}"}


def test_a_rebound_name_is_refused_for_reads_writes_and_jobs(
    server: ServerProcess, ids: dict[str, str]
) -> None:
    rebound = f"127.0.0.1.evil.example:{_port(server)}"
    emb = ids["emb"]
    with client(server, headers=_as(rebound)) as page:
        attempts = [
            page.get("/api/embeddings"),
            page.get(f"/api/embeddings/{emb}/vectors"),
            page.get(f"/api/embeddings/{emb}/metadata"),
            page.put(f"/api/embeddings/{emb}/bookmarks", content=b'[{"label": "x"}]'),
            page.post(f"/api/embeddings/{emb}/projections", json={"method": "pca"}),
            page.get(f"/api/jobs/{ids['job']}"),
        ]
    for response in attempts:
        assert response.status_code == 403, (response.request.url, response.text)
        message = response.json()["error"]["message"]
        assert message == f"host {rebound!r} refused: this server only answers on loopback"
    with client(server) as http:  # nothing was written
        assert http.get(f"/api/embeddings/{emb}/bookmarks").json() == []


def _websocket_status(server: ServerProcess, job: str, host: str) -> int:
    key = base64.b64encode(os.urandom(16)).decode()
    head = (
        f"GET /api/jobs/{job}/stream HTTP/1.1\r\nHost: {host}\r\nOrigin: http://{host}\r\n"
        f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
        "Sec-WebSocket-Version: 13"
    )
    with raw_http.connect(server.base) as sock:
        sock.sendall(head.encode() + b"\r\n\r\n")
        return int(sock.recv(4096).split(b" ", 2)[1])


def test_a_rebound_name_cannot_open_the_job_websocket(
    server: ServerProcess, ids: dict[str, str]
) -> None:
    port = _port(server)
    assert _websocket_status(server, ids["job"], f"127.0.0.1.evil.example:{port}") == 403
    assert _websocket_status(server, ids["job"], f"127.0.0.1:{port}") == 101


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1:{port}", "localhost:{port}", "LOCALHOST", "127.8.9.10", "[::1]:{port}",
     "[::ffff:127.0.0.1]:{port}", "127.0.0.1"],
)  # fmt: skip
def test_loopback_addresses_and_localhost_are_served(server: ServerProcess, host: str) -> None:
    headers = _as(host.format(port=_port(server)))
    with client(server, headers=headers) as page:
        assert page.get("/api/embeddings").status_code == 200


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1.evil.example:{port}", "127.evil.example", "localhost.evil.example:{port}",
     "evil.example", "127.1:{port}", "2130706433", "::1", "[::2]:{port}", "[127.0.0.1",
     "[::ffff:10.0.0.1]:{port}", "0.0.0.0:{port}", "localhost:{port}@evil.example"],
)  # fmt: skip
def test_names_and_other_addresses_are_refused(server: ServerProcess, host: str) -> None:
    with client(server, headers=_as(host.format(port=_port(server)))) as page:
        response = page.get("/api/embeddings")
    # h11 itself answers 400 to a Host it cannot parse; everything else is ours.
    assert response.status_code in (400, 403), response.text
    if response.status_code == 403:
        assert "only answers on loopback" in response.json()["error"]["message"]


def test_an_empty_or_missing_host_is_refused(server: ServerProcess) -> None:
    status, body = raw_http.request(server.base, "GET /api/embeddings HTTP/1.1\r\nHost: ")
    assert status == 403, body
    status, body = raw_http.request(server.base, "GET /api/embeddings HTTP/1.0")
    assert status == 403, body
    assert b"only answers on loopback" in body


def test_host_names_and_bind_addresses() -> None:
    assert host_name("127.0.0.1.evil.example:6006") == "127.0.0.1.evil.example"
    assert host_name("[::1]:6006") == "[::1]"
    assert host_name("localhost") == "localhost"
    assert host_name("::1") is None  # an IPv6 literal needs its brackets
    assert host_name("a:b:c") is None
    # The bind address decides whether a token is required: a name or wildcard needs one.
    for loopback in ("127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost", "::ffff:127.0.0.1"):
        assert is_loopback(loopback), loopback
    for beyond in ("0.0.0.0", "::", "", "192.168.1.2", "127.0.0.1.evil.example", "localhost."):
        assert not is_loopback(beyond), beyond


def test_the_bind_address_decides_the_token(tmp_path: Path) -> None:
    with serving_copy("tf2_keras_tutorial", tmp_path, "--host", "::1") as server:
        assert server.url.startswith("http://[::1]:") and "token" not in server.url
        with httpx.Client(base_url=server.base) as http:
            assert http.get("/api/embeddings").status_code == 200

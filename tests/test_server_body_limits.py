"""Every request body is bounded before it is read.

The attack: ``PUT selection`` had no bound (1 GiB accepted, 5.8 GB of RSS, /api/health
stalled for 15.8 s) and other bodies were read whole before being refused. Now a body
over its route's bound is refused with a JSON 413 while the client is still sending.
"""

from __future__ import annotations

import json
import select
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import psutil
import pytest

from tests.server_process import ServerProcess, client, running_server
from tests.support import raw_http

N, D = 200_000, 4
GiB = 2**30
CHUNK = b"\0" * 2**20


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    folder = tmp_path_factory.mktemp("vectors")
    np.save(folder / "points.npy", np.random.default_rng(0).normal(size=(N, D)).astype("<f4"))
    with running_server(str(folder / "points.npy"), cache_dir=folder / "cache") as s:
        yield s


@pytest.fixture(scope="module")
def emb(http: httpx.Client) -> str:
    emb_id: str = http.get("/api/embeddings").json()[0]["id"]
    return emb_id


def _rss(server: ServerProcess) -> int:
    return int(psutil.Process(server.process.pid).memory_info().rss)


def _assert_healthy(http: httpx.Client) -> None:
    started = time.monotonic()
    assert http.get("/api/health").status_code == 200
    assert time.monotonic() - started < 1


def _stream(
    server: ServerProcess, method: str, path: str, *, declared: int | None, total: int
) -> tuple[int, bytes, int]:
    """Send up to ``total`` body bytes (declared, or chunked), stopping at the first answer.

    Returns the status, the body and how many body bytes were sent before the answer.
    """
    framing = (
        f"Content-Length: {declared}" if declared is not None else "Transfer-Encoding: chunked"
    )
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{framing}\r\n\r\n"
    with raw_http.connect(server.base) as sock:
        sock.sendall(head.encode())
        sent = 0
        while sent < total:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                break
            frame = CHUNK if declared is not None else b"%x\r\n%s\r\n" % (len(CHUNK), CHUNK)
            try:
                sock.sendall(frame)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(CHUNK)
        status, body = raw_http.read_response(sock)
    return status, body, sent


@pytest.mark.parametrize("declared", [GiB, None], ids=["content-length", "chunked"])
def test_a_1_gib_selection_is_refused_before_it_is_sent(
    server: ServerProcess, http: httpx.Client, emb: str, declared: int | None
) -> None:
    before = _rss(server)
    status, body, sent = _stream(
        server, "PUT", f"/api/embeddings/{emb}/selection", declared=declared, total=GiB
    )
    assert status == 413
    error = json.loads(body)["error"]
    assert error["code"] == "payload_too_large"
    assert (
        error["message"]
        == f"the request body is larger than the {4 * N:,} bytes this route accepts"
    )
    assert sent <= 64 * 2**20, f"{sent} bytes were sent before the refusal"
    assert _rss(server) - before < 50 * 2**20
    _assert_healthy(http)


@pytest.mark.parametrize(
    ("method", "route", "bound"),
    [
        ("PUT", "bookmarks", 256 * 2**20),
        ("POST", "neighbors", 2**20 + 12 * N + 26 * D),
        ("POST", "projections", 2**20),
        ("POST", "custom-projection", 2**20),
    ],
)
def test_every_body_has_a_bound(
    server: ServerProcess, http: httpx.Client, emb: str, method: str, route: str, bound: int
) -> None:
    before = _rss(server)
    # Counting a body without a length is shown where the bound is small.
    for declared in (GiB, None) if bound < 16 * 2**20 else (GiB,):
        status, body, sent = _stream(
            server, method, f"/api/embeddings/{emb}/{route}", declared=declared, total=GiB
        )
        assert status == 413, body
        assert json.loads(body)["error"]["message"] == (
            f"the request body is larger than the {bound:,} bytes this route accepts"
        )
        assert sent <= bound + 64 * 2**20
    assert _rss(server) - before < 50 * 2**20
    _assert_healthy(http)


def test_the_largest_real_requests_fit(http: httpx.Client, emb: str) -> None:
    everything = np.arange(N, dtype="<i4")
    selected = http.put(f"/api/embeddings/{emb}/selection", content=everything.tobytes())
    assert selected.status_code == 200 and selected.json() == {"selected": N}
    assert http.get(f"/api/embeddings/{emb}/selection").content == everything.tobytes()
    one_too_many = np.arange(N + 1, dtype="<i4") % N
    refused = http.put(f"/api/embeddings/{emb}/selection", content=one_too_many.tobytes())
    assert refused.status_code == 413
    # The page asks for the neighbours of a selection by POSTing its rows as JSON.
    rows = list(range(N - 10))
    assert len(json.dumps({"indices": rows, "k": 5})) > 2**20  # more than the default bound
    found = http.post(f"/api/embeddings/{emb}/neighbors", json={"indices": rows, "k": 5})
    assert found.status_code == 200, found.text
    assert len(found.json()["indices"]) == 5
    assert all(i >= N - 10 for i in found.json()["indices"])  # the query rows are excluded


def test_a_body_sent_to_a_route_without_one_is_left_unread(
    server: ServerProcess, http: httpx.Client
) -> None:
    status, body = raw_http.request(
        server.base, "GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5", b"hello"
    )
    assert (status, json.loads(body)) == (200, {"status": "ok"})
    _assert_healthy(http)


def test_bounds_follow_the_largest_embedding(tmp_path: Path) -> None:
    np.save(tmp_path / "small.npy", np.ones((10, 3), "<f4"))
    with (
        running_server(str(tmp_path / "small.npy"), cache_dir=tmp_path / "cache") as small,
        client(small) as http,
    ):
        emb = http.get("/api/embeddings").json()[0]["id"]
        refused = http.put(f"/api/embeddings/{emb}/selection", content=bytes(44))
        assert refused.status_code == 413
        assert "larger than the 40 bytes" in refused.json()["error"]["message"]

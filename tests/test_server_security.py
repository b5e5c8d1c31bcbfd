"""Loopback by default, a token beyond it, no cross-site requests."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from tests.conftest import FIXTURES, writable_copy
from tests.server_process import client, running_server


@pytest.fixture
def keras(tmp_path: Path) -> str:
    """A copy of the tutorial log dir: these tests save bookmarks beside it."""
    writable_copy(FIXTURES / "tf2_keras_tutorial", tmp_path / "logs")
    return str(tmp_path / "logs")


def test_loopback_by_default_refuses_other_host_names(tmp_path: Path, keras: str) -> None:
    with running_server(keras, cache_dir=tmp_path / "cache") as server, client(server) as http:
        assert server.base.startswith("http://127.0.0.1:")
        assert "token" not in server.url
        assert http.get("/api/health").status_code == 200
        assert http.get("/api/health", headers={"Host": "localhost"}).status_code == 200
        rebinding = http.get("/api/health", headers={"Host": "evil.example:80"})
        assert rebinding.status_code == 403
        assert "only answers on loopback" in rebinding.json()["error"]["message"]


def test_cross_site_writes_are_refused(tmp_path: Path, keras: str) -> None:
    with running_server(keras, cache_dir=tmp_path / "cache") as server, client(server) as http:
        emb = http.get("/api/embeddings").json()[0]["id"]
        forged = http.put(
            f"/api/embeddings/{emb}/bookmarks",
            content=b"[]",
            headers={"Origin": "http://evil.example"},
        )
        assert forged.status_code == 403
        assert "cross-origin request" in forged.json()["error"]["message"]
        assert "access-control-allow-origin" not in forged.headers
        same_site = http.put(
            f"/api/embeddings/{emb}/bookmarks", content=b"[]", headers={"Origin": server.base}
        )
        assert same_site.status_code == 200


def test_beyond_loopback_a_token_is_required(tmp_path: Path, keras: str) -> None:
    with running_server(keras, "--host", "0.0.0.0", cache_dir=tmp_path / "cache") as server:
        match = re.search(r"\?token=([\w-]+)", server.url)
        assert match, server.url
        token = match.group(1)
        assert len(token) >= 24
        assert "the token in the URL is required" in server.output
        with client(server) as http:
            refused = http.get("/api/embeddings")
            assert refused.status_code == 401
            assert "a token is required" in refused.json()["error"]["message"]
            assert http.get("/api/health", params={"token": token[:-1] + "x"}).status_code == 401
            first = http.get("/", params={"token": token})
            assert first.status_code == 200
            assert "projector_token=" in first.headers["set-cookie"]
            assert "HttpOnly" in first.headers["set-cookie"]
            # the cookie the browser keeps is enough afterwards
            assert http.get("/api/embeddings").status_code == 200
        with httpx.Client(base_url=server.base) as bearer:
            ok = bearer.get("/api/health", headers={"Authorization": f"Bearer {token}"})
            assert ok.status_code == 200

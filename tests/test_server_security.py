"""Loopback by default, a token beyond it, no cross-site requests."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from embedding_projector.dataset.opening import open_path
from embedding_projector.server.app import create_app
from embedding_projector.server.security import token_cookie
from embedding_projector.server.settings import Settings
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
            assert f"{token_cookie(token)}={token};" in first.headers["set-cookie"]
            assert "HttpOnly" in first.headers["set-cookie"]
            # the cookie the browser keeps is enough afterwards
            assert http.get("/api/embeddings").status_code == 200
        with httpx.Client(base_url=server.base) as bearer:
            ok = bearer.get("/api/health", headers={"Authorization": f"Bearer {token}"})
            assert ok.status_code == 200


def in_process(**settings: object) -> httpx.AsyncClient:
    """A client of an app on the tutorial log dir, in this process (no lifespan, no workers)."""
    app = create_app(open_path(FIXTURES / "tf2_keras_tutorial"), settings=Settings(**settings))  # type: ignore[arg-type]
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1:6006"
    )


def in_a_thread(check: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """``asyncio.run(check())`` in a thread of its own: the browser tests' Playwright keeps an
    event loop running in this one for the whole session."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, check()).result()


async def cross_site_write(http: httpx.AsyncClient, headers: dict[str, str]) -> int:
    """The status of a write that another site's page sends."""
    forged = await http.put(
        "/api/embeddings/x/bookmarks",
        content=b"[]",
        headers={**headers, "Origin": "http://evil.example"},
    )
    return forged.status_code


def test_through_a_proxy_other_host_names_need_the_token() -> None:
    """jupyter-server-proxy forwards the browser's Host (e.g. a JupyterHub's name)."""

    async def check() -> None:
        async with in_process(token="s3cret-token") as http:
            assert (await http.get("/api/health")).status_code == 200  # loopback: no token
            hub = {"Host": "hub.example.org"}
            refused = await http.get("/api/health", headers=hub)
            assert refused.status_code == 401
            assert "a token is required" in refused.json()["error"]["message"]
            wrong = await http.get("/api/health", headers=hub, params={"token": "s3cret-tokex"})
            assert wrong.status_code == 401
            first = await http.get("/", headers=hub, params={"token": "s3cret-token"})
            assert first.status_code == 200
            # kept in a cookie of its own, beside another server's behind the same origin
            cookie = first.headers["set-cookie"]
            assert cookie.startswith(f"{token_cookie('s3cret-token')}=s3cret-token;")
            assert token_cookie("s3cret-token") != token_cookie("other-token")
            http.cookies.set(token_cookie("other-token"), "other-token")
            assert (await http.get("/api/runs", headers=hub)).status_code == 200
            assert await cross_site_write(http, hub) == 403

    in_a_thread(check)


def test_without_host_judging_any_name_is_served_but_not_cross_site_writes() -> None:
    """Colab: no browser on the kernel's machine, its proxy forwards an unknown host name."""

    async def check() -> None:
        async with in_process(judge_host=False) as http:
            colab = {"Host": "x-colab.example"}
            assert (await http.get("/api/health", headers=colab)).status_code == 200
            assert await cross_site_write(http, colab) == 403

    in_a_thread(check)

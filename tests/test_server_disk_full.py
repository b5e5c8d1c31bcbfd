"""A full disk is a clear 507 wherever the server writes, and costs a projection only its cache.

The attack filled the disk of the cache dir: saves and new embeddings were 500s. The
test runs the server on a real, small tmpfs, fills it, and frees it again.
"""

from __future__ import annotations

import errno
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from tests.conftest import FIXTURES, writable_copy
from tests.server_process import client, running_server


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 16 MiB tmpfs of its own (mounting needs root, as in CI)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    disk = tmp_path / "disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(disk)], check=True)
    try:
        yield disk
    finally:
        subprocess.run(["umount", "--lazy", str(disk)], check=True)


def _fill(disk: Path) -> Path:
    """Write zeros until the disk is full; returns the file holding them."""
    filler = disk / "filler"
    with filler.open("wb") as file:
        try:
            while True:
                file.write(b"\0" * 65536)
                file.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    return filler


def _pca(http: httpx.Client, emb: str, components: list[int]) -> httpx.Response:
    params = {"components": components}
    return http.post(f"/api/embeddings/{emb}/projections", json={"method": "pca", "params": params})


def _result(http: httpx.Client, job: str) -> np.ndarray:
    deadline = time.monotonic() + 60
    while (status := http.get(f"/api/jobs/{job}").json())["state"] != "done":
        assert status["state"] in ("queued", "running"), status
        assert time.monotonic() < deadline, status
        time.sleep(0.1)
    result = http.get(f"/api/jobs/{job}/result")
    assert result.status_code == 200
    return np.frombuffer(result.content, "<f4")


def test_a_full_disk_is_a_clear_507_and_costs_a_projection_only_its_cache(
    small_disk: Path,
) -> None:
    logdir = writable_copy(FIXTURES / "tf2_two_embeddings_sprite", small_disk / "logs")
    cache = small_disk / "cache"
    with running_server(str(logdir), cache_dir=cache) as server, client(server) as http:
        first, second = (e["id"] for e in http.get("/api/embeddings").json())
        assert _result(http, _pca(http, first, [0, 1]).json()["id"]).size > 0
        cached = sorted((cache / "results").iterdir())
        filler = _fill(small_disk)

        saved = http.put(f"/api/embeddings/{first}/bookmarks", json=[{"label": "x"}])
        assert saved.status_code == 507
        error = saved.json()["error"]
        assert error["code"] == "insufficient_storage"
        target = logdir / f"embedding_projector.bookmarks.{first}.json"
        assert error["message"] == (
            f"{target}: cannot write the file: its disk is full; free some space and try again"
        )

        # New vectors for the workers go to the cache dir: that is the disk named.
        registered = _pca(http, second, [0, 1])
        assert registered.status_code == 507, registered.text
        message = registered.json()["error"]["message"]
        assert message.startswith(str(cache)) and ": no space left on its disk;" in message
        assert "can be moved with EMBEDDING_PROJECTOR_CACHE_DIR" in message

        # A projection of registered vectors still runs; only its caching is lost.
        layout = _result(http, _pca(http, first, [1, 2]).json()["id"])
        assert layout.size > 0
        assert sorted((cache / "results").iterdir()) == cached

        started = time.monotonic()
        assert http.get("/api/health").status_code == 200
        assert time.monotonic() - started < 1

        filler.unlink()  # with space again, everything works
        assert http.put(f"/api/embeddings/{first}/bookmarks", json=[{"label": "x"}]).is_success
        assert _result(http, _pca(http, second, [0, 1]).json()["id"]).size > 0
        assert "Traceback" not in server.output

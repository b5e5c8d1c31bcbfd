"""Memory does not grow with requests: 1,000 cached projections against a real server.

Each request makes a job that holds its result (20,000 x 10 float32 for PCA: 800 kB);
before finished jobs were evicted, 1,000 of them grew the server by 800 MB.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
import pytest

from embedding_projector import projector
from embedding_projector.compute.jobs import MAX_FINISHED_JOBS
from tests.server_process import ServerProcess, client, running_server

N, D = 20_000, 16
COMPONENTS = ([0, 1], [1, 2], [2, 3], [3, 4])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    root = tmp_path_factory.mktemp("memory")
    vectors = np.random.default_rng(0).standard_normal((N, D)).astype(np.float32)
    projector.save_embeddings(root / "logs", "points", vectors)
    with running_server("--logdir", str(root / "logs"), cache_dir=root / "cache") as s:
        yield s


def request_pca(server: ServerProcess, emb: str, count: int) -> list[str]:
    """``count`` PCA requests (cache hits), four clients at a time; their job ids in order."""

    def one(i: int) -> str:
        with client(server) as http:
            body = {"method": "pca", "params": {"components": COMPONENTS[i % 4]}}
            status = http.post(f"/api/embeddings/{emb}/projections", json=body).json()
            assert status.get("state") == "done" and status["cached"], status
            return str(status["id"])

    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(one, range(count)))


def test_a_thousand_cached_projections_keep_the_server_flat(
    server: ServerProcess, http: httpx.Client
) -> None:
    emb = http.get("/api/embeddings").json()[0]["id"]
    first = http.post(f"/api/embeddings/{emb}/projections", json={"method": "pca"}).json()["id"]
    while http.get(f"/api/jobs/{first}").json()["state"] != "done":
        time.sleep(0.05)
    early = request_pca(server, emb, 100)
    rss_first = server.rss_mb()
    late = request_pca(server, emb, 900)
    rss_after = server.rss_mb()
    # Unbounded, the 900 jobs would hold 720 MB more.
    assert rss_after <= 1.2 * rss_first, (rss_first, rss_after)

    for gone in (first, early[0]):
        for path in (f"/api/jobs/{gone}", f"/api/jobs/{gone}/result"):
            expired = http.get(path)
            assert expired.status_code == 404
            error = expired.json()["error"]
            assert error["code"] == "job_expired"
            assert "ask for the projection again" in error["message"]
    for recent in late[-MAX_FINISHED_JOBS // 2 :]:
        assert http.get(f"/api/jobs/{recent}").json()["state"] == "done"
    shape = http.get(f"/api/jobs/{late[-1]}/result").headers["x-shape"]
    assert shape == f"{N},2"

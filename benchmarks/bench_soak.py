"""Soak: one real server, 2,000 projection requests and 10,000 API calls; does its memory stay flat?

A ``projector --logdir`` process serves a 20,000 x 64 embedding (with two metadata
columns). Clients then do what page loads do, 2,000 times over, four at a time: ask for
a projection — mostly one computed before, so a cache hit (PCA in 2D and 3D, other
components, a t-SNE, all computed once at the start), and every 50th a distinct
t-SNE (a new seed) that the next one cancels, as a page does when its settings change —
then five API calls: the job's status, its result, a slice of the vectors, and two of
metadata, search and neighbours in turn. The server's resident memory (``VmRSS``) is
read after the first 100 projection requests and after all of them; the goal is a
ratio of at most 1.2 (issue 8: 1,000 cached requests grew it from 665 MB to 2.8 GB
before finished jobs were evicted).
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from tests.server_process import ServerProcess, client, rss_mb, running_server

from benchmarks.bench_compute import blobs

#: Projections that pages ask for again and again: all but the first are cache hits.
PCAS = (
    {"method": "pca", "dims": 2},
    {"method": "pca", "dims": 3},
    {"method": "pca", "dims": 2, "params": {"components": [2, 3]}},
)
TSNE = {"method": "tsne", "dims": 2, "seed": 0, "params": {"n_iter": 250}}


@dataclass(frozen=True)
class Soak:
    """How much load: the embedding, the page loads, how many come before the first reading."""

    n: int
    dims: int
    page_loads: int
    first: int
    distinct_every: int
    repeated: tuple[dict[str, Any], ...]
    """The projections asked for again and again (computed once, at the start)."""
    clients: int = 4


FULL = Soak(n=20_000, dims=64, page_loads=2_000, first=100, distinct_every=50,
            repeated=(*PCAS, TSNE))  # fmt: skip
# A t-SNE computed at the start takes a minute when the machine is busy: PCA only.
SMOKE = Soak(n=1_000, dims=16, page_loads=60, first=20, distinct_every=30, repeated=PCAS)


def write_logdir(folder: Path, soak: Soak) -> None:
    """The embedding, with a label and a group per point."""
    from embedding_projector import projector

    vectors = blobs(soak.n, soak.dims, seed=3)
    labels = [f"point {i}" for i in range(soak.n)]
    groups = [f"group {i % 20}" for i in range(soak.n)]
    projector.save_embeddings(folder, "soak", vectors, metadata={"label": labels, "group": groups})


class PageLoads:
    """Clients doing what page loads do; see the module docstring."""

    def __init__(self, http: httpx.Client, emb: str, soak: Soak) -> None:
        self.http, self.emb, self.soak = http, emb, soak
        self.requests = self.calls = 0
        self.first_job: str | None = None
        self._distinct: str | None = None
        self._rng = np.random.default_rng(0)

    def project(self, spec: dict[str, Any]) -> dict[str, Any]:
        response = self.http.post(f"/api/embeddings/{self.emb}/projections", json=spec)
        response.raise_for_status()
        self.requests += 1
        status: dict[str, Any] = response.json()
        self.first_job = self.first_job or status["id"]
        return status

    def wait(self, job: str) -> None:
        """Until ``job`` has ended (for the projections computed once, at the start)."""
        while self.http.get(f"/api/jobs/{job}").json()["state"] not in ("done", "cancelled"):
            time.sleep(0.1)

    def load(self, i: int) -> None:
        """Page load number ``i``: one projection request, then five API calls."""
        if i % self.soak.distinct_every == self.soak.distinct_every - 1:
            job = self.project({"method": "tsne", "seed": 1_000 + i, "params": {"n_iter": 250}})
            previous, self._distinct = self._distinct, job["id"]
            if previous is not None:  # the page's settings changed: stop the previous one
                self.http.delete(f"/api/jobs/{previous}").raise_for_status()
        else:
            job = self.project(self.soak.repeated[i % len(self.soak.repeated)])
        rows = int(self._rng.integers(0, self.soak.n - 256))
        base = f"/api/embeddings/{self.emb}"
        others = [
            (f"{base}/metadata", {}),
            (f"{base}/search", {"q": f"point {rows % 97}"}),
            (f"{base}/neighbors", {"index": rows, "k": 20}),
        ]
        calls = [
            (f"/api/jobs/{job['id']}", {}),
            (f"/api/jobs/{job['id']}/result", {}),  # 409 while a distinct one computes
            (f"{base}/vectors", {"start": rows, "stop": rows + 256}),
            others[i % 3],
            others[(i + 1) % 3],
        ]
        for path, params in calls:
            response = self.http.get(path, params=params)
            assert response.status_code in (200, 409), (path, response.text)
            self.calls += 1


def soak_server(server: ServerProcess, soak: Soak) -> dict[str, Any]:
    """Run the soak against ``server``; the RSS readings and timings."""
    with client(server) as http:
        emb = http.get("/api/embeddings").json()[0]["id"]
        pages = PageLoads(http, emb, soak)
        for spec in soak.repeated:  # computed once: every later request is a cache hit
            pages.wait(pages.project(spec)["id"])
        started = time.perf_counter()
        _run(pages, range(soak.first))
        first_seconds = time.perf_counter() - started
        rss_first = server.rss_mb()
        _run(pages, range(soak.first, soak.page_loads))
        seconds = time.perf_counter() - started
        rss_after = server.rss_mb()
        expired = http.get(f"/api/jobs/{pages.first_job}")
    return {
        "seconds": seconds,
        "first_seconds": first_seconds,
        "rss_first_mb": rss_first,
        "rss_after_mb": rss_after,
        "workers_rss_mb": sum(rss_mb(worker) for worker in server.worker_pids()),
        "requests": pages.requests,
        "api_calls": pages.calls,
        "first_job_status": expired.status_code,
        "first_job_error": expired.json()["error"]["code"] if expired.is_error else "",
    }


def _run(pages: PageLoads, loads: range) -> None:
    """Page loads ``loads``, spread over the soak's clients (each with its own connection)."""
    lock = threading.Lock()

    def one_client(share: range) -> None:
        with httpx.Client(base_url=str(pages.http.base_url), timeout=120) as own:
            mine = PageLoads(own, pages.emb, pages.soak)
            for i in share:
                mine.load(i)
        with lock:
            pages.requests += mine.requests
            pages.calls += mine.calls

    clients = pages.soak.clients
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(one_client, [loads[k::clients] for k in range(clients)]))


def run(smoke: bool) -> Iterator[dict[str, Any]]:
    """One row: the server's RSS after all requests beside its RSS after the first ones."""
    soak = SMOKE if smoke else FULL
    with tempfile.TemporaryDirectory(prefix="bench-soak-") as tmp:
        logdir, cache = Path(tmp) / "logs", Path(tmp) / "cache"
        write_logdir(logdir, soak)
        load = os.getloadavg()[0]
        with running_server("--logdir", str(logdir), cache_dir=cache) as server:
            found = soak_server(server, soak)
    ratio = found["rss_after_mb"] / found["rss_first_mb"]
    yield {
        "benchmark": "soak",
        "case": f"{found['requests']:,} projection requests + {found['api_calls']:,} API calls, "
        "one server: RSS after all",
        "size": f"{soak.n:,} x {soak.dims}",
        "seconds": round(found["seconds"], 1),
        "peak_mb": round(found["rss_after_mb"]),
        "baseline": f"the same server's RSS after its first {soak.first} projection requests",
        "baseline_seconds": round(found["first_seconds"], 1),
        "baseline_peak_mb": round(found["rss_first_mb"]),
        "rss_ratio": round(ratio, 3),
        "note": f"RSS ratio {ratio:.2f} (goal <= 1.2); workers {found['workers_rss_mb']:.0f} MB; "
        f"first job afterwards: {found['first_job_status']} {found['first_job_error']}; "
        f"{soak.clients} clients; load average {load:.1f}",
        **{key: found[key] for key in ("requests", "api_calls", "first_job_status")},
    }

"""Projections, jobs and neighbours through a real server, checked against numpy."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from websockets.sync.client import connect

from tests.conftest import FIXTURES, expected
from tests.server_process import ServerProcess, client, running_server

KERAS = FIXTURES / "tf2_keras_tutorial"


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def server(cache_dir: Path) -> Iterator[ServerProcess]:
    with running_server(str(KERAS), cache_dir=cache_dir) as s:
        yield s


@pytest.fixture(scope="module")
def emb(http: httpx.Client) -> str:
    (only,) = http.get("/api/embeddings").json()
    return str(only["id"])


def project(http: httpx.Client, emb: str, **spec: Any) -> dict[str, Any]:
    response = http.post(f"/api/embeddings/{emb}/projections", json=spec)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def wait_done(http: httpx.Client, job: str, timeout: float = 180) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = http.get(f"/api/jobs/{job}").json()
        if status["state"] in ("done", "failed", "cancelled"):
            return status  # type: ignore[no-any-return]
        time.sleep(0.1)
    raise AssertionError(f"job {job} did not finish: {status}")


def layout(http: httpx.Client, job: str) -> np.ndarray:
    response = http.get(f"/api/jobs/{job}/result")
    assert response.status_code == 200, response.text
    n, d = map(int, response.headers["x-shape"].split(","))
    return np.frombuffer(response.content, "<f4").reshape(n, d)


def numpy_pca(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    centred = X.astype(np.float64) - X.mean(axis=0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    variance = s**2
    return centred @ vt.T, variance / variance.sum()


def assert_equal_up_to_sign(a: np.ndarray, b: np.ndarray) -> None:
    for j in range(a.shape[1]):
        sign = np.sign(np.dot(a[:, j], b[:, j]))
        np.testing.assert_allclose(a[:, j], sign * b[:, j], rtol=1e-3, atol=1e-4)


def test_pca_matches_numpy_and_components_need_no_recompute(http: httpx.Client, emb: str) -> None:
    X = expected("tf2_keras_tutorial")
    reference, ratios = numpy_pca(X)
    status = wait_done(http, project(http, emb, method="pca", dims=3)["id"])
    assert status["state"] == "done"
    np.testing.assert_allclose(status["explained_variance_ratio"], ratios[:10], rtol=1e-4)
    assert_equal_up_to_sign(layout(http, status["id"]).astype(np.float64), reference[:, :3])
    started = time.monotonic()
    again = project(http, emb, method="pca", dims=2, params={"components": [4, 7]})
    assert again["state"] == "done" and again["cached"]
    assert time.monotonic() - started < 1.0
    assert_equal_up_to_sign(layout(http, again["id"]).astype(np.float64), reference[:, [4, 7]])


def brute_force(X: np.ndarray, q: np.ndarray, metric: str, exclude: list[int]) -> np.ndarray:
    X64, q64 = X.astype(np.float64), q.astype(np.float64)
    if metric == "cosine":
        d = 1 - (X64 @ q64) / (np.linalg.norm(X64, axis=1) * np.linalg.norm(q64))
    else:
        d = np.linalg.norm(X64 - q64, axis=1)
    d[exclude] = np.inf
    return d


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_neighbors_equal_brute_force(http: httpx.Client, emb: str, metric: str) -> None:
    X = expected("tf2_keras_tutorial")
    for index in (0, 17, 998):
        found = http.get(
            f"/api/embeddings/{emb}/neighbors", params={"index": index, "k": 10, "metric": metric}
        ).json()
        d = brute_force(X, X[index], metric, [index])
        assert found["indices"] == np.argsort(d, kind="stable")[:10].tolist()
        np.testing.assert_allclose(found["distances"], np.sort(d)[:10], rtol=1e-6, atol=1e-9)
        assert found["distances"] == sorted(found["distances"])


def test_neighbors_of_a_centroid_and_of_a_vector(http: httpx.Client, emb: str) -> None:
    X = expected("tf2_keras_tutorial")
    rows = [3, 4, 5]
    found = http.get(
        f"/api/embeddings/{emb}/neighbors",
        params={"indices": "3,4,5", "k": 5, "metric": "euclidean"},
    ).json()
    d = brute_force(X, X[rows].mean(axis=0), "euclidean", rows)
    assert found["indices"] == np.argsort(d, kind="stable")[:5].tolist()
    vector = (X[10] * 2.5).tolist()  # cosine ignores the length; TensorBoard's bug would not
    by_vector = http.post(
        f"/api/embeddings/{emb}/neighbors", json={"vector": vector, "k": 3, "metric": "cosine"}
    ).json()
    assert by_vector["indices"][0] == 10 and by_vector["distances"][0] < 1e-6


def test_neighbor_errors_are_400(http: httpx.Client, emb: str) -> None:
    base = f"/api/embeddings/{emb}/neighbors"
    too_many = http.get(base, params={"index": 0, "k": 5000})
    assert too_many.status_code == 400 and "`k`" in too_many.json()["error"]["message"]
    bad_index = http.get(base, params={"index": 999})
    assert bad_index.status_code == 400 and "`index`" in bad_index.json()["error"]["message"]
    bad_metric = http.get(base, params={"index": 0, "metric": "manhattan"})
    assert bad_metric.status_code == 400
    wrong_length = http.post(base, json={"vector": [1.0, 2.0], "k": 3})
    assert wrong_length.status_code == 400


def test_projection_parameter_errors_are_400(http: httpx.Client, emb: str) -> None:
    base = f"/api/embeddings/{emb}/projections"
    cases = [
        ({"method": "tsne", "params": {"perplexity": 5000}}, "perplexity"),
        ({"method": "umap", "params": {"n_neighbors": 2}}, "n_neighbors"),
        ({"method": "umap", "params": {"min_dist": 1.5}}, "min_dist"),
        ({"method": "pca", "dims": 4}, "dims"),
        ({"method": "lda"}, "method"),
        ({"method": "tsne", "params": {"supervise_column": "nope"}}, "supervise_column"),
    ]
    for spec, word in cases:
        response = http.post(base, json=spec)
        assert response.status_code == 400, (spec, response.text)
        assert word in response.json()["error"]["message"]


def test_custom_projection_matches_a_hand_computation(http: httpx.Client, emb: str) -> None:
    X = expected("tf2_keras_tutorial").astype(np.float64)
    labels = [f"tok_{i + 1}" for i in range(999)]

    def rows(pattern: str) -> list[int]:
        import re

        return [i for i, label in enumerate(labels) if re.search(pattern, label, re.IGNORECASE)]

    body = {
        "left": {"text": "^tok_1\\d$", "regex": True},
        "right": {"text": "tok_99"},
        "up": {"text": "tok_5"},
        "down": {"text": "^tok_2$", "regex": True},
    }
    response = http.post(f"/api/embeddings/{emb}/custom-projection", json=body)
    assert response.status_code == 200, response.text
    coords = np.frombuffer(response.content, "<f4").reshape(999, 2)
    x_axis = X[rows("tok_99")].mean(0) - X[rows(r"^tok_1\d$")].mean(0)
    y_axis = X[rows("tok_5")].mean(0) - X[rows(r"^tok_2$")].mean(0)
    np.testing.assert_allclose(coords, np.stack([X @ x_axis, X @ y_axis], 1), rtol=1e-4, atol=1e-5)
    nothing = http.post(
        f"/api/embeddings/{emb}/custom-projection", json={**body, "up": {"text": "no such label"}}
    )
    assert nothing.status_code == 400 and "up" in nothing.json()["error"]["message"]


def test_tsne_streams_layouts_then_a_second_run_is_a_cache_hit(
    server: ServerProcess, http: httpx.Client, emb: str
) -> None:
    job = project(
        http, emb, method="tsne", dims=2, seed=7, params={"perplexity": 20, "n_iter": 300}
    )["id"]
    ws_url = server.base.replace("http://", "ws://") + f"/api/jobs/{job}/stream"
    iterations, layouts, states = [], 0, []
    with connect(ws_url, open_timeout=30) as ws:
        expect_binary = False
        for frame in ws:
            if isinstance(frame, bytes):
                assert expect_binary
                assert np.frombuffer(frame, "<f4").shape == (999 * 2,)
                layouts += 1
                expect_binary = False
                continue
            message = json.loads(frame)
            if message["type"] == "layout":
                assert message["shape"] == [999, 2]
                expect_binary = True
            else:
                states.append(message["state"])
                if message["iteration"] is not None:
                    iterations.append(message["iteration"])
    assert states[-1] == "done"
    assert layouts >= 2 and iterations == sorted(iterations) and iterations[-1] > 0
    first = http.get(f"/api/jobs/{job}/result").content
    started = time.monotonic()
    again = project(
        http, emb, method="tsne", dims=2, seed=7, params={"perplexity": 20, "n_iter": 300}
    )
    assert again["state"] == "done" and again["cached"] and time.monotonic() - started < 1.0
    assert http.get(f"/api/jobs/{again['id']}/result").content == first


def test_cancel_a_running_tsne(http: httpx.Client, emb: str) -> None:
    spec = {"method": "tsne", "dims": 3, "seed": 1, "params": {"n_iter": 5000}}
    job = project(http, emb, **spec)["id"]
    deadline = time.monotonic() + 60
    while (http.get(f"/api/jobs/{job}").json()["iteration"] or 0) < 20:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert http.get(f"/api/jobs/{job}/result").status_code == 409  # running: no result yet
    started = time.monotonic()
    cancelled = http.delete(f"/api/jobs/{job}")
    assert cancelled.status_code == 200
    assert cancelled.json()["state"] == "cancelling"  # not "running" any more
    assert http.get(f"/api/jobs/{job}").json()["state"] in ("cancelling", "cancelled")
    assert wait_done(http, job, timeout=5)["state"] == "cancelled"
    assert time.monotonic() - started < 1.0
    partial = layout(http, job)  # the layout it had reached
    assert partial.shape == (999, 3) and np.isfinite(partial).all()
    # The same request again computes afresh (it does not follow the cancelled job).
    again = project(http, emb, **spec)
    assert again["id"] != job and again["state"] in ("queued", "running")
    http.delete(f"/api/jobs/{again['id']}")


def test_health_stays_fast_while_clients_fetch_and_jobs_run(
    http: httpx.Client, emb: str, server: ServerProcess
) -> None:
    # One worker runs a t-SNE, the other a UMAP.
    jobs = [
        project(http, emb, method="tsne", dims=2, seed=3, params={"n_iter": 2000})["id"],
        project(http, emb, method="umap", dims=3, seed=3, params={"n_neighbors": 30})["id"],
    ]
    want = expected("tf2_keras_tutorial").astype("<f4").tobytes()
    latencies: list[float] = []
    stop = threading.Event()

    def probe() -> None:
        with client(server) as own:
            while not stop.is_set():
                started = time.monotonic()
                assert own.get("/api/health").status_code == 200
                latencies.append(time.monotonic() - started)
                time.sleep(0.02)

    def fetch(_: int) -> bytes:
        with client(server) as own:
            return own.get(f"/api/embeddings/{emb}/vectors").content

    prober = threading.Thread(target=probe)
    prober.start()
    with ThreadPoolExecutor(20) as pool:
        bodies = list(pool.map(fetch, range(20)))
    time.sleep(1.0)
    stop.set()
    prober.join()
    for job in jobs:
        http.delete(f"/api/jobs/{job}")
    assert all(body == want for body in bodies)
    assert len(latencies) >= 10
    assert float(np.median(latencies)) < 0.05, latencies


def test_a_dead_worker_fails_its_job_and_the_server_goes_on(
    http: httpx.Client, emb: str, server: ServerProcess
) -> None:
    job = project(http, emb, method="tsne", dims=2, seed=5, params={"n_iter": 5000})["id"]
    deadline = time.monotonic() + 60
    while http.get(f"/api/jobs/{job}").json()["state"] != "running" and time.monotonic() < deadline:
        time.sleep(0.05)
    for pid in server.worker_pids():
        os.kill(pid, signal.SIGKILL)
    status = wait_done(http, job, timeout=30)
    assert status["state"] == "failed" and "worker process died" in status["error"]
    assert http.get("/api/health").json() == {"status": "ok"}
    again = wait_done(http, project(http, emb, method="pca", dims=2, seed=9)["id"])
    assert again["state"] == "done"


def test_results_survive_a_restart(cache_dir: Path) -> None:
    spec = {"method": "tsne", "dims": 2, "seed": 4, "params": {"perplexity": 10, "n_iter": 250}}
    results = []
    for _ in range(2):
        with running_server(str(KERAS), cache_dir=cache_dir) as server, client(server) as http:
            emb = http.get("/api/embeddings").json()[0]["id"]
            status = project(http, emb, **spec)
            if results:
                assert status["state"] == "done" and status["cached"]
            status = wait_done(http, status["id"])
            results.append(http.get(f"/api/jobs/{status['id']}/result").content)
    assert results[0] == results[1]

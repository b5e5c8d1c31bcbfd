"""``projector --dask local:2``: a real server whose projections and neighbours run on Dask."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from embedding_projector.compute import knn, pca
from tests.server_process import ServerProcess, client, running_server
from tests.test_server_compute import assert_equal_up_to_sign, layout, project, wait_done

N, D = 20_000, 32


@pytest.fixture(scope="module")
def vectors_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from sklearn.datasets import make_blobs

    X, _ = make_blobs(n_samples=N, n_features=D, centers=10, cluster_std=4.0, random_state=1)
    path = tmp_path_factory.mktemp("data") / "blobs.npy"
    np.save(path, X.astype(np.float32))
    return path


@pytest.fixture(scope="module")
def server(vectors_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    cache = tmp_path_factory.mktemp("cache")
    with running_server(str(vectors_path), "--dask", "local:2", cache_dir=cache, timeout=180) as s:
        yield s


@pytest.fixture(scope="module")
def emb(http: httpx.Client) -> str:
    (only,) = http.get("/api/embeddings").json()
    return str(only["id"])


def test_the_server_says_where_it_computes_and_serves_the_page(
    server: ServerProcess, http: httpx.Client
) -> None:
    assert "Dask cluster at tcp://127.0.0.1:" in server.output
    assert ": 2 workers" in server.output
    page = http.get("/")
    assert page.status_code == 200 and "<script" in page.text
    assert http.get("/api/config").json()["cluster"] is True  # the page offers stop only


def test_pca_on_the_cluster_equals_pca_here(
    http: httpx.Client, emb: str, vectors_path: Path
) -> None:
    job = project(http, emb, method="pca", dims=3)
    status = wait_done(http, job["id"], timeout=300)
    assert status["state"] == "done", status
    expected = pca.run(np.load(vectors_path))
    assert_equal_up_to_sign(layout(http, job["id"]), expected.coordinates[:, :3])
    np.testing.assert_allclose(
        status["explained_variance_ratio"], expected.explained_variance_ratio, rtol=1e-5
    )
    again = project(http, emb, method="pca", dims=2, params={"components": [2, 0]})
    assert again["state"] == "done" and again["cached"]


def test_neighbours_on_the_cluster_equal_an_index_here(
    http: httpx.Client, emb: str, vectors_path: Path
) -> None:
    index = knn.build(np.load(vectors_path))
    for metric in ("cosine", "euclidean"):
        got = http.get(
            f"/api/embeddings/{emb}/neighbors", params={"index": 42, "k": 25, "metric": metric}
        )
        assert got.status_code == 200, got.text
        expected = index.query(index=42, k=25, metric=metric)
        assert got.json()["indices"] == expected.indices.tolist()
        np.testing.assert_allclose(got.json()["distances"], expected.distances, rtol=1e-12)


def test_a_sampled_tsne_on_the_cluster(http: httpx.Client, emb: str) -> None:
    job = project(http, emb, method="tsne", seed=0, params={"sample": 1_000, "n_iter": 250})
    status = wait_done(http, job["id"], timeout=900)
    assert status["state"] == "done", status
    result = layout(http, job["id"])
    assert result.shape == (N, 2) and np.isfinite(result).all()
    paused = http.post(f"/api/jobs/{job['id']}/pause")
    assert paused.status_code == 409


def test_an_unreachable_scheduler_is_one_line_and_exit_1(vectors_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "embedding_projector", str(vectors_path), "--no-browser",
         "--port", "0", "--dask", "tcp://127.0.0.1:9"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: cannot reach the Dask scheduler at tcp://127.0.0.1:9")
    assert "Embedding Projector at" not in done.stdout


def test_without_the_extra_the_dask_option_gives_the_install_command(vectors_path: Path) -> None:
    script = (
        "import sys\n"
        "sys.modules['dask'] = sys.modules['distributed'] = None  # as if not installed\n"
        "from embedding_projector.cli import main\n"
        "main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(vectors_path), "--no-browser", "--dask", "local"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.strip() == (
        "error: --dask needs Dask, which is not installed: pip install 'embedding-projector[dask]'"
    )


def test_without_dask_nothing_imports_it() -> None:
    script = (
        "import sys\n"
        "import embedding_projector, embedding_projector.cli, embedding_projector.notebook\n"
        "from embedding_projector.server.app import create_app\n"
        "from embedding_projector.server.engine import ComputeEngine\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.stdout.strip() == "[]", done.stderr


@pytest.fixture(scope="module")
def http(server: ServerProcess) -> Iterator[httpx.Client]:
    with client(server) as c:
        yield c

"""Faithfulness and clusters of layouts, through a real server on the digits demo.

The words demo's cluster names are tested on the compute function (tests/compute/test_clusters.py):
building that demo and its t-SNE behind a server takes minutes on a loaded machine.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pyarrow as pa
import pytest
from sklearn.metrics import adjusted_rand_score

from embedding_projector.compute.faithfulness import faithfulness
from embedding_projector.demos import prepare_demo
from tests.server_process import client, running_server
from tests.test_server_compute import project, wait_done

# Each test waits for a t-SNE or HDBSCAN in the server's workers (and the first builds the demo):
# a minute on an idle machine, several on one shared with other jobs.
pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="module")
def demos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A log dir holding the digits demo."""
    cache = tmp_path_factory.mktemp("demos")
    root = cache / "logs"
    # Copied: the server follows no link out of its folder.
    shutil.copytree(prepare_demo("digits", cache_dir=cache), root / "digits")
    return root


@pytest.fixture(scope="module")
def http(demos: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    with (
        running_server(str(demos), cache_dir=tmp_path_factory.mktemp("cache")) as server,
        client(server) as http,
    ):
        yield http


def embedding_of(http: httpx.Client, run: str) -> dict[str, Any]:
    (found,) = [e for e in http.get("/api/embeddings").json() if e["run"] == run]
    return found  # type: ignore[no-any-return]


def finished(http: httpx.Client, status: dict[str, Any]) -> dict[str, Any]:
    status = wait_done(http, status["id"], timeout=300)
    assert status["state"] == "done", status
    return status


def metadata(http: httpx.Client, emb: str, column: str) -> np.ndarray:
    response = http.get(f"/api/embeddings/{emb}/metadata")
    table = pa.ipc.open_stream(response.content).read_all()
    return np.array(table.column(column).to_pylist())


def result(http: httpx.Client, job: str) -> np.ndarray:
    return binary(http, f"/api/jobs/{job}/result")


def binary(http: httpx.Client, url: str) -> np.ndarray:
    response = http.get(url)
    assert response.status_code == 200, response.text
    dtype = {"float32": "<f4", "int32": "<i4"}[response.headers["x-dtype"]]
    shape = tuple(map(int, response.headers["x-shape"].split(",")))
    return np.frombuffer(response.content, dtype).reshape(shape)


def layout_job(http: httpx.Client, emb: str, method: str) -> str:
    status = finished(http, project(http, emb, method=method, dims=2))
    return str(status["id"])


def test_digits_tsne_keeps_more_neighbours_than_pca(http: httpx.Client) -> None:
    emb = embedding_of(http, "digits")["id"]
    figures = {}
    for method in ("pca", "tsne"):
        job = layout_job(http, emb, method)
        body = {"job": job, "k": 5, "metric": "euclidean"}
        response = http.post(f"/api/embeddings/{emb}/faithfulness", json=body)
        assert response.status_code == 200, response.text
        status = finished(http, response.json())
        assert status["method"] == "faithfulness"
        per_point = result(http, status["id"])
        summary = status["summary"]
        assert per_point.shape == (1797,) and per_point.dtype == np.float32
        assert summary["k"] == 5
        assert summary["mean"] == pytest.approx(float(per_point.mean(dtype=np.float64)), abs=1e-6)
        assert summary["below"] == pytest.approx(float(np.mean(per_point * 5 < 1.5)))
        figures[method] = (per_point, result(http, job))
        # The same request again is the cache's.
        again = http.post(f"/api/embeddings/{emb}/faithfulness", json=body).json()
        assert again["state"] == "done" and again["cached"]
    assert figures["tsne"][0].mean() > figures["pca"][0].mean() + 0.3
    # The server's figures are the compute function's on the same vectors and layout.
    vectors = binary(http, f"/api/embeddings/{emb}/vectors")
    direct = faithfulness(vectors, figures["tsne"][1], k=5, metric="euclidean")
    np.testing.assert_array_equal(direct.per_point, figures["tsne"][0])


def test_faithfulness_of_too_few_points_is_a_400(http: httpx.Client) -> None:
    emb = embedding_of(http, "digits")["id"]
    job = layout_job(http, emb, "pca")
    response = http.post(f"/api/embeddings/{emb}/faithfulness", json={"job": job, "k": 1797})
    assert response.status_code == 400
    assert "at least 1798 points" in response.json()["error"]["message"]
    response = http.post(f"/api/embeddings/{emb}/faithfulness", json={})
    assert response.status_code == 400


def test_digits_tsne_clusters_are_the_digits(http: httpx.Client) -> None:
    info = embedding_of(http, "digits")
    emb = info["id"]
    job = layout_job(http, emb, "tsne")
    body = {"job": job, "name_column": "digit"}
    response = http.post(f"/api/embeddings/{emb}/clusters", json=body)
    assert response.status_code == 200, response.text
    status = finished(http, response.json())
    labels = result(http, status["id"])
    assert labels.dtype == np.int32 and labels.shape == (1797,)
    digits = metadata(http, emb, "digit").astype(int)
    assert adjusted_rand_score(digits, labels) >= 0.8
    summary = status["summary"]
    assert len(summary["names"]) == labels.max() + 1 == len(summary["sizes"])
    # Named by the majority digit and its share, e.g. "3 (97 %)".
    for c, name in enumerate(summary["names"]):
        majority = np.bincount(digits[labels == c]).argmax()
        assert name.startswith(f"{majority} ("), name


def test_all_noise_says_what_to_change(http: httpx.Client) -> None:
    emb = embedding_of(http, "digits")["id"]
    job = layout_job(http, emb, "pca")
    body = {"job": job, "min_cluster_size": 1797}
    status = wait_done(http, http.post(f"/api/embeddings/{emb}/clusters", json=body).json()["id"])
    assert status["state"] == "failed"
    assert "all 1,797 points are noise" in status["error"]
    assert "try a smaller one" in status["error"]


def test_faithfulness_and_clusters_of_a_custom_layout(http: httpx.Client) -> None:
    emb = embedding_of(http, "digits")["id"]
    custom = {
        end: {"column": "digit", "text": f"^{digit}$", "regex": True}
        for end, digit in (("left", 0), ("right", 1), ("up", 2), ("down", 3))
    }
    layout = http.post(f"/api/embeddings/{emb}/custom-projection", json=custom)
    assert layout.status_code == 200, layout.text
    positions = np.frombuffer(layout.content, "<f4").reshape(-1, 2)
    status = finished(
        http, http.post(f"/api/embeddings/{emb}/faithfulness", json={"custom": custom}).json()
    )
    vectors = binary(http, f"/api/embeddings/{emb}/vectors")
    direct = faithfulness(vectors, positions, k=10, metric="cosine")
    np.testing.assert_array_equal(result(http, status["id"]), direct.per_point)
    assert status["summary"]["mean"] == pytest.approx(direct.mean)
    both = {"custom": custom, "job": "x"}
    assert http.post(f"/api/embeddings/{emb}/clusters", json=both).status_code == 400

"""Comparing two embeddings through a real server: pairing, the overlap job, bad pairs."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from embedding_projector.compute import knn
from embedding_projector.projector import save_embeddings
from tests.compute.knn_data import brute_force
from tests.compute.test_overlap import brute_force_overlap
from tests.conftest import writable_copy
from tests.test_steps import TIMELINE, expected

N = 300
WORDS = [f"word{i:03d}" for i in range(N)]
ORDER = np.random.default_rng(7).permutation(N)


def vectors() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    A = rng.normal(size=(N, 12)).astype(np.float32)
    B = (A @ rng.normal(size=(12, 20)) + rng.normal(scale=2.0, size=(N, 20))).astype(np.float32)
    return A, B


@pytest.fixture(scope="module")
def logdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``before`` and ``after`` (its rows shuffled, paired by the `word` labels); ``plain``
    and ``fewer`` without metadata, 300 and 250 rows; ``others`` with other words; and
    PyTorch's ``add_embedding`` steps (``words``: 4 steps of 200 rows; ``growing``: 3 steps,
    100 rows first, 120 last)."""
    root = tmp_path_factory.mktemp("logs")
    writable_copy(TIMELINE / "torch_add_embedding_steps", root / "steps")
    A, B = vectors()
    save_embeddings(root, "before", A, metadata={"word": WORDS, "n": list(range(N))})
    shuffled = {"word": [WORDS[i] for i in ORDER], "kind": ["noun"] * N}
    save_embeddings(root, "after", B[ORDER], metadata=shuffled)
    save_embeddings(root, "plain", B)
    save_embeddings(root, "fewer", B[:250])
    others = {"word": [f"other{i}" for i in range(N)], "kind": ["noun"] * N}
    save_embeddings(root, "others", B, metadata=others)
    return root


@pytest.fixture(scope="module")
def ids(http: httpx.Client) -> dict[str, str]:
    return {e["name"]: e["id"] for e in http.get("/api/embeddings").json()}


def finished(http: httpx.Client, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        status: dict[str, Any] = http.get(f"/api/jobs/{job_id}").json()
        if status["state"] in ("done", "failed", "cancelled"):
            return status
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish")


def overlap_of(http: httpx.Client, body: dict[str, Any]) -> tuple[dict[str, Any], np.ndarray]:
    response = http.post("/api/compare", json=body)
    assert response.status_code == 200, response.text
    started = response.json()
    status = finished(http, started["job"]["id"])
    assert status["state"] == "done" and status["method"] == "overlap", status
    result = http.get(f"/api/jobs/{status['id']}/result")
    assert result.headers["x-shape"] == f"{started['rows']},1"
    return started, np.frombuffer(result.content, "<f4")


def test_overlap_of_rows_paired_by_labels_equals_brute_force(
    http: httpx.Client, ids: dict[str, str]
) -> None:
    body = {"a": {"embedding": ids["before"]}, "b": {"embedding": ids["after"]}, "k": 7}
    started, found = overlap_of(http, body)
    assert started["aligned_by"] == "word" and started["rows"] == N
    assert started["a"] == {"embedding": ids["before"], "step": None}
    A, B = vectors()
    np.testing.assert_allclose(found, brute_force_overlap(A, B, 7, "cosine"), rtol=1e-6)
    assert 0 < found.mean() < 1

    alignment = http.post("/api/compare/alignment", json={"a": body["a"], "b": body["b"]})
    assert alignment.status_code == 200 and alignment.headers["x-shape"] == str(N)
    order = np.frombuffer(alignment.content, "<i4")
    np.testing.assert_array_equal(ORDER[order], np.arange(N))  # row i of a is b's order[i]

    again = http.post("/api/compare", json=body).json()
    assert again["job"]["state"] == "done" and again["job"]["cached"]


def test_rows_without_labels_pair_by_position(http: httpx.Client, ids: dict[str, str]) -> None:
    body = {"a": {"embedding": ids["before"]}, "b": {"embedding": ids["plain"]}}
    started, found = overlap_of(http, {**body, "k": 5, "metric": "euclidean"})
    assert started["aligned_by"] is None
    A, B = vectors()
    np.testing.assert_allclose(found, brute_force_overlap(A, B, 5, "euclidean"), rtol=1e-6)
    order = np.frombuffer(http.post("/api/compare/alignment", json=body).content, "<i4")
    np.testing.assert_array_equal(order, np.arange(N))


@pytest.mark.parametrize(
    ("b", "message"),
    [
        (
            "fewer",
            "before has 300 rows and fewer has 250: they are not the same items, and no "
            "metadata column of unique labels is in both to pair them by",
        ),
        ("others", "before and others are not the same items: by their unique labels in `word`"),
    ],
)
def test_rows_that_are_not_the_same_items_are_refused(
    http: httpx.Client, ids: dict[str, str], b: str, message: str
) -> None:
    body = {"a": {"embedding": ids["before"]}, "b": {"embedding": ids[b]}}
    for route in ("/api/compare", "/api/compare/alignment"):
        response = http.post(route, json=body)
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["code"] == "rows_differ"
        assert error["message"].startswith(message)


def test_bad_requests_are_4xx(http: httpx.Client, ids: dict[str, str]) -> None:
    side = {"embedding": ids["before"]}
    cases = [
        ({"a": side, "b": side, "k": 0}, 400, "`k`"),
        ({"a": side, "b": side, "k": N}, 400, "`k`"),
        ({"a": side, "b": {"embedding": "nope"}}, 404, "nope"),
        ({"a": side, "b": {"embedding": ids["plain"], "step": 3}}, 404, "steps"),
        ({"a": side, "b": side, "extra": 1}, 400, "extra"),
    ]
    for body, status, text in cases:
        response = http.post("/api/compare", json=body)
        assert response.status_code == status, (body, response.text)
        assert text in response.json()["error"]["message"]


def test_two_steps_of_an_embedding(http: httpx.Client, ids: dict[str, str]) -> None:
    words = ids["words"]
    body = {"a": {"embedding": words, "step": 0}, "b": {"embedding": words, "step": 3}, "k": 10}
    started, found = overlap_of(http, body)
    assert started["rows"] == 200
    first = expected("torch_add_embedding_steps", "words:00000")
    last = expected("torch_add_embedding_steps", "words:00300")
    np.testing.assert_allclose(found, brute_force_overlap(first, last, 10, "cosine"), rtol=1e-6)


def test_steps_of_different_sizes_are_refused(http: httpx.Client, ids: dict[str, str]) -> None:
    growing = ids["growing"]
    body = {"a": {"embedding": growing, "step": 0}, "b": {"embedding": growing}}
    response = http.post("/api/compare", json=body)
    assert response.status_code == 400
    assert response.json()["error"]["message"] == (
        "steps/growing (growing:00000) has 100 rows and steps/growing has 120: they are not "
        "the same items, and no metadata column of unique labels is in both to pair them by"
    )


def test_the_other_side_at_a_step_is_projected_and_searched_in_that_step(
    http: httpx.Client, ids: dict[str, str]
) -> None:
    """What the compare view asks of its second side when it is an earlier step: its
    projection (``?step=`` on the projections route) and its neighbours (on both
    neighbours routes), computed from that step's vectors."""
    words = ids["words"]
    first = expected("torch_add_embedding_steps", "words:00000")

    def pca(query: str) -> np.ndarray:
        response = http.post(f"/api/embeddings/{words}/projections{query}", json={"method": "pca"})
        assert response.status_code == 200, response.text
        assert finished(http, response.json()["id"])["state"] == "done"
        result = http.get(f"/api/jobs/{response.json()['id']}/result")
        return np.frombuffer(result.content, "<f4").reshape(200, -1)

    oldest, latest, own = pca("?step=0"), pca("?step=3"), pca("")
    np.testing.assert_array_equal(latest, own)  # the last step is the embedding's own vectors
    assert not np.allclose(oldest, own, atol=1e-3)
    centred = first.astype(np.float64) - first.mean(axis=0)
    axes = np.linalg.svd(centred, full_matrices=False)[2][:2]
    # The step's own two principal axes (up to their signs), not the last step's.
    np.testing.assert_allclose(np.abs(oldest), np.abs(centred @ axes.T), atol=1e-3)

    expected_rows, _ = brute_force(first, first[5], "cosine", 10, [5])
    found = http.get(f"/api/embeddings/{words}/neighbors?index=5&k=10&step=0").json()
    assert found["indices"] == expected_rows.tolist()
    of_both = knn.build(first, spherize=False).query(indices=[5, 6], k=10, metric="cosine")
    body = {"indices": [5, 6], "k": 10}
    found = http.post(f"/api/embeddings/{words}/neighbors?step=0", json=body).json()
    assert found["indices"] == of_both.indices.tolist()
    default = http.get(f"/api/embeddings/{words}/neighbors?index=5&k=10").json()
    assert (
        default["indices"]
        != http.get(f"/api/embeddings/{words}/neighbors?index=5&k=10&step=0").json()["indices"]
    )

    for query in ("?step=9", "?step=-1"):
        response = http.post(f"/api/embeddings/{words}/projections{query}", json={"method": "pca"})
        assert response.status_code == 404 and "has 4 steps" in response.json()["error"]["message"]
    response = http.get(f"/api/embeddings/{words}/neighbors?index=5&step=4")
    assert response.status_code == 404

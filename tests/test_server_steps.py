"""The steps routes of a real server on the timeline fixtures, one step of them damaged."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from tests.test_steps import damaged_timeline, expected


@pytest.fixture(scope="module")
def logdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The timelines, with ckpt-5's data corrupt and ckpt-6 deleted (still in the state file)."""
    return damaged_timeline(tmp_path_factory.mktemp("logs"))


@pytest.fixture(scope="module")
def listing(http: httpx.Client) -> dict[tuple[str, str], dict[str, Any]]:
    return {(e["run"], e["name"]): e for e in http.get("/api/embeddings").json()}


def steps_of(http: httpx.Client, emb_id: str) -> dict[str, Any]:
    response = http.get(f"/api/embeddings/{emb_id}/steps")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_listing_counts_steps(listing: dict[tuple[str, str], dict[str, Any]]) -> None:
    counts = {key: e["steps"] for key, e in listing.items()}
    assert counts == {
        ("tensorboardx_add_embedding_steps", "words"): 4,
        ("tf2_checkpoint_manager", "embedding"): 5,
        ("tf2_resized", "embedding"): 3,
        ("torch_add_embedding_steps", "words"): 4,
        ("torch_add_embedding_steps", "growing"): 3,
    }


def test_steps_of_an_add_embedding_run(
    http: httpx.Client, listing: dict[tuple[str, str], dict[str, Any]]
) -> None:
    emb_id = listing[("torch_add_embedding_steps", "words")]["id"]
    body = steps_of(http, emb_id)
    assert body["embedding"] == emb_id and body["default"] == 3
    assert body["steps"][1] == {
        "index": 1,
        "step": 100,
        "label": "words:00100",
        "file": "torch_add_embedding_steps/00100/words/tensors.tsv",
        "shape": [200, 16],
        "dtype": "float32",
        "default": False,
        "available": True,
        "alignable": True,
        "message": None,
    }
    for step in body["steps"]:
        response = http.get(f"/api/embeddings/{emb_id}/steps/{step['index']}/vectors")
        assert response.status_code == 200
        assert response.headers["x-shape"] == "200,16"
        assert response.headers["content-type"] == "application/octet-stream"
        vectors = np.frombuffer(response.content, "<f4").reshape(200, 16)
        np.testing.assert_array_equal(vectors, expected("torch_add_embedding_steps", step["label"]))


def test_byte_ranges_of_a_step(
    http: httpx.Client, listing: dict[tuple[str, str], dict[str, Any]]
) -> None:
    emb_id = listing[("tf2_checkpoint_manager", "embedding")]["id"]
    response = http.get(
        f"/api/embeddings/{emb_id}/steps/0/vectors", headers={"Range": "bytes=64-127"}
    )
    assert response.status_code == 206
    assert response.headers["content-range"] == f"bytes 64-127/{299 * 16 * 4}"
    np.testing.assert_array_equal(
        np.frombuffer(response.content, "<f4"), expected("tf2_checkpoint_manager", "ckpt-3")[1]
    )


def test_mismatched_steps_are_flagged(
    http: httpx.Client, listing: dict[tuple[str, str], dict[str, Any]]
) -> None:
    body = steps_of(http, listing[("tf2_resized", "embedding")]["id"])
    assert [s["shape"] for s in body["steps"]] == [[50, 8], [60, 4], [60, 8]]
    assert [s["alignable"] for s in body["steps"]] == [False, False, True]
    assert "its rows are not the same points" in body["steps"][0]["message"]
    assert "share no axes" in body["steps"][1]["message"]


def test_damaged_steps_answer_their_reader_error(
    http: httpx.Client, listing: dict[tuple[str, str], dict[str, Any]]
) -> None:
    emb_id = listing[("tf2_checkpoint_manager", "embedding")]["id"]
    before = steps_of(http, emb_id)["steps"]
    assert [s["label"] for s in before] == ["ckpt-3", "ckpt-4", "ckpt-5", "ckpt-6", "ckpt-7"]
    assert [s["available"] for s in before] == [True, True, True, False, True]
    assert before[3]["shape"] is None and "ckpt-6.index does not exist" in before[3]["message"]

    missing = http.get(f"/api/embeddings/{emb_id}/steps/3/vectors")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    assert "lists checkpoint ckpt-6" in missing.json()["error"]["message"]

    corrupt = http.get(f"/api/embeddings/{emb_id}/steps/2/vectors")
    assert corrupt.status_code == 422
    error = corrupt.json()["error"]
    assert error["code"] == "checksum_mismatch" and "fails its CRC32C check" in error["message"]
    after = steps_of(http, emb_id)["steps"]
    assert not after[2]["available"] and after[2]["message"] == error["message"]
    # The others still load, the embedding's own vectors (ckpt-7) too.
    latest = http.get(f"/api/embeddings/{emb_id}/vectors")
    np.testing.assert_array_equal(
        np.frombuffer(latest.content, "<f4").reshape(299, 16),
        expected("tf2_checkpoint_manager", "ckpt-7"),
    )


@pytest.mark.parametrize("index", ["5", "-1", "99999999999999999999", "x"])
def test_unknown_step(
    http: httpx.Client, listing: dict[tuple[str, str], dict[str, Any]], index: str
) -> None:
    emb_id = listing[("tf2_checkpoint_manager", "embedding")]["id"]
    response = http.get(f"/api/embeddings/{emb_id}/steps/{index}/vectors")
    assert response.status_code in (400, 404)
    assert set(response.json()["error"]) == {"code", "message", "detail"}


def test_unknown_embedding(http: httpx.Client) -> None:
    response = http.get("/api/embeddings/nope/steps")
    assert response.status_code == 404
    assert "GET /api/embeddings lists them" in response.json()["error"]["message"]

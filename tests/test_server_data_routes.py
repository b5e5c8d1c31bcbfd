"""Data routes of a real server on the fixtures: vectors, metadata, sprite, search, bookmarks."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import numpy as np
import pyarrow as pa
import pytest

import embedding_projector
from tests.conftest import FIXTURES, expected, writable_copy
from tests.server_process import client, running_server


@pytest.fixture(scope="module")
def logdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A writable copy of the fixtures (bookmarks are saved beside the data)."""
    root = tmp_path_factory.mktemp("logs")
    writable_copy(FIXTURES, root)
    return root


@pytest.fixture(scope="module")
def ids(http: httpx.Client) -> dict[tuple[str, str], str]:
    return {(e["run"], e["name"]): e["id"] for e in http.get("/api/embeddings").json()}


def error_of(response: httpx.Response) -> dict[str, object]:
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "detail"}
    return body["error"]  # type: ignore[no-any-return]


def test_health(http: httpx.Client) -> None:
    assert http.get("/api/health").json() == {"status": "ok"}


def test_listing(http: httpx.Client) -> None:
    listing = {(e["run"], e["name"]): e for e in http.get("/api/embeddings").json()}
    words = listing[("tf2_two_embeddings_sprite", "word_vectors")]
    assert words["shape"] == [100, 32] and words["dtype"] == "float32"
    assert words["has_sprite"] and words["sprite"]["single_image_dim"] == [16, 16]
    assert {"name": "class", "kind": "categorical", "distinct": 5} in words["columns"]
    assert words["bookmarks"] == 1
    docs = listing[("tf2_two_embeddings_sprite", "doc_vectors")]
    assert docs["dtype"] == "float64"
    mismatch = listing[("metadata_row_mismatch", "emb")]
    assert "Number of tensors (15) do not match" in mismatch["warnings"][0]
    runs = {r["name"]: r for r in http.get("/api/runs").json()}
    assert "line 2 has 2 values" in runs["tensor_tsv_ragged"]["warnings"][0]


@pytest.mark.parametrize(
    ("run", "name", "expected_name"),
    [
        ("tf2_keras_tutorial", "embedding", "tf2_keras_tutorial"),
        (
            "tf2_two_embeddings_sprite",
            "doc_vectors",
            "tf2_two_embeddings_sprite__doc_vectors_as_served_float32",
        ),
        ("tf2_sharded", "emb_a", "tf2_sharded__emb_a"),
        ("torch_add_embedding", "words:00000", "torch_add_embedding__words"),
        ("tensor_bytes", "bytes_vectors", "tensor_bytes__bytes_vectors"),
    ],
)
def test_vectors_are_float32_bytes(
    http: httpx.Client, ids: dict[tuple[str, str], str], run: str, name: str, expected_name: str
) -> None:
    response = http.get(f"/api/embeddings/{ids[(run, name)]}/vectors")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/octet-stream"
    want = expected(expected_name).astype("<f4")
    assert response.headers["x-shape"] == f"{want.shape[0]},{want.shape[1]}"
    np.testing.assert_array_equal(np.frombuffer(response.content, "<f4").reshape(want.shape), want)


def test_vector_rows_and_byte_ranges(http: httpx.Client, ids: dict[tuple[str, str], str]) -> None:
    emb = ids[("tf2_keras_tutorial", "embedding")]
    want = expected("tf2_keras_tutorial")
    rows = http.get(f"/api/embeddings/{emb}/vectors", params={"start": 10, "stop": 20})
    assert rows.headers["x-shape"] == "10,16"
    np.testing.assert_array_equal(np.frombuffer(rows.content, "<f4").reshape(10, 16), want[10:20])
    part = http.get(f"/api/embeddings/{emb}/vectors", headers={"Range": "bytes=64-127"})
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 64-127/{want.nbytes}"
    np.testing.assert_array_equal(np.frombuffer(part.content, "<f4"), want[1])
    outside = http.get(f"/api/embeddings/{emb}/vectors", headers={"Range": f"bytes={want.nbytes}-"})
    assert outside.status_code == 416
    bad_rows = http.get(f"/api/embeddings/{emb}/vectors", params={"start": 5, "stop": 2})
    assert bad_rows.status_code == 400 and "not within 0..999" in str(error_of(bad_rows)["message"])


def test_unknown_embedding_is_a_json_404(http: httpx.Client) -> None:
    response = http.get("/api/embeddings/nope/vectors")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"
    assert http.get("/api/nothing-here").status_code == 404


def test_metadata_is_an_arrow_stream(http: httpx.Client, ids: dict[tuple[str, str], str]) -> None:
    response = http.get(
        f"/api/embeddings/{ids[('tf2_two_embeddings_sprite', 'word_vectors')]}/metadata"
    )
    assert response.headers["content-type"] == "application/vnd.apache.arrow.stream"
    table = pa.ipc.open_stream(response.content).read_all()
    ws = embedding_projector.open(FIXTURES / "tf2_two_embeddings_sprite")
    # Text columns come dictionary-encoded (the page reads their codes): the same values.
    assert table.to_pylist() == ws.embeddings[0].metadata.to_pylist()


def test_sprite_is_the_atlas_file(http: httpx.Client, ids: dict[tuple[str, str], str]) -> None:
    response = http.get(
        f"/api/embeddings/{ids[('tf2_two_embeddings_sprite', 'word_vectors')]}/sprite"
    )
    assert response.headers["content-type"] == "image/png"
    assert response.content == (FIXTURES / "tf2_two_embeddings_sprite" / "sprite.png").read_bytes()
    no_sprite = http.get(f"/api/embeddings/{ids[('tf2_keras_tutorial', 'embedding')]}/sprite")
    assert no_sprite.status_code == 404


def search(http: httpx.Client, emb: str, **params: object) -> httpx.Response:
    return http.get(f"/api/embeddings/{emb}/search", params=params)  # type: ignore[arg-type]


def test_search(http: httpx.Client, ids: dict[tuple[str, str], str]) -> None:
    emb = ids[("tf2_keras_tutorial", "embedding")]
    hits = np.frombuffer(search(http, emb, q="TOK_99").content, "<i4")
    labels = [f"tok_{i + 1}" for i in range(999)]
    assert hits.tolist() == [i for i, label in enumerate(labels) if "tok_99" in label]
    regex = np.frombuffer(search(http, emb, q=r"^tok_1\d$", regex="true").content, "<i4")
    assert [labels[i] for i in regex] == [f"tok_{i}" for i in range(10, 20)]
    words = ids[("tf2_two_embeddings_sprite", "word_vectors")]
    by_class = np.frombuffer(search(http, words, q="class_3", column="class").content, "<i4")
    assert len(by_class) > 0


def test_search_errors(http: httpx.Client, ids: dict[tuple[str, str], str]) -> None:
    emb = ids[("tf2_keras_tutorial", "embedding")]
    bad_regex = search(http, emb, q="(unclosed", regex="true")
    assert bad_regex.status_code == 400
    assert "is not a valid regular expression" in str(error_of(bad_regex)["message"])
    bad_column = search(http, emb, q="x", column="nope")
    assert bad_column.status_code == 400 and "unknown `column` 'nope'" in str(
        error_of(bad_column)["message"]
    )
    missing = http.get(f"/api/embeddings/{emb}/search")
    assert missing.status_code == 400 and error_of(missing)["code"] == "invalid_parameter"


def test_bookmarks_saved_beside_never_over_the_users_file(
    http: httpx.Client, ids: dict[tuple[str, str], str], logdir: Path
) -> None:
    emb = ids[("tf2_two_embeddings_sprite", "word_vectors")]
    users_file = logdir / "tf2_two_embeddings_sprite" / "bookmarks.json"
    original = users_file.read_bytes()
    assert (
        http.get(f"/api/embeddings/{emb}/bookmarks").json()[0]["label"] == "PCA view from fixture"
    )
    states = [{"label": "mine", "selectedPoints": [1, 2]}]
    saved = http.put(
        f"/api/embeddings/{emb}/bookmarks",
        content=json.dumps(states),
        headers={"content-type": "application/json"},
    )
    assert saved.status_code == 200, saved.text
    path = Path(saved.json()["path"])
    assert path.parent == logdir / "tf2_two_embeddings_sprite" and path != users_file
    assert users_file.read_bytes() == original
    assert http.get(f"/api/embeddings/{emb}/bookmarks").json() == states
    bad = http.put(f"/api/embeddings/{emb}/bookmarks", content=b'{"not": "a list"}')
    assert bad.status_code == 400 and "JSON array" in str(error_of(bad)["message"])


def test_no_route_reads_files_outside_the_config(
    http: httpx.Client, ids: dict[tuple[str, str], str]
) -> None:
    escape = ids[("path_escape", "emb")]
    assert http.get(f"/api/embeddings/{escape}/bookmarks").json() == []
    for path in ("/../../etc/hostname", "/%2e%2e/%2e%2e/etc/hostname", "/api/../../etc/hostname"):
        response = http.get(path)
        assert response.status_code in (400, 404) and "hostname" not in response.text.lower()


def test_bookmarks_of_a_read_only_log_dir_go_to_the_cache(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    writable_copy(FIXTURES / "tf2_keras_tutorial", logs)
    logs.chmod(0o555)
    try:
        with (
            running_server(str(logs), cache_dir=tmp_path / "cache") as server,
            client(server) as http,
        ):
            emb = http.get("/api/embeddings").json()[0]["id"]
            saved = http.put(f"/api/embeddings/{emb}/bookmarks", content=b'[{"label": "x"}]')
            assert saved.status_code == 200
            assert Path(saved.json()["path"]).is_relative_to(tmp_path / "cache")
            assert http.get(f"/api/embeddings/{emb}/bookmarks").json() == [{"label": "x"}]
        assert sorted(p.name for p in logs.iterdir()) == sorted(
            p.name for p in (FIXTURES / "tf2_keras_tutorial").iterdir()
        )
    finally:
        logs.chmod(0o755)

"""Layouts above the level-of-detail threshold through a real server: tiles, positions,
selection by shape, rows' metadata, and the 4xx answers the page handles without a banner."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import numpy as np
import pyarrow as pa
import pytest

from tests.server_process import ServerProcess, client, running_server

ROWS, THRESHOLD = 20_000, 1_000


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    cache = tmp_path_factory.mktemp("cache")
    args = ["demo", "large", "--rows", str(ROWS), "--lod-threshold", str(THRESHOLD)]
    with running_server(*args, cache_dir=cache, timeout=180) as s:
        yield s


@pytest.fixture(scope="module")
def http(server: ServerProcess) -> Iterator[httpx.Client]:
    with client(server) as c:
        yield c


@pytest.fixture(scope="module")
def emb(http: httpx.Client) -> str:
    (only,) = http.get("/api/embeddings").json()
    return str(only["id"])


@pytest.fixture(scope="module")
def pca(http: httpx.Client, emb: str) -> tuple[dict[str, object], np.ndarray]:
    """The PCA layout registered as a layout, and its coordinates (the job's result)."""
    job = http.post(f"/api/embeddings/{emb}/projections", json={"method": "pca", "dims": 2})
    job_id = job.json()["id"]
    for _ in range(600):
        if http.get(f"/api/jobs/{job_id}").json()["state"] == "done":
            break
        time.sleep(0.1)
    result = np.frombuffer(http.get(f"/api/jobs/{job_id}/result").content, "<f4").reshape(-1, 2)
    info = http.get(f"/api/jobs/{job_id}/layout").json()
    return info, result


def test_every_row_is_in_one_tile_with_its_coordinates(
    http: httpx.Client, pca: tuple[dict[str, object], np.ndarray]
) -> None:
    info, result = pca
    assert info["tiled"] is True and info["n"] == ROWS and info["dims"] == 2
    index = http.get(f"/api/layouts/{info['id']}/tiles").json()
    seen = np.zeros(ROWS, np.int64)
    tiles = index["tiles"]
    for depth, (x, y) in zip(tiles["depth"], tiles["cell"], strict=True):
        response = http.get(f"/api/layouts/{info['id']}/tiles/{depth}/{x}/{y}")
        assert response.status_code == 200
        count, dims = map(int, response.headers["X-Shape"].split(","))
        body = response.content
        positions = np.frombuffer(body, "<f4", count * dims).reshape(count, dims)
        rows = np.frombuffer(body, "<i4", count, count * dims * 4)
        assert np.array_equal(positions, result[rows])
        seen[rows] += 1
    assert np.all(seen == 1)
    assert index["levels"][-1] == ROWS


def test_positions_of_rows(http: httpx.Client, pca: tuple[dict[str, object], np.ndarray]) -> None:
    info, result = pca
    rows = np.array([5, 0, ROWS - 1], "<i4")
    response = http.post(f"/api/layouts/{info['id']}/positions", content=rows.tobytes())
    assert np.array_equal(np.frombuffer(response.content, "<f4").reshape(-1, 2), result[rows])


def test_lasso_over_every_row_matches_numpy(
    http: httpx.Client, pca: tuple[dict[str, object], np.ndarray]
) -> None:
    info, result = pca
    # Pixels = layout coordinates x 100 (column-major 4 x 4); a rectangle around the middle.
    matrix = np.diag([100.0, 100.0, 1.0, 1.0]).T.reshape(16).tolist()
    low, high = np.percentile(result, [30, 70], axis=0) * 100
    rectangle = [float(low[0]), float(low[1]), float(high[0]), float(high[1])]
    response = http.post(
        f"/api/layouts/{info['id']}/select", json={"matrix": matrix, "rectangle": rectangle}
    )
    assert response.status_code == 200
    selected = np.frombuffer(response.content, "<i4")
    px = result * 100
    inside = (px >= low).all(axis=1) & (px <= high).all(axis=1)
    assert np.array_equal(selected, np.flatnonzero(inside))
    assert len(selected) > 1_000  # more than the page's overview would hold of that region


def test_rows_metadata_and_chosen_columns(http: httpx.Client, emb: str) -> None:
    rows = np.array([7, 3], "<i4")
    table = pa.ipc.open_stream(
        http.post(f"/api/embeddings/{emb}/rows", content=rows.tobytes()).content
    ).read_all()
    full = pa.ipc.open_stream(http.get(f"/api/embeddings/{emb}/metadata").content).read_all()
    assert table.to_pylist() == [full.slice(7, 1).to_pylist()[0], full.slice(3, 1).to_pylist()[0]]
    one = pa.ipc.open_stream(
        http.get(f"/api/embeddings/{emb}/metadata", params={"columns": "group"}).content
    ).read_all()
    assert one.column_names == ["group"] and one.num_rows == ROWS
    assert pa.types.is_dictionary(one.column("group").type)


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("tiles/99/0/0", 404),  # past the deepest tile
        ("tiles/1/5/0", 400),  # outside depth 1's cells
        ("tiles/0/0/0?z=0", 400),  # a 2-D layout's tile asked in 3-D
    ],
)
def test_bad_tile_requests_are_4xx(
    http: httpx.Client, pca: tuple[dict[str, object], np.ndarray], path: str, status: int
) -> None:
    info, _ = pca
    response = http.get(f"/api/layouts/{info['id']}/{path}")
    assert response.status_code == status
    assert set(response.json()["error"]) == {"code", "message", "detail"}


def test_a_stale_layout_is_a_404(http: httpx.Client) -> None:
    response = http.get(f"/api/layouts/{'0' * 32}/tiles/0/0/0")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "stale_layout"


def test_the_config_says_the_threshold(http: httpx.Client) -> None:
    assert http.get("/api/config").json()["lod_threshold"] == THRESHOLD

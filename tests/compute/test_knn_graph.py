from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from embedding_projector.compute import _knn_clusters, knn, knn_graph
from embedding_projector.compute.preprocess import centroid, spherize_rows
from embedding_projector.compute.progress import Progress, Stopped
from embedding_projector.errors import InvalidParameterError

from .knn_data import brute_force, clustered, datasets


@pytest.fixture(autouse=True, params=["plain", "small pieces", "no room for ties"])
def pieces(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run every test as is; with many tiny cells, tasks, products and spans; and with
    heaps too small to settle ties, so that rows go to the single-point index."""
    if request.param == "small pieces":
        monkeypatch.setattr(knn_graph, "_ROWS_PER_CELL", 4)
        monkeypatch.setattr(knn_graph, "_TASK_ROWS", 3)
        monkeypatch.setattr(knn_graph, "_COLUMN_BLOCK", 5)
        monkeypatch.setattr(_knn_clusters, "_SAMPLE_PER_CLUSTER", 2)
    if request.param == "no room for ties":
        monkeypatch.setattr(knn_graph, "_extra", lambda k: 0)


def expected(X: np.ndarray, k: int, metric: str, sphere: bool) -> tuple[np.ndarray, np.ndarray]:
    """The brute-force answer for every row."""
    Y = spherize_rows(X, centroid(X)) if sphere else X
    answers = [brute_force(Y, Y[i], metric, k, [i]) for i in range(X.shape[0])]
    return np.array([a for a, _ in answers]), np.array([d for _, d in answers])


@settings(max_examples=120, deadline=None)
@given(X=st.one_of(datasets(), clustered()), data=st.data())
def test_every_row_equals_brute_force(X: np.ndarray, data: st.DataObject) -> None:
    metric = data.draw(st.sampled_from(knn.METRICS))
    sphere = data.draw(st.booleans())
    k = data.draw(st.integers(1, X.shape[0] - 1))
    graph = knn_graph.knn_graph(X, k=k, metric=metric, spherize=sphere)
    indices, distances = expected(X, k, metric, sphere)
    np.testing.assert_array_equal(graph.indices, indices)
    np.testing.assert_array_equal(graph.distances, distances.astype(np.float32))
    assert graph.indices.dtype == np.int32 and graph.distances.dtype == np.float32


@pytest.mark.parametrize("sphere", [False, True], ids=["plain", "spherized"])
def test_clustered_data_with_duplicates_equals_the_index(sphere: bool) -> None:
    rng = np.random.default_rng(5)
    centres = rng.standard_normal((12, 24))[rng.integers(0, 12, 3000)] * 6
    X = rng.standard_normal((3000, 24)) + centres
    X[100:130] = X[7]  # 31 copies of one row: ties far beyond k
    X[200:203] = 0
    X = X.astype(np.float32)
    index = knn.build(X, spherize=sphere)
    for metric in knn.METRICS:
        graph = knn_graph.knn_graph(X, k=15, metric=metric, spherize=sphere)
        for row in (0, 7, 100, 129, 200, 1500, 2999):
            found = index.query(k=15, metric=metric, index=row)
            np.testing.assert_array_equal(graph.indices[row], found.indices)
            np.testing.assert_array_equal(graph.distances[row], found.distances.astype(np.float32))


def test_progress_and_stop(small_dataset: np.ndarray) -> None:
    reports: list[Progress] = []
    knn_graph.knn_graph(small_dataset, k=5, callback=reports.append)
    fractions = [r.fraction for r in reports]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    with pytest.raises(Stopped):
        knn_graph.knn_graph(small_dataset, k=5, callback=lambda p: p.fraction > 0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"k": 0}, "`k` must be between 1 and 199, got 0"),
        ({"k": 200}, "`k` must be between 1 and 199, got 200"),
        ({"k": 5, "metric": "dot"}, "`metric` must be one of"),
    ],
)
def test_invalid_parameters(
    small_dataset: np.ndarray, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidParameterError, match=message):
        knn_graph.knn_graph(small_dataset, **kwargs)  # type: ignore[arg-type]

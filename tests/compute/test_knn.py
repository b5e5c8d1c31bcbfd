from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from embedding_projector.compute import _knn_clusters, knn
from embedding_projector.compute.preprocess import centroid, spherize_rows
from embedding_projector.errors import InvalidParameterError

from .knn_data import brute_force, clustered, datasets


@pytest.fixture(autouse=True, params=[False, True], ids=["scan", "clusters+chunks+refine"])
def refine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run every test as is, and with many tiny clusters, tiny chunks (threads) and the
    exact refinement always on."""
    if request.param:
        monkeypatch.setattr(knn, "_REFINE_ABOVE", 0)
        monkeypatch.setattr(knn, "_CHUNK_ROWS", 7)
        monkeypatch.setattr(_knn_clusters, "_ROWS_PER_CLUSTER", 4)


@settings(max_examples=150, deadline=None)
@given(X=st.one_of(datasets(), clustered()), data=st.data())
def test_point_queries_equal_brute_force(X: np.ndarray, data: st.DataObject) -> None:
    metric = data.draw(st.sampled_from(knn.METRICS))
    sphere = data.draw(st.booleans())
    n = X.shape[0]
    i = data.draw(st.integers(0, n - 1))
    k = data.draw(st.integers(1, n - 1))
    found = knn.build(X, spherize=sphere).query(k=k, metric=metric, index=i)
    # The index spherizes in float64: the reference applies the same transform.
    Y = spherize_rows(X, centroid(X)) if sphere else X
    order, distances = brute_force(Y, Y[i], metric, k, [i])
    np.testing.assert_array_equal(found.distances, distances)
    np.testing.assert_array_equal(found.indices, order)


@settings(max_examples=60, deadline=None)
@given(X=datasets(), data=st.data())
def test_set_and_vector_queries_equal_brute_force(X: np.ndarray, data: st.DataObject) -> None:
    metric = data.draw(st.sampled_from(knn.METRICS))
    n = X.shape[0]
    members = sorted(set(data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=n - 1))))
    index = knn.build(X)
    k = data.draw(st.integers(1, n - len(members)))
    found = index.query(k=k, metric=metric, indices=members)
    rows = X[members].astype(np.float64)
    if metric == "cosine":
        norms = np.linalg.norm(rows, axis=1, keepdims=True)
        rows = rows / np.where(norms > 0, norms, 1)
    order, distances = brute_force(X, rows.mean(axis=0), metric, k, members)
    np.testing.assert_array_equal(found.indices, order)
    np.testing.assert_allclose(found.distances, distances, rtol=1e-12, atol=1e-12)

    vector = data.draw(hnp.arrays(np.float32, X.shape[1], elements=st.integers(-3, 3).map(float)))
    found = index.query(k=n, metric=metric, vector=vector)
    order, distances = brute_force(X, vector, metric, n, [])
    np.testing.assert_array_equal(found.indices, order)
    np.testing.assert_array_equal(found.distances, distances)


def test_cosine_does_not_assume_unit_vectors() -> None:
    # TensorBoard's dot-product "cosine" would rank the long vector [10, 1] first.
    X = np.array([[1, 0], [10, 1], [1, 0.01], [0, 0]], dtype=np.float32)
    found = knn.build(X).query(k=3, metric="cosine", index=0)
    assert found.indices.tolist() == [2, 1, 3]
    assert found.distances[2] == 1.0  # the zero vector


@pytest.mark.parametrize("kind", ["random", "blobs"])
@pytest.mark.parametrize("sphere", [False, True], ids=["plain", "spherized"])
def test_larger_data_is_exact(kind: str, sphere: bool) -> None:
    rng = np.random.default_rng(3)
    X = rng.standard_normal((5000, 32)) + rng.standard_normal(32) * 3
    if kind == "blobs":  # 20 clusters: thousands of rows inside the int8 bounds
        X += rng.standard_normal((20, 32))[rng.integers(0, 20, 5000)] * 8
    X = X.astype(np.float32)
    index = knn.build(X, spherize=sphere)
    Y = spherize_rows(X, centroid(X)) if sphere else X
    for metric in knn.METRICS:
        for i in (0, 1234, 4999):
            found = index.query(k=100, metric=metric, index=i)
            order, distances = brute_force(Y, Y[i], metric, 100, [i])
            np.testing.assert_array_equal(found.indices, order)
            np.testing.assert_array_equal(found.distances, distances)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"k": 0, "index": 0}, "`k` must be between 1 and 199"),
        ({"k": 200, "index": 0}, "`k` must be between 1 and 199"),
        ({"k": 5, "index": 200}, "`index` must be between 0 and 199"),
        ({"k": 5}, "exactly one of"),
        ({"k": 5, "index": 0, "vector": np.zeros(16)}, "exactly one of"),
        ({"k": 5, "vector": np.zeros(3)}, "`vector` must have 16 values"),
        ({"k": 5, "indices": []}, "`indices` must not be empty"),
        ({"k": 5, "index": 0, "metric": "dot"}, "`metric` must be one of"),
    ],
)
def test_invalid_queries(
    small_dataset: np.ndarray, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidParameterError, match=message):
        knn.build(small_dataset).query(**kwargs)  # type: ignore[arg-type]

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.manifold import trustworthiness

from embedding_projector.compute import faithfulness, pca, tsne
from embedding_projector.compute.progress import Progress
from embedding_projector.errors import InvalidParameterError

from .knn_data import brute_force


def brute_force_faithfulness(X: np.ndarray, layout: np.ndarray, k: int, metric: str) -> np.ndarray:
    """The definition, point by point, from brute-force neighbours on both sides."""
    shares = []
    for i in range(X.shape[0]):
        original, _ = brute_force(X, X[i], metric, k, [i])
        in_layout, _ = brute_force(layout, layout[i], "euclidean", k, [i])
        shares.append(len(set(original.tolist()) & set(in_layout.tolist())) / k)
    return np.array(shares)


@st.composite
def layouts(draw: st.DrawFn) -> np.ndarray:
    """Small 2-D or 3-D layouts on a coarse grid: many duplicates and equal distances."""
    n = draw(st.integers(2, 80))
    d = draw(st.sampled_from([2, 3]))
    values = st.integers(-3, 3).map(float)
    layout: np.ndarray = draw(hnp.arrays(np.float32, (n, d), elements=values))
    return layout * np.float32(draw(st.sampled_from([1e-3, 1.0, 1e3])))


@settings(max_examples=150, deadline=None)
@given(layout=layouts(), data=st.data())
def test_layout_neighbours_equal_brute_force(layout: np.ndarray, data: st.DataObject) -> None:
    k = data.draw(st.integers(1, layout.shape[0] - 1))
    found = faithfulness.layout_neighbors(layout, k=k)
    for i in range(layout.shape[0]):
        order, _ = brute_force(layout, layout[i], "euclidean", k, [i])
        np.testing.assert_array_equal(found[i], order)
    assert found.dtype == np.int32


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_faithfulness_equals_brute_force(metric: str) -> None:
    rng = np.random.default_rng(1)
    X = rng.standard_normal((300, 12)).astype(np.float32)
    layout = X[:, :2] + rng.standard_normal((300, 2)).astype(np.float32) * 0.3
    result = faithfulness.faithfulness(X, layout, k=7, metric=metric)
    expected = brute_force_faithfulness(X, layout, 7, metric)
    np.testing.assert_allclose(result.per_point, expected, rtol=1e-6)
    assert result.per_point.dtype == np.float32
    assert result.mean == pytest.approx(expected.mean())
    assert result.below == pytest.approx(np.mean(expected < 0.3))


def test_a_perfect_layout_scores_one_in_both_measures() -> None:
    X = np.random.default_rng(2).standard_normal((400, 2)).astype(np.float32)
    result = faithfulness.faithfulness(X, X * 3 + 1, k=10, metric="euclidean")
    assert result.mean == 1.0 and result.below == 0.0
    assert np.all(result.per_point == 1)
    assert trustworthiness(X, X * 3 + 1, n_neighbors=10) == pytest.approx(1.0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_trustworthiness_lies_within_the_bounds_faithfulness_sets(seed: int) -> None:
    # Every missed neighbour is replaced by an intruder, which trustworthiness charges
    # its original rank beyond k: at least 1, at most N - k - 1 (see the module).
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((500, 20)).astype(np.float32)
    layout = (X[:, :2] + rng.standard_normal((500, 2)) * seed).astype(np.float32)
    n, k = 500, 8
    result = faithfulness.faithfulness(X, layout, k=k, metric="euclidean")
    missed = 1 - result.mean
    score = trustworthiness(X, layout, n_neighbors=k)
    assert 1 - 2 * missed * (n - k - 1) / (2 * n - 3 * k - 1) <= score
    assert score <= 1 - 2 * missed / (2 * n - 3 * k - 1)
    assert missed > 0


@pytest.fixture(scope="module")
def digits_layouts(digits: tuple[np.ndarray, np.ndarray]) -> dict[str, np.ndarray]:
    X, _ = digits
    return {
        "t-SNE": tsne.run(X, n_iter=250, random_state=0),
        "PCA": pca.run(X, n_components=2).coordinates,
    }


def test_digits_tsne_keeps_more_neighbours_than_pca(
    digits: tuple[np.ndarray, np.ndarray], digits_layouts: dict[str, np.ndarray]
) -> None:
    X, _ = digits
    ours = {
        name: faithfulness.faithfulness(X, layout, k=5, metric="euclidean")
        for name, layout in digits_layouts.items()
    }
    theirs = {
        name: trustworthiness(X, layout, n_neighbors=5) for name, layout in digits_layouts.items()
    }
    assert ours["t-SNE"].mean > ours["PCA"].mean + 0.2
    assert ours["t-SNE"].below < ours["PCA"].below
    assert theirs["t-SNE"] > theirs["PCA"]


def test_missing_neighbours_are_the_true_ones_the_layout_lost(
    digits: tuple[np.ndarray, np.ndarray], digits_layouts: dict[str, np.ndarray]
) -> None:
    X, _ = digits
    layout = digits_layouts["PCA"]
    result = faithfulness.faithfulness(X, layout, k=10, metric="cosine")
    worst = int(np.argmin(result.per_point))
    for point in (worst, 0, 1000):
        missing = faithfulness.missing_neighbors(point, result.original, layout)
        lost = set(result.original[point].tolist()) - set(result.layout[point].tolist())
        assert set(missing.indices.tolist()) == lost
        assert len(lost) == round(10 * (1 - float(result.per_point[point])))
        assert np.all(missing.ranks > 10)
        assert list(missing.ranks) == sorted(missing.ranks, reverse=True)
        here = layout[point].astype(np.float64)
        np.testing.assert_allclose(
            missing.distances, np.linalg.norm(layout[missing.indices] - here, axis=1), rtol=1e-6
        )
        # The rank counts the points nearer in the layout (ties: lower index first).
        all_distances = np.linalg.norm(layout.astype(np.float64) - here, axis=1)
        for j, rank in zip(missing.indices, missing.ranks, strict=True):
            nearer = (all_distances < all_distances[j]) | (
                (all_distances == all_distances[j]) & (np.arange(len(layout)) < j)
            )
            nearer[point] = False
            assert rank == nearer.sum() + 1


def test_three_of_ten_is_not_below_thirty_percent() -> None:
    # Point 0 keeps 3 of its 10 neighbours, point 1 two, point 2 all of them.
    original = np.tile(np.arange(10, 20), (3, 1)).astype(np.int32)
    layout = original.copy()
    layout[0, 3:] = np.arange(30, 37)
    layout[1, 2:] = np.arange(30, 38)
    result = faithfulness.from_neighbors(original, layout)
    assert result.per_point.tolist() == pytest.approx([0.3, 0.2, 1.0])
    assert result.below == pytest.approx(1 / 3)
    assert result.mean == pytest.approx(0.5)


def test_progress_is_reported(small_dataset: np.ndarray) -> None:
    reports: list[Progress] = []
    faithfulness.faithfulness(small_dataset, small_dataset[:, :2], k=5, callback=reports.append)
    fractions = [r.fraction for r in reports]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


@pytest.mark.parametrize(
    ("layout", "k", "message"),
    [
        (np.zeros((200, 4)), 10, "`layout` must have 2 or 3 columns, got 4"),
        (np.zeros((150, 2)), 10, r"`layout` must have one row per vector \(200\), got 150"),
        (np.zeros((200, 2)), 200, "`k` must be between 1 and 199, got 200"),
    ],
)
def test_invalid_input(small_dataset: np.ndarray, layout: np.ndarray, k: int, message: str) -> None:
    with pytest.raises(InvalidParameterError, match=message):
        faithfulness.faithfulness(small_dataset, layout, k=k)

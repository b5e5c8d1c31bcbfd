"""The tiler (compute/tiles.py) and the selection by a screen shape (compute/layout_select.py)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from embedding_projector.compute.layout_select import rows_in_shape
from embedding_projector.compute.tiles import OUTLIER_SHARE, TileTree, build_tiles


def clusters(n: int, dims: int = 2, seed: int = 0) -> np.ndarray:
    """Three uniform blocks of very different sizes and densities, and five far outliers."""
    rng = np.random.default_rng(seed)
    blocks = [(0.0, 2.0, 0.7), (8.0, 0.5, 0.25), (-6.0, 4.0, 0.05)]
    parts = [rng.uniform(c - h, c + h, (int(n * s), dims)) for c, h, s in blocks]
    points = np.concatenate([*parts, rng.uniform(-1, 1, (n - sum(map(len, parts)), dims))])
    far = min(5, n)
    points[:far] = 40.0 + np.arange(far)[:, None] * 3  # alone in their cells: outliers
    return points.astype(np.float32)


@pytest.mark.parametrize("dims", [2, 3])
def test_every_finite_row_is_in_exactly_one_tile(dims: int) -> None:
    points = clusters(20_000, dims)
    points[7] = np.nan  # drawn nowhere
    tree = build_tiles(points, capacity=256)
    held = np.bincount(tree.rows, minlength=len(points))
    assert held[7] == 0
    assert np.all(np.delete(held, 7) == 1)
    # Each tile's rows lie in its cell.
    for k in range(tree.n_tiles):
        low, high = tree.cell_bounds(k)
        inside = points[tree.tile_rows(k)]
        assert np.all(inside >= low - 1e-6) and np.all(inside <= high + 1e-6)


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1, 3_000),
    capacity=st.sampled_from([1, 4, 64]),
    duplicates=st.booleans(),
)
def test_any_layout_is_cut_into_tiles_of_all_its_rows(
    n: int, capacity: int, duplicates: bool
) -> None:
    points = clusters(n, seed=n)
    if duplicates:
        points[: n // 2] = points[0]  # many equal points: splitting must stop
    tree = build_tiles(points, capacity)
    assert sorted(tree.rows.tolist()) == list(range(n))
    # Parents come before children; a tile's level counts only grow; the last is everything.
    assert np.all(tree.parent[1:] < np.arange(1, tree.n_tiles))
    assert np.all(np.diff(tree.level_counts, axis=1) >= 0)
    assert np.array_equal(tree.level_counts[:, -1], tree.counts)


def test_each_level_keeps_the_density_of_every_region() -> None:
    # Level l is a uniform sample: in any region its share of the rows is levels[l] / N
    # within the binomial spread (5 standard deviations), outliers apart.
    points = clusters(200_000)
    tree = build_tiles(points, capacity=2_048)
    n = len(points)
    x, y = points[:, 0], points[:, 1]
    regions = [x < -3, (x > 7) & (x < 9), np.abs(y) < 0.5]
    for level, size in enumerate(tree.levels[:-1]):
        rows_of_level = np.zeros(n, bool)
        for k in range(tree.n_tiles):
            rows_of_level[tree.tile_rows(k)[: tree.level_counts[k][level]]] = True
        # Outliers take the first ranks; the rest of the level is a uniform sample.
        share = (size - tree.outliers) / (n - tree.outliers)
        for region in regions:
            kept = np.count_nonzero(rows_of_level & region)
            expected = share * np.count_nonzero(region)
            spread = np.sqrt(expected * (1 - share))
            assert expected - 5 * spread <= kept <= expected + 5 * spread + tree.outliers, level


def test_outliers_are_in_the_overview() -> None:
    points = clusters(100_000)
    tree = build_tiles(points, capacity=1_024)
    overview = set(tree.tile_rows(0)[: tree.level_counts[0][0]].tolist())
    # The five far points are alone in their cells: a uniform sample of 1% would miss them.
    assert {0, 1, 2, 3, 4} <= overview
    assert 0 < tree.outliers <= 1_024 * OUTLIER_SHARE


def test_tiles_round_trip_through_their_parts() -> None:
    tree = build_tiles(clusters(5_000, 3), capacity=128)
    again = TileTree.from_parts(*tree.to_parts())
    assert np.array_equal(again.rows, tree.rows)
    assert np.array_equal(again.level_counts, tree.level_counts)
    assert again.tile_at(1, tuple(tree.cell[1])) == 1


def identity_to_pixels(scale: float) -> np.ndarray:
    """Column-major 4 x 4: x, y times `scale` (pixels), z dropped."""
    m = np.eye(4)
    m[0, 0] = m[1, 1] = scale
    return m.T.reshape(16)


def test_rectangle_and_lasso_select_over_every_row() -> None:
    points = clusters(50_000)
    m = identity_to_pixels(10.0)
    rows = rows_in_shape(points, m, rectangle=(0, 0, 20, 10))
    px = points * 10.0
    x, y = px[:, 0], px[:, 1]
    expected = np.flatnonzero((x >= 0) & (x <= 20) & (y >= 0) & (y <= 10))
    assert np.array_equal(rows, expected)
    # A triangle: below the diagonal of the same rectangle.
    triangle = np.array([0, 0, 20, 0, 20, 10], np.float64)
    lasso = rows_in_shape(points, m, polygon=triangle)
    assert set(lasso.tolist()) <= set(rows.tolist())
    below = px[lasso]
    assert np.all(below[:, 1] <= below[:, 0] / 2 + 1e-3)
    assert 0.3 < len(lasso) / len(rows) < 0.7


def test_rows_not_finite_are_never_selected() -> None:
    points = np.zeros((4, 2), np.float32)
    points[1] = np.nan
    rows = rows_in_shape(points, identity_to_pixels(1.0), rectangle=(-1, -1, 1, 1))
    assert rows.tolist() == [0, 2, 3]

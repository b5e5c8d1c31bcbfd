"""Level of detail for big layouts: a quadtree (2-D) or octree (3-D) of tiles of points.

A layout of millions of points is cut into tiles that a browser loads as it needs them,
so that it never holds or draws every point at once (docs/decisions.md, "Level of
detail"). The tiles follow three rules:

- **Every finite row is in exactly one tile.** Rows with a NaN or infinite coordinate are
  drawn nowhere and left out.
- **Density is preserved.** Every row gets a *rank*, its place in a random order of all
  rows (seeded: the same layout gives the same tiles). *Level* ``l`` is the set of rows of
  rank below ``levels[l] = capacity * 2**l``: a uniform random sample, whose density in
  any region is the same fraction of the region's true density. A tile holds the
  ``capacity`` rows of lowest rank among those of its cell that no ancestor holds, in rank
  order, so the rows of level ``l`` in a tile are a prefix of it (``level_counts``): a
  viewer draws that prefix of every tile in view and shows exactly level ``l`` there.
  The root tile is level 0.
- **Outliers are kept.** The rows of sparse places would fall out of a uniform sample:
  every occupied cell of a grid of ``OUTLIER_CELLS`` cells (256 x 256, or 32 x 32 x 32)
  whose expected share of level 0 is below one point gives its lowest-ranked row the lowest
  ranks, up to a quarter of the root tile (emptiest cells first). Those rows are in every
  level.

Plain numpy functions of float32 arrays; no files, no HTTP.
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

#: Splitting stops at this depth (a cell 2**-24 of the layout's extent: float32 resolution);
#: a leaf there holds every row left in its cell, however many (duplicated points).
MAX_DEPTH = 24
#: The overview keeps a row of every occupied cell of a grid of this many cells (256 x 256, or
#: 32 x 32 x 32), where a uniform sample would show none (see the module doc).
OUTLIER_CELLS = 2**16
#: Outliers take at most this share of the root tile.
OUTLIER_SHARE = 0.25
#: Ranks are a random order drawn from this seed: the same layout always gives the same tiles.
RANK_SEED = 20_240_612


@dataclass(frozen=True)
class TileTree:
    """The tiles of one layout. Node ``k`` holds ``rows[offsets[k]:offsets[k + 1]]``.

    Nodes are in breadth-first order (a parent before its children).
    """

    dims: int
    """2 (a quadtree) or 3 (an octree)."""
    low: np.ndarray
    """float64 ``(dims,)``: the lowest corner of the root cell, a square (cube) of edge ``size``."""
    size: float
    capacity: int
    """Rows of lowest rank a tile takes before its cell is split."""
    rows: np.ndarray
    """int32 ``(M,)``: every finite row once, tile by tile, each tile's in rank order."""
    offsets: np.ndarray
    """int64 ``(K + 1,)``: where each tile's rows start in ``rows``."""
    depth: np.ndarray
    """int32 ``(K,)``: 0 for the root."""
    cell: np.ndarray
    """int64 ``(K, dims)``: the cell's integer coordinates at its depth (0 .. 2**depth - 1)."""
    parent: np.ndarray
    """int32 ``(K,)``: -1 for the root."""
    levels: np.ndarray
    """int64 ``(L + 1,)``: level ``l`` is the rows of rank < ``levels[l]``; the last is M."""
    level_counts: np.ndarray
    """int32 ``(K, L + 1)``: how many of a tile's rows (a prefix) belong to each level."""
    outliers: int
    """How many rows were ranked first as outliers (all in the root tile)."""

    @property
    def n_tiles(self) -> int:
        """K, the number of tiles."""
        return len(self.depth)

    @property
    def counts(self) -> np.ndarray:
        """int64 ``(K,)``: rows per tile."""
        return np.diff(self.offsets)

    def subtree_counts(self) -> np.ndarray:
        """int64 ``(K,)``: rows in each tile and all tiles below it."""
        totals = self.counts.copy()
        for k in range(self.n_tiles - 1, 0, -1):  # children come after their parent
            totals[self.parent[k]] += totals[k]
        return totals

    @functools.cached_property
    def _addresses(self) -> dict[tuple[int, ...], int]:
        pairs = zip(self.depth, self.cell.tolist(), strict=True)
        return {(int(d), *c): k for k, (d, c) in enumerate(pairs)}

    def tile_at(self, depth: int, cell: tuple[int, ...]) -> int | None:
        """The index of the tile at ``depth`` and integer ``cell``, if there is one."""
        return self._addresses.get((depth, *cell))

    def tile_rows(self, k: int) -> np.ndarray:
        """The rows of tile ``k``, in rank order."""
        return self.rows[self.offsets[k] : self.offsets[k + 1]]

    def cell_bounds(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The low and high corners of tile ``k``'s cell, in layout coordinates."""
        edge = self.size / 2.0 ** int(self.depth[k])
        low = self.low + self.cell[k] * edge
        return low, low + edge

    def to_parts(self) -> tuple[np.ndarray, dict[str, Any]]:
        """``rows`` and everything else as JSON-able values (for the result cache)."""
        parts = {
            "dims": self.dims,
            "low": self.low.tolist(),
            "size": self.size,
            "capacity": self.capacity,
            "offsets": self.offsets.tolist(),
            "depth": self.depth.tolist(),
            "cell": self.cell.tolist(),
            "parent": self.parent.tolist(),
            "levels": self.levels.tolist(),
            "level_counts": self.level_counts.tolist(),
            "outliers": self.outliers,
        }
        return self.rows, parts

    @classmethod
    def from_parts(cls, rows: np.ndarray, parts: dict[str, Any]) -> TileTree:
        """The tree :meth:`to_parts` described."""
        dims = int(parts["dims"])
        return cls(
            dims=dims,
            low=np.array(parts["low"], np.float64),
            size=float(parts["size"]),
            capacity=int(parts["capacity"]),
            rows=np.asarray(rows, np.int32),
            offsets=np.array(parts["offsets"], np.int64),
            depth=np.array(parts["depth"], np.int32),
            cell=np.array(parts["cell"], np.int64).reshape(-1, dims),
            parent=np.array(parts["parent"], np.int32),
            levels=np.array(parts["levels"], np.int64),
            level_counts=np.array(parts["level_counts"], np.int32).reshape(
                len(parts["depth"]), len(parts["levels"])
            ),
            outliers=int(parts["outliers"]),
        )


def capacity_for(threshold: int) -> int:
    """The rows of a tile for a level-of-detail threshold: a power of two near 1/32 of it.

    The default threshold (2,000,000) gives 65,536: the root tile draws at once, and a view
    of the whole layout needs a few dozen tiles. Never below 64.
    """
    return int(2 ** max(6, round(math.log2(max(threshold, 1) / 32))))


def sample_rows(n: int, size: int) -> np.ndarray:
    """``size`` rows of ``n`` in the tiles' random order (int32): a density-preserving sample
    of a layout that is still changing (a t-SNE streaming), before it has tiles."""
    order = np.random.default_rng(RANK_SEED).permutation(n)[: min(size, n)]
    return np.sort(order).astype(np.int32)


def build_tiles(positions: np.ndarray, capacity: int) -> TileTree:
    """Cut a layout into tiles of at most ``capacity`` rows (see the module doc).

    Parameters
    ----------
    positions
        ``(N, 2)`` or ``(N, 3)`` float32 coordinates.
    capacity
        The rows a tile takes before its cell is split (the root tile: level 0).

    Returns
    -------
    TileTree
    """
    if positions.ndim != 2 or positions.shape[1] not in (2, 3):
        raise ValueError(f"positions must be N x 2 or N x 3, got shape {positions.shape}")
    if capacity < 1:
        raise ValueError(f"capacity must be at least 1, got {capacity}")
    dims = positions.shape[1]
    finite = np.flatnonzero(np.isfinite(positions).all(axis=1)).astype(np.int32)
    points = positions[finite].astype(np.float64)
    low, size = _root_cell(points, dims)
    rank, outliers = _ranks(points, low, size, capacity)
    builder = _Builder(points, rank, capacity, dims, low, size)
    builder.split(np.arange(len(finite)), 0, np.zeros(dims, np.int64), -1)
    order = np.argsort(np.array(builder.depth, np.int64), kind="stable")  # breadth-first
    tiles = [builder.tiles[k] for k in order]
    renumber = np.empty(len(order), np.int64)
    renumber[order] = np.arange(len(order))
    parent = np.array([builder.parent[k] for k in order], np.int64)
    parent[parent >= 0] = renumber[parent[parent >= 0]]
    counts = np.array([len(t) for t in tiles], np.int64)
    offsets = np.concatenate([[0], np.cumsum(counts)])
    members = np.concatenate(tiles) if tiles else np.empty(0, np.int64)
    levels = level_sizes(len(finite), capacity)
    sorted_ranks = rank[members]
    level_counts = np.array(
        [np.searchsorted(sorted_ranks[a:b], levels) for a, b in itertools.pairwise(offsets)],
        np.int32,
    )
    return TileTree(
        dims=dims,
        low=low,
        size=size,
        capacity=capacity,
        rows=finite[members],
        offsets=offsets,
        depth=np.array([builder.depth[k] for k in order], np.int32),
        cell=np.array([builder.cell[k] for k in order], np.int64).reshape(-1, dims),
        parent=parent.astype(np.int32),
        levels=levels,
        level_counts=level_counts.reshape(len(tiles), len(levels)),
        outliers=outliers,
    )


def level_sizes(m: int, capacity: int) -> np.ndarray:
    """Rank bounds of the levels: ``capacity * 2**l``, the last one ``m`` (every row)."""
    n_levels = max(0, math.ceil(math.log2(m / capacity))) if m > capacity else 0
    return np.minimum(capacity * 2 ** np.arange(n_levels + 1, dtype=np.int64), m)


def _root_cell(points: np.ndarray, dims: int) -> tuple[np.ndarray, float]:
    """The square (cube) around every point: its low corner and edge."""
    if len(points) == 0:
        return np.zeros(dims), 1.0
    low = points.min(axis=0)
    size = float((points.max(axis=0) - low).max())
    # One point, or all equal: a unit cell around them. The edge grows a hair so that the
    # highest coordinate falls inside the root's last child, not on its outer edge.
    return low, size * (1 + 1e-9) if size > 0 else 1.0


def _ranks(
    points: np.ndarray, low: np.ndarray, size: float, capacity: int
) -> tuple[np.ndarray, int]:
    """Every row's rank, outliers first (see the module doc), and the number of outliers."""
    m = len(points)
    priority = np.empty(m, np.int64)
    priority[np.random.default_rng(RANK_SEED).permutation(m)] = np.arange(m)
    outliers = _outliers(points, low, size, priority, capacity)
    # Outliers in their random order, then the others in theirs: a row's rank counts the
    # outliers (or the others) of lower priority.
    is_outlier = np.zeros(m, bool)
    is_outlier[priority[outliers]] = True  # indexed by priority
    outliers_before = np.cumsum(is_outlier)
    rank = len(outliers) + priority - outliers_before[priority]
    rank[outliers] = outliers_before[priority[outliers]] - 1
    return rank, len(outliers)


def _outliers(
    points: np.ndarray, low: np.ndarray, size: float, priority: np.ndarray, capacity: int
) -> np.ndarray:
    """Rows that keep a sparse cell of the outlier grid visible in level 0."""
    m = len(points)
    if m <= capacity:
        return np.empty(0, np.int64)  # level 0 holds every row already
    side = round(OUTLIER_CELLS ** (1 / points.shape[1]))
    cell = np.minimum(((points - low) / size * side).astype(np.int64), side - 1)
    cell_id = np.zeros(m, np.int64)
    for axis in range(points.shape[1]):
        cell_id = cell_id * side + cell[:, axis]
    # Only the rows of sparse cells are sorted: cells whose rows would show less than one
    # point in level 0, on average.
    sizes = np.bincount(cell_id, minlength=OUTLIER_CELLS)[cell_id]
    in_sparse = np.flatnonzero(sizes * capacity < m)
    # One row of each sparse cell (its lowest priority), then the emptiest cells first and,
    # among cells as empty, in random order: no part of the layout is favoured by the cap.
    order = in_sparse[np.lexsort((priority[in_sparse], cell_id[in_sparse]))]
    grouped = cell_id[order]
    firsts = order[np.r_[True, grouped[1:] != grouped[:-1]]] if len(order) else order
    firsts = firsts[np.lexsort((priority[firsts], sizes[firsts]))]
    return np.asarray(firsts[: int(capacity * OUTLIER_SHARE)], np.int64)


class _Builder:
    """Splits cells top-down; each tile takes the lowest ranks left in its cell."""

    def __init__(
        self,
        points: np.ndarray,
        rank: np.ndarray,
        capacity: int,
        dims: int,
        low: np.ndarray,
        size: float,
    ) -> None:
        self.points, self.rank, self.capacity, self.dims = points, rank, capacity, dims
        self.low, self.size = low, size
        self.tiles: list[np.ndarray] = []
        self.depth: list[int] = []
        self.cell: list[np.ndarray] = []
        self.parent: list[int] = []

    def split(self, members: np.ndarray, depth: int, cell: np.ndarray, parent: int) -> None:
        """Make the tile of ``cell`` from its rows ``members``, then its children's."""
        index = len(self.tiles)
        ranks = self.rank[members]
        if len(members) <= self.capacity or depth == MAX_DEPTH:
            taken, rest = members[np.argsort(ranks, kind="stable")], members[:0]
        else:
            cut = np.argpartition(ranks, self.capacity - 1)[: self.capacity]
            taken = members[cut[np.argsort(ranks[cut], kind="stable")]]
            left = np.ones(len(members), bool)
            left[cut] = False
            rest = members[left]
        self.tiles.append(taken)
        self.depth.append(depth)
        self.cell.append(cell)
        self.parent.append(parent)
        if len(rest) == 0:
            return
        # The child of each row: one bit per axis, set in the upper half of the cell.
        edge = self.size / 2.0**depth
        middle = self.low + (cell + 0.5) * edge
        child = np.zeros(len(rest), np.uint8)
        for axis in range(self.dims):
            child |= (self.points[rest, axis] >= middle[axis]).astype(np.uint8) << axis
        for c in range(2**self.dims):
            part = rest[child == c]
            if len(part):
                bits = np.array([(c >> axis) & 1 for axis in range(self.dims)], np.int64)
                self.split(part, depth + 1, cell * 2 + bits, index)

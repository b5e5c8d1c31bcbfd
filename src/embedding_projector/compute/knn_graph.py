"""Exact k nearest neighbours of every point at once: the kNN graph.

Faithfulness compares each point's k nearest neighbours in the original space
with those in a layout; drift and overlap compare them across checkpoints and
spaces. All of them need the neighbours of *every* point, exactly, with the
metric and spherize option of the single-point index (:mod:`.knn`), ties
broken by the lower index.

How (docs/decisions.md has the measurements that chose it):

1. The rows of the searched space (raw or spherized; scaled to unit length for
   cosine) are grouped into cells by k-means (:mod:`._knn_clusters`) and stored
   cell by cell as float32 offsets from their cell's centre, with their norms.
2. Every cell is compared with itself, then every pair of cells that may hold
   neighbours, nearest first: the triangle inequality bounds the distance of a
   row to all rows of another cell from below, and a pair is skipped when no
   row on either side has its bound below its current k-th distance. The rows
   that do take part multiply their offsets with the other cell's (float32,
   BLAS); when many rows of both cells take part, one product serves both
   directions. A numba kernel (:mod:`._knn_graph_kernels`) folds the products
   into per-row heaps.
3. Every float32 distance comes with a proven interval around the exact float64
   one, and each row keeps its ``k + extra`` smallest upper bounds and the
   smallest lower bound of all it dropped (``band``). When ``band`` is above the
   k-th smallest upper bound, every row outside the heap is strictly farther than
   the k-th nearest, so the heap holds the answer; its rows that can still be
   among the k nearest are re-ranked by their exact float64 distances
   (:func:`.knn.exact_distances`), ties by index. The rare rows that cannot be
   settled so (more than ``extra`` near-ties at the k-th place, e.g. many
   duplicates) are asked of the exact single-point index.

The interval. A distance is ``alpha_i + beta_j - w <z_i, z_j>``: float64 terms
of each side and one float32 product of the offsets (see :meth:`_Stored.terms`).
The offsets are rounded to float32 (an error of ``2^-24 |z|``, small because the
offsets are), and a float32 dot product of length ``D`` is off by at most
``gamma_D |z_i| |z_j|``, ``gamma_D ~ D 2^-24`` (Higham's bound, whatever the
summation order of the BLAS). With ``s = |z_i| + |z_j|`` and ``reach`` the
distance between the two cells' centres (euclidean) or 1 (cosine), a squared
euclidean distance is within ``(gamma_D / 2 + 2^-23) s^2 + 2^-23 s reach`` of
the exact one, a cosine distance within ``gamma_D s^2 / 4 + 2^-24 s``. The
kernel uses ``(D + 4) 2^-24 s^2 + 2^-22 s reach + 1e-12 (s + reach)^2``: a
margin of 2 or more, and a last term for the float64 rounding of the terms.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from embedding_projector.compute.knn import METRICS, build, exact_distances
from embedding_projector.compute.preprocess import centroid, to_space
from embedding_projector.compute.progress import Callback, Progress, report
from embedding_projector.compute.threads import map_in_threads
from embedding_projector.compute.validation import check_choice, check_int, check_vectors

T = TypeVar("T")

#: Cells for N rows: N / _ROWS_PER_CELL, at most _MAX_CELLS. 1,024 rows rather than 4,096:
#: on clustered 100k x 64-128 (the large demo, drift's later steps) half the CPU time, with
#: smaller offsets (fewer near-ties) and more pairs pruned; structureless data costs the same.
_ROWS_PER_CELL = 1_024
_MAX_CELLS = 256
#: Rows and columns of one matrix product (16 MB of float32 products).
_TASK_ROWS = 1_024
_COLUMN_BLOCK = 4_096
#: Relative slack of the cells' triangle-inequality bounds, far above their rounding
#: (~1e-8 after a square root) and the float32 storage of the rows (6e-8).
_CELL_SLACK = 1e-6
#: Relative error of the float64 sums around the float32 product, far above their rounding.
_TINY = 1e-12
#: Rows per block when storing the rows.
_BLOCK_ROWS = 65_536


@dataclass(frozen=True)
class KnnGraph:
    """The k nearest neighbours of every row, nearest first.

    Attributes
    ----------
    indices
        ``(N, k)`` int32 row numbers; a row is never its own neighbour.
    distances
        ``(N, k)`` float32: the exact float64 distances (which decided the
        order, ties by the lower index), rounded.
    settled_by_index
        How many rows had to be settled by the single-point index (near-ties).
    """

    indices: np.ndarray
    distances: np.ndarray
    settled_by_index: int


def knn_graph(
    X: np.ndarray,
    *,
    k: int = 10,
    metric: str = "cosine",
    spherize: bool = False,
    callback: Callback | None = None,
) -> KnnGraph:
    """The exact k nearest neighbours of every row of ``X``.

    Parameters
    ----------
    X
        ``(N, D)`` float32 vectors, N >= 2; may be memory-mapped.
    k
        Neighbours per row, 1 .. N - 1.
    metric
        ``"cosine"`` (1 - cosine similarity; a zero vector is at distance 1 from
        everything) or ``"euclidean"``.
    spherize
        Search in the spherized space (centroid subtracted, rows scaled to unit
        length), as :func:`.knn.build` does.
    callback
        Receives :class:`~.progress.Progress` as cells are done; returning True
        stops with :class:`~.progress.Stopped`.

    Returns
    -------
    KnnGraph
        For every row exactly what :meth:`.knn.NeighborIndex.query` returns for
        it: the same neighbours, in the same order, with the same tie rule.

    Notes
    -----
    Memory beyond ``X``: a float32 copy of it, and 24 bytes for each of the
    ``k + extra`` heap entries of every row (360 MB for 1M rows and k = 10).
    Clustered data is fast (1M x 128 from the large demo in about two
    minutes on two cores); structureless data costs all N^2 / 2 products
    (docs/decisions.md). Its matrix products run on many threads at once: in a
    process of ours, BLAS is limited to one thread first
    (:func:`.threads.limit_blas_threads`, as the job workers do).
    """
    X = check_vectors(X, min_samples=2)
    k = check_int("k", k, low=1, high=X.shape[0] - 1)
    metric = check_choice("metric", metric, METRICS)
    report(callback, Progress(0.0, "grouping the points"))
    stored = _Stored(X, metric == "cosine", bool(spherize))
    return _graph(X, stored, k, metric, bool(spherize), callback)


class _Stored:
    """The rows as float32 offsets from their cell's centre, cell by cell, and their norms."""

    def __init__(self, X: np.ndarray, cosine: bool, spherize: bool) -> None:
        from embedding_projector.compute import _knn_clusters as clusters

        n, d = X.shape
        self.X = X
        self.cosine = cosine
        self.sphere_mean = centroid(X) if spherize else None
        n_cells = min(_MAX_CELLS, n // _ROWS_PER_CELL)
        # One cell (small inputs): centred on the rows' mean, which keeps the offsets
        # small and so the distances' error bounds tight.
        mean = np.zeros(d) if n_cells > 1 else self.rows(slice(None)).mean(axis=0)
        found = clusters.find(self.rows, self._block, n, mean, n_clusters=n_cells)
        self.centres = found.centres
        #: Position p of the stored order holds row order[p].
        self.order = np.argsort(found.labels, kind="stable")
        position = np.empty(n, dtype=np.int64)
        position[self.order] = np.arange(n)
        self.cell = found.labels[self.order]
        self.starts = np.flatnonzero(np.r_[True, self.cell[1:] != self.cell[:-1]])
        self.stops = np.r_[self.starts[1:], n]
        self.Z = np.empty((n, d), dtype=np.float32)
        self.sq = np.empty(n)
        #: <z, c> of each stored offset z with its own cell's centre c.
        self.own = np.empty(n)

        def store(rows: slice) -> None:
            centres = self.centres[found.labels[rows]]
            offsets = (self.rows(rows) - centres).astype(np.float32)
            self.Z[position[rows]] = offsets
            wide = offsets.astype(np.float64)
            self.sq[position[rows]] = (wide * wide).sum(axis=1)
            self.own[position[rows]] = (wide * centres).sum(axis=1)

        list(map_in_threads(store, _blocks(n)))
        self.norm = np.sqrt(self.sq)
        self.radius = np.maximum.reduceat(self.norm, self.starts)
        #: The error bound of a float32 distance (see the module docstring).
        self.bounds = ((d + 4) * 2.0**-24, 2.0**-22, _TINY)

    def rows(self, rows: slice | np.ndarray) -> np.ndarray:
        """Rows in the searched space, float64; scaled to unit length for cosine."""
        y = to_space(self.X[rows], self.sphere_mean)
        if not self.cosine:
            return y
        norms = np.sqrt((y * y).sum(axis=1, keepdims=True))
        unit: np.ndarray = y / np.where(norms > 0, norms, 1.0)
        return unit

    def _block(self, rows: slice) -> np.ndarray:
        return self.rows(rows).astype(np.float32)

    def cells(self) -> range:
        """The cells' numbers."""
        return range(self.starts.size)

    def span(self, cell: int) -> slice:
        """The stored rows of a cell."""
        return slice(int(self.starts[cell]), int(self.stops[cell]))

    def terms(self, cell: int, other: int) -> _Terms:
        """What the kernels need for the rows of ``cell`` against those of ``other``.

        With ``y = z + c`` (offset plus centre) and ``delta = c_cell - c_other``:
        euclidean ``|y_i - y_j|^2 = (|z_i|^2 + 2 <z_i, delta>) + (|z_j|^2 - 2 <z_j,
        delta> + |delta|^2) - 2 <z_i, z_j>``; cosine (unit rows) ``1 - <y_i, y_j> =
        (1 - <z_i, c_other> - <c_cell, c_other>) - <c_cell, z_j> - <z_i, z_j>``,
        where ``<z_i, c_other> = <z_i, c_cell> - <z_i, delta>`` and ``<c_cell, z_j> =
        <c_other, z_j> + <delta, z_j>``. Everything but ``<z_i, z_j>`` is float64.
        """
        mine, theirs = self.span(cell), self.span(other)
        delta = self.centres[cell] - self.centres[other]
        delta_sq = float(delta @ delta)
        along_mine = self.Z[mine].astype(np.float64) @ delta
        along_theirs = self.Z[theirs].astype(np.float64) @ delta
        # The squared distance of each row to the other cell's centre.
        gap_mine = self.sq[mine] + 2.0 * along_mine + delta_sq
        gap_theirs = self.sq[theirs] - 2.0 * along_theirs + delta_sq
        if self.cosine:
            centres = float(self.centres[cell] @ self.centres[other])
            row_term = 1.0 - (self.own[mine] - along_mine) - centres
            col_term = -(self.own[theirs] + along_theirs)
            weight, reach = 1.0, 1.0
        else:
            row_term, col_term = gap_mine - delta_sq, gap_theirs
            weight, reach = 2.0, float(np.sqrt(delta_sq))
        return _Terms(
            row_term, col_term, weight, reach,
            self._floor(gap_mine, self.norm[mine], self.radius[other], delta_sq),
            self._floor(gap_theirs, self.norm[theirs], self.radius[cell], delta_sq),
        )  # fmt: skip

    def _floor(
        self, gap_sq: np.ndarray, norms: np.ndarray, radius: float, delta_sq: float
    ) -> np.ndarray:
        """No row of a cell of this radius is nearer to these rows (at these squared
        distances from its centre) than the result.

        Triangle inequality, ``|y_i - y_j| >= |y_i - c| - radius``, less a slack;
        then squared (euclidean) or squared and halved (cosine: for unit or zero
        vectors the cosine distance is at least half the squared distance).
        """
        gap = np.sqrt(np.maximum(gap_sq, 0.0))
        slack = _CELL_SLACK * (gap + radius + norms + np.sqrt(delta_sq))
        reach = gap - radius - slack
        floor = np.where(reach > 0, reach * reach, 0.0)
        return floor / 2 if self.cosine else floor

    def cell_floors(self) -> np.ndarray:
        """``(C, C)``: no two rows of two cells are nearer than this (as :meth:`_floor`)."""
        centres = self.centres
        sq = (centres * centres).sum(axis=1)
        gap = np.sqrt(np.maximum(sq[:, None] + sq[None, :] - 2.0 * centres @ centres.T, 0.0))
        radii = self.radius[:, None] + self.radius[None, :]
        reach = gap - radii - _CELL_SLACK * (gap + radii + np.sqrt(sq)[:, None] + np.sqrt(sq))
        floor = np.where(reach > 0, reach * reach, 0.0)
        return floor / 2 if self.cosine else floor


@dataclass(frozen=True)
class _Terms:
    """The terms of :meth:`_Stored.terms`, and each row's floor towards the other cell."""

    row_term: np.ndarray
    col_term: np.ndarray
    weight: float
    reach: float
    row_floor: np.ndarray
    col_floor: np.ndarray


class _Heaps:
    """Every row's heap of its ``slots`` smallest upper bounds, with its band and root."""

    def __init__(self, n: int, slots: int) -> None:
        self.upper = np.full((n, slots), np.inf)
        self.lower = np.full((n, slots), np.inf)
        self.column = np.full((n, slots), -1, dtype=np.int64)
        self.band = np.full(n, np.inf)
        self.top = np.full(n, np.inf)

    def arrays(self) -> tuple[np.ndarray, ...]:
        """The arrays the kernels update, in their order."""
        return self.upper, self.lower, self.column, self.band, self.top


def _graph(
    X: np.ndarray,
    stored: _Stored,
    k: int,
    metric: str,
    spherize: bool,
    callback: Callback | None,
) -> KnnGraph:
    """Every cell against itself, then the pairs of cells that can hold neighbours, then
    the exact answers; the rows left open are settled with the index."""
    n = X.shape[0]
    heaps = _Heaps(n, min(k + _extra(k), n - 1))
    locks = [threading.Lock() for _ in stored.cells()]
    _steps(
        callback, 0.0, 0.1, "comparing the points within each group",
        lambda cell: _within(stored, heaps, cell), list(stored.cells()),
    )  # fmt: skip
    _steps(
        callback, 0.1, 0.9, "comparing the points of neighbouring groups",
        lambda pair: _between(stored, heaps, locks, *pair), _pairs(stored, heaps),
    )  # fmt: skip
    indices = np.empty((n, k), dtype=np.int32)
    distances = np.empty((n, k), dtype=np.float32)
    open_rows: list[np.ndarray] = []

    def settle(cell: int) -> None:
        rows, found, found_distances, unsettled = _settle(stored, heaps, cell, k, metric)
        indices[rows], distances[rows] = found, found_distances
        open_rows.append(unsettled)

    _steps(callback, 0.9, 0.95, "ranking the neighbours exactly", settle, list(stored.cells()))
    unsettled = np.concatenate(open_rows)
    if unsettled.size:
        report(callback, Progress(0.95, f"settling {unsettled.size:,} near-ties"))
        index = build(X, spherize=spherize)
        for row in unsettled.tolist():  # one at a time: each query uses the threads
            found = index.query(k=k, metric=metric, index=row)
            indices[row], distances[row] = found.indices, found.distances
    report(callback, Progress(1.0, "done"))
    return KnnGraph(indices, distances, int(unsettled.size))


def _steps(
    callback: Callback | None,
    start: float,
    stop: float,
    message: str,
    task: Callable[[T], None],
    pieces: list[T],
) -> None:
    """Run ``task`` on every piece in threads, reporting progress from ``start`` to ``stop``."""
    results = map_in_threads(task, pieces)
    try:
        for done, _ in enumerate(results, start=1):
            report(callback, Progress(start + (stop - start) * done / len(pieces), message))
    finally:
        # A stop closes the threads' iterator: the pieces not started yet are cancelled.
        getattr(results, "close", lambda: None)()


def _within(stored: _Stored, heaps: _Heaps, cell: int) -> None:
    """Every row of a cell against every other row of it (the rows are the task's own).

    The cell is cut in pieces; each pair of pieces is multiplied once and serves
    both directions, a piece with itself one direction.
    """
    rows = stored.span(cell)
    terms = stored.terms(cell, cell)
    pieces = _pieces(rows, _TASK_ROWS)
    for p, piece in enumerate(pieces):
        for other in pieces[p:]:
            _fold(stored, heaps, terms, piece, other, rows, rows, both=other != piece, locks=())


def _pairs(stored: _Stored, heaps: _Heaps) -> list[tuple[int, int]]:
    """The pairs of different cells whose rows may be neighbours, nearest first."""
    floors = stored.cell_floors()
    roots = np.maximum.reduceat(heaps.top, stored.starts)
    reach = np.maximum(roots[:, None], roots[None, :])
    first, second = np.nonzero(np.triu(floors <= reach, k=1))
    centres = stored.centres
    gaps = np.linalg.norm(centres[first] - centres[second], axis=1)
    order = np.lexsort((gaps, floors[first, second]))
    return list(zip(first[order].tolist(), second[order].tolist(), strict=True))


def _between(
    stored: _Stored, heaps: _Heaps, locks: list[threading.Lock], cell: int, other: int
) -> None:
    """The rows of two cells against each other, in both directions where it pays.

    Only rows whose floor towards the other cell is below their root take part.
    When many do on both sides, one product of the two cells serves both
    directions; else each side's active rows are multiplied with the other cell.
    """
    mine, theirs = stored.span(cell), stored.span(other)
    terms = stored.terms(cell, other)
    active_mine = mine.start + np.flatnonzero(terms.row_floor <= heaps.top[mine])
    active_theirs = theirs.start + np.flatnonzero(terms.col_floor <= heaps.top[theirs])
    n_mine, n_theirs = mine.stop - mine.start, theirs.stop - theirs.start
    one_way = active_mine.size * n_theirs + active_theirs.size * n_mine
    if active_mine.size and active_theirs.size and one_way >= n_mine * n_theirs:
        both = (locks[cell], locks[other])
        for piece in _pieces(mine, _TASK_ROWS):
            for block in _pieces(theirs, _COLUMN_BLOCK):
                _fold(stored, heaps, terms, piece, block, mine, theirs, both=True, locks=both)
        return
    flipped = _Terms(terms.col_term, terms.row_term, terms.weight, terms.reach,
                     terms.col_floor, terms.row_floor)  # fmt: skip
    for active, side, rows, columns, lock in (
        (active_mine, terms, mine, theirs, locks[cell]),
        (active_theirs, flipped, theirs, mine, locks[other]),
    ):
        for first in range(0, active.size, _TASK_ROWS):
            part = active[first : first + _TASK_ROWS]
            for block in _pieces(columns, _COLUMN_BLOCK):
                _fold(stored, heaps, side, part, block, rows, columns, both=False, locks=(lock,))


def _fold(
    stored: _Stored,
    heaps: _Heaps,
    terms: _Terms,
    rows: slice | np.ndarray,
    columns: slice,
    row_cell: slice,
    col_cell: slice,
    *,
    both: bool,
    locks: tuple[threading.Lock, ...],
) -> None:
    """Multiply some rows of a cell with a block of another's (float32, BLAS) and fold
    the products into the heaps, holding the locks of the heaps that change."""
    from embedding_projector.compute import _knn_graph_kernels as kernels

    positions = np.arange(rows.start, rows.stop) if isinstance(rows, slice) else rows
    dots = stored.Z[rows] @ stored.Z[columns].T
    row_term = terms.row_term[positions - row_cell.start]
    col_term = terms.col_term[columns.start - col_cell.start : columns.stop - col_cell.start]
    with contextlib.ExitStack() as held:
        for lock in locks:
            held.enter_context(lock)
        kernels.fold(
            dots, positions, row_term, stored.norm[rows], columns.start, col_term,
            stored.norm[columns], terms.weight, terms.reach, stored.bounds, both,
            *heaps.arrays(),
        )  # fmt: skip


def _pieces(rows: slice, size: int) -> list[slice]:
    """A range of rows cut into pieces of at most ``size``."""
    return [
        slice(start, min(start + size, rows.stop)) for start in range(rows.start, rows.stop, size)
    ]


def _extra(k: int) -> int:
    """Heap slots beyond k: room for near-ties at the k-th place before a row stays open."""
    return max(2, k // 2)


def _settle(
    stored: _Stored, heaps: _Heaps, cell: int, k: int, metric: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Exact answers of a cell's rows whose heaps provably hold their k nearest.

    Returns the settled rows (original numbers), their neighbours and distances,
    and the rows left open.
    """
    rows = stored.span(cell)
    by_upper = np.argsort(heaps.upper[rows], axis=1, kind="stable")
    upper = np.take_along_axis(heaps.upper[rows], by_upper, axis=1)
    lower = np.take_along_axis(heaps.lower[rows], by_upper, axis=1)
    columns = np.take_along_axis(heaps.column[rows], by_upper, axis=1)
    kth = upper[:, k - 1]
    certain = heaps.band[rows] > kth
    originals = stored.order[rows]
    # Only heap entries whose lower bound is below the k-th upper bound can be among the k.
    pair_row, pair_slot = np.nonzero(certain[:, None] & (lower <= kth[:, None]))
    queries = to_space(stored.X[originals], stored.sphere_mean)
    candidates = stored.order[columns[pair_row, pair_slot]]
    exact = exact_distances(
        to_space(stored.X[candidates], stored.sphere_mean), queries[pair_row], metric
    )
    ranked = np.lexsort((candidates, exact, pair_row))
    # Each settled row has at least k candidates; keep the first k of each row's run.
    run_start = np.searchsorted(pair_row[ranked], pair_row[ranked], side="left")
    keep = ranked[np.arange(ranked.size) - run_start < k]
    return (
        originals[certain],
        candidates[keep].reshape(-1, k),
        exact[keep].reshape(-1, k),
        originals[~certain],
    )


def _blocks(n: int) -> list[slice]:
    return [slice(start, min(start + _BLOCK_ROWS, n)) for start in range(0, n, _BLOCK_ROWS)]

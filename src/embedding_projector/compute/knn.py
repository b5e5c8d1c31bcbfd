"""Exact nearest neighbours of a point, a set of points or a vector, on all points.

:func:`build` groups the (optionally spherized) vectors into coarse clusters
(k-means on a sample, see :mod:`._knn_clusters`), stores them cluster by
cluster and quantises each row, minus its cluster's centre, to int8 with one
scale per row (numba, in threads: ~2 s at 1M x 128). A query is quantised to
int16 and scans the int8 copy (a quarter of the bytes of float32, which is what
bounds a scan of 1M x 128), nearest clusters first, getting for every row an
interval proven to contain its exact distance (see :mod:`._knn_kernels`). The
scan keeps the k smallest upper bounds as it goes, only the rows whose lower
bound is below them, and skips every cluster that the triangle inequality puts
beyond them. With ``tau`` the final k-th smallest upper bound, only rows whose
lower bound is <= ``tau`` can be among the k nearest. When many are left
(distances that are near-ties) their exact distances are bounded from the
float32 rows in numba first; the few survivors are re-ranked exactly, in
float64, by numpy. The result is the exact brute-force answer, ties broken by
the lower index (docs/decisions.md has the measurements that chose this design).

Cosine means cosine: the norms are those of the actual vectors, never assumed
to be 1 (TensorBoard's bug). The cosine distance of a zero vector to anything
is 1.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from embedding_projector.compute.preprocess import centroid, to_space
from embedding_projector.compute.threads import map_in_threads
from embedding_projector.compute.validation import check_choice, check_int, check_vectors
from embedding_projector.errors import InvalidParameterError

METRICS = ("cosine", "euclidean")
#: Candidates of the int8 scan beyond which their exact distances are bounded in numba
#: before numpy's re-rank.
_REFINE_ABOVE = 1_000


@dataclass(frozen=True)
class Neighbors:
    """The k nearest rows, nearest first: ``indices`` (int64) and ``distances`` (float64)."""

    indices: np.ndarray
    distances: np.ndarray


def build(
    X: np.ndarray, *, spherize: bool = False, centre: np.ndarray | None = None
) -> NeighborIndex:
    """Prepare exact neighbour queries on ``X``.

    Parameters
    ----------
    X
        ``(N, D)`` float32 vectors, N >= 2; kept by reference (a memory map stays
        one), so it must not change while the index is used.
    spherize
        Search in the spherized space (centroid subtracted, rows scaled to unit
        length), as TensorBoard does when "Spherize data" is on.
    centre
        With ``spherize``: the centroid to subtract, when ``X`` is one shard of a larger
        set (the set's centroid); default the centroid of ``X``.

    Returns
    -------
    NeighborIndex
        Holds an int8 copy of the vectors (N x D bytes), six float64 numbers
        and two int64 indices per row (192 bytes a row for D = 128). Building
        1M x 128 takes about two seconds on two cores.
    """
    return NeighborIndex(check_vectors(X, min_samples=2), spherize=bool(spherize), centre=centre)


class NeighborIndex:
    """Exact k-nearest-neighbour queries; see :func:`build`. Safe to query from many threads."""

    def __init__(self, X: np.ndarray, *, spherize: bool, centre: np.ndarray | None = None) -> None:
        from embedding_projector.compute import _knn_clusters as clusters
        from embedding_projector.compute import _knn_kernels as kernels

        self._X = X
        self.n_samples, self.n_features = X.shape
        self.spherize = spherize
        if not spherize:
            self._sphere_mean = np.zeros(self.n_features)
        else:
            self._sphere_mean = centroid(X) if centre is None else np.asarray(centre, np.float64)
        n = self.n_samples
        # A memory map's subclass is dropped (numba wants a plain array); nothing is copied.
        plain = np.asarray(X)
        sums = map_in_threads(
            lambda rows: kernels.row_sum(plain, self._sphere_mean, spherize, rows.start, rows.stop),
            _chunks(n),
        )
        self._mean: np.ndarray = np.sum(list(sums), axis=0) / n
        found = clusters.find(self.searched, self._block, n, self._mean)
        # Rows are stored cluster by cluster: position i holds row _order[i].
        self._order = np.argsort(found.labels, kind="stable")
        self._position = np.empty(n, dtype=np.int64)
        self._position[self._order] = np.arange(n)
        sorted_labels = found.labels[self._order]
        self._starts = np.flatnonzero(np.r_[True, sorted_labels[1:] != sorted_labels[:-1]])
        self._stops = np.r_[self._starts[1:], n]
        self._codes = np.empty(X.shape, dtype=np.int8)
        self._scale, self._code_norm, self._residual = np.empty(n), np.empty(n), np.empty(n)
        norm, self._centred_sq_norm, self._z_norm = np.empty(n), np.empty(n), np.empty(n)
        unit_distance = np.empty(n)
        outputs = (self._codes, self._scale, self._code_norm, self._residual, norm,
                   self._centred_sq_norm, self._z_norm, unit_distance)  # fmt: skip
        done = map_in_threads(
            lambda rows: kernels.quantize(
                plain, self._position, found.labels, self._sphere_mean, spherize, found.centres,
                self._mean, rows.start, rows.stop, *outputs,
            ),
            _chunks(n),
        )  # fmt: skip
        list(done)
        self._inv_norm = np.divide(1.0, norm, out=np.zeros(n), where=norm > 0)
        self._geometry = clusters.geometry(
            found.centres, self._starts, self._z_norm, unit_distance, norm
        )
        self._centred_centres = found.centres - self._mean

    def query(
        self,
        *,
        k: int,
        metric: str = "cosine",
        index: int | None = None,
        indices: Sequence[int] | np.ndarray | None = None,
        vector: Any = None,
    ) -> Neighbors:
        """The ``k`` nearest rows to one target, excluding the target rows themselves.

        Parameters
        ----------
        k
            How many neighbours, 1 .. (N - number of excluded rows).
        metric
            ``"cosine"`` (1 - cosine similarity, in [0, 2]) or ``"euclidean"``.
        index
            Neighbours of this row (itself excluded).
        indices
            Neighbours of the centroid of these rows (themselves excluded). For
            cosine the centroid is that of their unit vectors, so that every
            member weighs the same whatever its norm.
        vector
            Neighbours of this raw ``(D,)`` vector, in the original space (it is
            spherized like the rows when the index is); nothing is excluded.

        Returns
        -------
        Neighbors
            Exactly the brute-force result; equal distances are ordered by index.
        """
        metric = check_choice("metric", metric, METRICS)
        query, exclude = self._target(index, indices, vector, metric)
        return self.search(query, metric=metric, k=k, exclude=exclude)

    def search(self, query: np.ndarray, *, metric: str, k: int, exclude: np.ndarray) -> Neighbors:
        """The ``k`` nearest rows to ``query``, a vector already in the searched space.

        What :meth:`query` does once it has the query vector; a shard of a larger index
        (:mod:`embedding_projector.compute.distributed.knn`) is searched with it directly.

        Parameters
        ----------
        query
            ``(D,)`` float64, spherized already when the index is (:meth:`searched`).
        metric
            ``"cosine"`` or ``"euclidean"``.
        k
            How many neighbours, 1 .. (N - len(exclude)).
        exclude
            Sorted distinct row numbers that are never returned.

        Returns
        -------
        Neighbors
            Exactly the brute-force result; equal distances are ordered by index.
        """
        metric = check_choice("metric", metric, METRICS)
        k = check_int("k", k, low=1, high=self.n_samples - len(exclude))
        if metric == "cosine" and not query.any():
            # A zero query is at distance 1 from every row: the first k rows win.
            candidates = np.setdiff1d(np.arange(k + exclude.size), exclude)
        else:
            candidates = self._scan(query, metric, k, exclude)
        if candidates.size > _REFINE_ABOVE:
            candidates = self._refine(candidates, query, metric, k)
        return self._rerank(candidates, query, metric, k)

    # -- targets -------------------------------------------------------------

    def _target(
        self, index: Any, indices: Any, vector: Any, metric: str
    ) -> tuple[np.ndarray, np.ndarray]:
        """The query vector in the searched space and the rows to exclude."""
        if sum(target is not None for target in (index, indices, vector)) != 1:
            raise InvalidParameterError("give exactly one of `index`, `indices` or `vector`")
        if index is not None:
            row = check_int("index", index, low=0, high=self.n_samples - 1)
            return self.searched(np.array([row]))[0], np.array([row])
        if indices is not None:
            members = check_indices(indices, self.n_samples)
            return centroid_query(self.searched(members), metric), members
        vector = check_query_vector(vector, self.n_features)
        query: np.ndarray = self._transform(vector.reshape(1, -1))[0]
        return query, np.empty(0, dtype=np.int64)

    # -- the scan ------------------------------------------------------------

    def _scan(self, query: np.ndarray, metric: str, k: int, exclude: np.ndarray) -> np.ndarray:
        """Rows whose int8 bounds leave them a chance to be among the k nearest."""
        from embedding_projector.compute import _knn_clusters as clusters
        from embedding_projector.compute import _knn_kernels as kernels

        cosine = metric == "cosine"
        p = query if cosine else query - self._mean
        r, t, f_norm = _quantize_query(p, self.n_features)
        p_norm = float(np.linalg.norm(p))
        centres = self._geometry.centres if cosine else self._centred_centres
        floors = clusters.floors(self._geometry, query, cosine)
        ranked = np.argsort(floors, kind="stable")  # nearest clusters first
        segments, owner = _segments(self._starts[ranked], self._stops[ranked])
        cluster = ranked[owner]
        offsets, floors = centres[cluster] @ p, floors[cluster]
        centre_norms = np.linalg.norm(centres, axis=1)[cluster]
        row_term = self._inv_norm if cosine else self._centred_sq_norm
        positions = np.sort(self._position[exclude])
        best = _Best(k)

        def scan(task: slice) -> tuple[np.ndarray, np.ndarray]:
            heap = np.full(k, np.inf)
            size = int((segments[task, 1] - segments[task, 0]).sum())
            found, found_lower = np.empty(size, dtype=np.int64), np.empty(size)
            count = kernels.scan(
                self._codes, r, self._scale, self._code_norm, self._residual, row_term,
                self._z_norm, cosine, t, f_norm, p_norm, segments[task], offsets[task],
                centre_norms[task], floors[task], best.tau, positions, heap, found, found_lower,
            )  # fmt: skip
            best.merge(heap)
            return found[:count], found_lower[:count]

        parts = list(map_in_threads(scan, _tasks(segments)))
        found = np.concatenate([rows for rows, _ in parts])
        found_lower = np.concatenate([lower for _, lower in parts])
        survivors: np.ndarray = self._order[found[found_lower <= best.tau]]
        return survivors

    def _refine(self, rows: np.ndarray, query: np.ndarray, metric: str, k: int) -> np.ndarray:
        """Narrow many candidates with their exact distances, computed in numba.

        Clustered data leaves thousands of rows inside the int8 bounds (their
        distances to the query are nearly equal); numpy's re-rank of them would
        copy every row to float64 several times.
        """
        from embedding_projector.compute import _knn_kernels as kernels

        lower, upper = np.empty(rows.size), np.empty(rows.size)
        plain = np.asarray(self._X)

        def bound(part: slice) -> None:
            kernels.exact_bounds(
                plain, rows[part], query, self._sphere_mean, self.spherize,
                metric == "cosine", lower[part], upper[part],
            )  # fmt: skip

        list(map_in_threads(bound, _chunks(rows.size)))
        tau = np.partition(upper, k - 1)[k - 1]
        refined: np.ndarray = rows[lower <= tau]
        return refined

    def _rerank(self, candidates: np.ndarray, query: np.ndarray, metric: str, k: int) -> Neighbors:
        """Exact distances of the candidates, the k best kept (ties: lower index first)."""
        distance = exact_distances(self.searched(candidates), query, metric)
        keep = np.lexsort((candidates, distance))[:k]
        return Neighbors(candidates[keep], distance[keep])

    # -- the searched space --------------------------------------------------

    def searched(self, rows: slice | np.ndarray) -> np.ndarray:
        """Rows in the searched space (spherized if the index is), float64."""
        return self._transform(self._X[rows])

    def _block(self, rows: slice) -> np.ndarray:
        """A range of rows in the searched space: float32 as stored, float64 if spherized."""
        return self._X[rows] if not self.spherize else self.searched(rows)

    def _transform(self, block: np.ndarray) -> np.ndarray:
        """Map float32 rows into the searched space, float64."""
        return to_space(block, self._sphere_mean if self.spherize else None)


def exact_distances(rows: np.ndarray, queries: np.ndarray, metric: str) -> np.ndarray:
    """The exact float64 distance of each row to its query: the definition of "nearest".

    Parameters
    ----------
    rows
        ``(M, D)`` float64 rows in the searched space.
    queries
        One ``(D,)`` query for all rows, or ``(M, D)``: one per row.
    metric
        ``"cosine"`` (1 for a zero vector) or ``"euclidean"``.

    Returns
    -------
    numpy.ndarray
        ``(M,)`` float64. Each row is summed on its own (numpy's pairwise sum over
        its ``D`` values), so a value never depends on the other rows: every
        caller gets bit-identical distances, and equal inputs tie exactly.
    """
    if metric == "euclidean":
        distance: np.ndarray = np.sqrt(((rows - queries) ** 2).sum(axis=-1))
        return distance
    q_norms = np.sqrt((queries * queries).sum(axis=-1))
    norms = np.sqrt((rows * rows).sum(axis=-1))
    similarity = (rows * queries).sum(axis=-1)
    valid = (norms > 0) & (q_norms > 0)
    denominator = np.where(valid, norms * q_norms, 1.0)
    cosine: np.ndarray = np.where(valid, 1.0 - similarity / denominator, 1.0)
    return cosine


def check_indices(indices: Any, n_samples: int) -> np.ndarray:
    """Distinct sorted row numbers in ``0..n_samples-1``, or :class:`InvalidParameterError`."""
    members = np.unique(np.asarray(indices))
    if members.size == 0:
        raise InvalidParameterError("`indices` must not be empty")
    if not np.issubdtype(members.dtype, np.integer):
        raise InvalidParameterError("`indices` must be integers")
    if members[0] < 0 or members[-1] >= n_samples:
        raise InvalidParameterError(
            f"`indices` must be between 0 and {n_samples - 1}, "
            f"got {members[0] if members[0] < 0 else members[-1]}"
        )
    return members.astype(np.int64)


def check_query_vector(vector: Any, n_features: int) -> np.ndarray:
    """A raw query vector of ``n_features`` finite numbers, as float32 ``(D,)``."""
    array = check_vectors(np.asarray(vector).reshape(1, -1), name="vector")
    if array.shape[1] != n_features:
        raise InvalidParameterError(f"`vector` must have {n_features} values, got {array.shape[1]}")
    vector_row: np.ndarray = array[0]
    return vector_row


def centroid_query(rows: np.ndarray, metric: str) -> np.ndarray:
    """The query for a set of rows (in the searched space): their centroid.

    For cosine, the centroid of their unit vectors, so that every member weighs the
    same whatever its norm.
    """
    if metric == "cosine":
        norms = np.linalg.norm(rows, axis=1, keepdims=True)
        rows = rows / np.where(norms > 0, norms, 1.0)
    query: np.ndarray = rows.mean(axis=0)
    return query


def _quantize_query(p: np.ndarray, n_features: int) -> tuple[np.ndarray, float, float]:
    """int16 codes ``r`` and step ``t`` of the query (``p ~ t * r``), and ``||p - t * r||``.

    The codes are as fine as int32 sums of ``n_features`` products with int8 codes allow.
    """
    limit = min(32_767, (2**31 - 1) // (127 * n_features))
    biggest = float(np.abs(p).max())
    if biggest == 0:
        return np.zeros(p.size, dtype=np.int16), 0.0, 0.0
    t = biggest / limit
    codes = np.clip(np.rint(p / t), -limit, limit)
    return codes.astype(np.int16), t, float(np.linalg.norm(p - codes * t))


def _chunks(n: int) -> list[slice]:
    """Row ranges handed to the threads (many more than cores: see :mod:`.threads`)."""
    return [slice(start, min(start + _CHUNK_ROWS, n)) for start in range(0, n, _CHUNK_ROWS)]


def _segments(starts: np.ndarray, stops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The clusters' row ranges cut to at most ``_CHUNK_ROWS``; each piece's cluster rank."""
    pieces, owner = [], []
    for rank, (start, stop) in enumerate(zip(starts.tolist(), stops.tolist(), strict=True)):
        for first in range(start, stop, _CHUNK_ROWS):
            pieces.append((first, min(first + _CHUNK_ROWS, stop)))
            owner.append(rank)
    return np.array(pieces, dtype=np.int64).reshape(-1, 2), np.array(owner, dtype=np.int64)


def _tasks(segments: np.ndarray) -> list[slice]:
    """Consecutive segments grouped into tasks of about ``_CHUNK_ROWS`` rows, in order."""
    tasks, first, rows = [], 0, 0
    for i, size in enumerate((segments[:, 1] - segments[:, 0]).tolist()):
        rows += size
        if rows >= _CHUNK_ROWS:
            tasks.append(slice(first, i + 1))
            first, rows = i + 1, 0
    if first < len(segments):
        tasks.append(slice(first, len(segments)))
    return tasks


class _Best:
    """The k smallest upper bounds of the tasks finished so far; ``tau`` the largest of them.

    A task starting later reads ``tau`` as its cutoff: with it, it skips rows and
    clusters from the start instead of after its own first k rows.
    """

    def __init__(self, k: int) -> None:
        self._values = np.full(k, np.inf)
        self._lock = threading.Lock()
        self.tau = np.inf

    def merge(self, heap: np.ndarray) -> None:
        with self._lock:
            k = self._values.size
            self._values = np.partition(np.concatenate([self._values, heap]), k - 1)[:k]
            self.tau = float(self._values.max())


_CHUNK_ROWS = 65_536

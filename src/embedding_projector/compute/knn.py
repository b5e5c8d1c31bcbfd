"""Exact nearest neighbours of a point, a set of points or a vector, on all points.

:func:`build` quantises the (optionally spherized) vectors, centred on their
mean, to int8 with one scale per row. A query scans the int8 copy (a quarter of
the bytes of float32, which is what bounds a scan of 1M x 128) and gets for
every row an interval proven to contain its exact distance (see
:mod:`._knn_kernels`). With ``tau`` the k-th smallest upper bound, only rows
whose lower bound is <= ``tau`` can be among the k nearest; those few are
re-ranked exactly, in float64, from the original float32 rows. The result is
the exact brute-force answer, ties broken by the lower index
(docs/decisions.md has the measurements that chose this design).

Cosine means cosine: the norms are those of the actual vectors, never assumed
to be 1 (TensorBoard's bug). The cosine distance of a zero vector to anything
is 1.
"""

from __future__ import annotations

import functools
import itertools
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from embedding_projector.compute.preprocess import BLOCK_ROWS, centroid, spherize_rows
from embedding_projector.compute.validation import check_choice, check_int, check_vectors
from embedding_projector.errors import InvalidParameterError

METRICS = ("cosine", "euclidean")
#: Candidates of the int8 scan beyond which the second-level codes narrow them first.
_REFINE_ABOVE = 2_000


@dataclass(frozen=True)
class Neighbors:
    """The k nearest rows, nearest first: ``indices`` (int64) and ``distances`` (float64)."""

    indices: np.ndarray
    distances: np.ndarray


def build(X: np.ndarray, *, spherize: bool = False) -> NeighborIndex:
    """Prepare exact neighbour queries on ``X``.

    Parameters
    ----------
    X
        ``(N, D)`` float32 vectors, N >= 2; kept by reference (a memory map stays
        one), so it must not change while the index is used.
    spherize
        Search in the spherized space (centroid subtracted, rows scaled to unit
        length), as TensorBoard does when "Spherize data" is on.

    Returns
    -------
    NeighborIndex
        Holds an int8 copy of the vectors (N x D bytes) and five float64 numbers
        per row. Building 1M x 128 takes about two seconds.
    """
    return NeighborIndex(check_vectors(X, min_samples=2), spherize=bool(spherize))


class NeighborIndex:
    """Exact k-nearest-neighbour queries; see :func:`build`. Safe to query from many threads."""

    def __init__(self, X: np.ndarray, *, spherize: bool) -> None:
        from embedding_projector.compute import _knn_kernels as kernels

        self._X = X
        self.n_samples, self.n_features = X.shape
        self.spherize = spherize
        self._sphere_mean = centroid(X) if spherize else None
        n = self.n_samples
        self._codes = np.empty(X.shape, dtype=np.int8)
        self._scale, self._code_norm, self._residual = np.empty(n), np.empty(n), np.empty(n)
        self._norm = np.empty(n)
        self._codes2 = np.empty(X.shape, dtype=np.int8)
        self._scale2, self._residual2 = np.empty(n), np.empty(n)
        self._mean = self._transformed_mean()
        for start in range(0, n, BLOCK_ROWS):
            self._quantize(start, self._rows(slice(start, start + BLOCK_ROWS)))
        self._z_sq_norm = np.empty(n)
        for start in range(0, n, BLOCK_ROWS):
            z = self._rows(slice(start, start + BLOCK_ROWS)) - self._mean
            self._z_sq_norm[start : start + BLOCK_ROWS] = np.einsum("ij,ij->i", z, z)
        self._inv_norm = np.divide(1.0, self._norm, out=np.zeros(n), where=self._norm > 0)
        spread = np.sqrt(self._z_sq_norm) + np.linalg.norm(self._mean)
        self._cosine_slack = kernels.SLACK * (1.0 + self._inv_norm * spread)

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
        k = check_int("k", k, low=1, high=self.n_samples - len(exclude))
        lower, upper = self._bounds(query, metric)
        lower[exclude] = np.inf
        upper[exclude] = np.inf
        tau = np.partition(upper, k - 1)[k - 1]
        candidates = np.flatnonzero(lower <= tau)
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
            return self._rows(np.array([row]))[0], np.array([row])
        if indices is not None:
            members = self._check_indices(indices)
            rows = self._rows(members)
            if metric == "cosine":
                norms = np.linalg.norm(rows, axis=1, keepdims=True)
                rows = rows / np.where(norms > 0, norms, 1.0)
            return rows.mean(axis=0), members
        return self._check_vector(vector), np.empty(0, dtype=np.int64)

    def _check_indices(self, indices: Any) -> np.ndarray:
        members = np.unique(np.asarray(indices))
        if members.size == 0:
            raise InvalidParameterError("`indices` must not be empty")
        if not np.issubdtype(members.dtype, np.integer):
            raise InvalidParameterError("`indices` must be integers")
        if members[0] < 0 or members[-1] >= self.n_samples:
            raise InvalidParameterError(
                f"`indices` must be between 0 and {self.n_samples - 1}, "
                f"got {members[0] if members[0] < 0 else members[-1]}"
            )
        return members.astype(np.int64)

    def _check_vector(self, vector: Any) -> np.ndarray:
        array = check_vectors(np.asarray(vector).reshape(1, -1), name="vector")
        if array.shape[1] != self.n_features:
            raise InvalidParameterError(
                f"`vector` must have {self.n_features} values, got {array.shape[1]}"
            )
        query: np.ndarray = self._transform(array)[0]
        return query

    # -- the scan ------------------------------------------------------------

    def _bounds(self, query: np.ndarray, metric: str) -> tuple[np.ndarray, np.ndarray]:
        """Per-row float32 intervals that contain the exact (squared, for euclidean) distance."""
        from embedding_projector.compute import _knn_kernels as kernels

        n = self.n_samples
        lower, upper = np.empty(n, dtype=np.float32), np.empty(n, dtype=np.float32)
        q_norm = float(np.linalg.norm(query))
        if metric == "cosine" and q_norm == 0:
            lower.fill(1.0)  # A zero query is at distance 1 from everything.
            upper.fill(1.0)
            return lower, upper
        shared = (self._codes, self._scale, self._code_norm, self._residual)
        if metric == "cosine":
            r, t, f_norm = _quantize_query(query)
            mean_dot = float(self._mean @ query)

            def scan(rows: slice) -> None:
                codes, scale, code_norm, residual = (a[rows] for a in shared)
                kernels.cosine_bounds(
                    codes, r, scale, code_norm, residual, self._inv_norm[rows],
                    self._cosine_slack[rows], t, f_norm, q_norm, mean_dot, lower[rows], upper[rows],
                )  # fmt: skip
        else:
            p = query - self._mean
            r, t, f_norm = _quantize_query(p)
            p_norm = float(np.linalg.norm(p))

            def scan(rows: slice) -> None:
                codes, scale, code_norm, residual = (a[rows] for a in shared)
                kernels.euclidean_bounds(
                    codes, r, scale, code_norm, residual, self._z_sq_norm[rows],
                    t, f_norm, p_norm, lower[rows], upper[rows],
                )  # fmt: skip

        _run_split(scan, n)
        return lower, upper

    def _refine(self, rows: np.ndarray, query: np.ndarray, metric: str, k: int) -> np.ndarray:
        """Narrow many candidates with the second-level codes (bounds ~250x tighter).

        Clustered data leaves tens of thousands of rows inside the int8 bounds;
        their ``scale * codes + scale2 * codes2`` approximation is exact to the
        norm of a residual that is 1/127 of the first one.
        """
        from embedding_projector.compute import _knn_kernels as kernels

        p = query if metric == "cosine" else query - self._mean
        p_norm = float(np.linalg.norm(p))
        if p_norm == 0:  # a zero cosine query (all at distance 1) or a query at the mean
            return rows
        dot = np.empty(rows.size)
        arrays = (self._codes, self._codes2, self._scale, self._scale2)

        def part_dots(part: slice) -> None:
            kernels.two_level_dots(*arrays, rows[part], p, dot[part])

        _run_split(part_dots, rows.size)
        err = self._residual2[rows] * p_norm
        if metric == "cosine":
            b = self._inv_norm[rows] / p_norm
            approx = dot + float(self._mean @ query)
            slack = self._cosine_slack[rows] + kernels.SLACK * b * err
            lower, upper = 1 - b * (approx + err) - slack, 1 - b * (approx - err) + slack
        else:
            base = self._z_sq_norm[rows] + p_norm**2
            slack = kernels.SLACK * 2 * (base + err)
            lower, upper = base - 2 * (dot + err) - slack, base - 2 * (dot - err) + slack
        tau = np.partition(upper, k - 1)[k - 1]
        refined: np.ndarray = rows[lower <= tau]
        return refined

    def _rerank(self, candidates: np.ndarray, query: np.ndarray, metric: str, k: int) -> Neighbors:
        """Exact distances of the candidates, the k best kept (ties: lower index first)."""
        best_index = np.empty(0, dtype=np.int64)
        best_distance = np.empty(0)
        for start in range(0, candidates.size, BLOCK_ROWS):
            block = candidates[start : start + BLOCK_ROWS]
            index = np.concatenate([best_index, block])
            distance = np.concatenate([best_distance, self._exact(block, query, metric)])
            keep = np.lexsort((index, distance))[:k]
            best_index, best_distance = index[keep], distance[keep]
        return Neighbors(best_index, best_distance)

    def _exact(self, rows: np.ndarray, query: np.ndarray, metric: str) -> np.ndarray:
        """Exact float64 distances; summed row by row, so a row's value never depends on others."""
        y = self._rows(rows)
        if metric == "euclidean":
            distance: np.ndarray = np.sqrt(((y - query) ** 2).sum(axis=1))
            return distance
        q_norm = float(np.sqrt((query * query).sum()))
        norms = self._norm[rows]
        similarity = (y * query).sum(axis=1)
        valid = (norms > 0) & (q_norm > 0)
        denominator = np.where(valid, norms * q_norm, 1.0)
        return np.where(valid, 1.0 - similarity / denominator, 1.0)

    # -- building ------------------------------------------------------------

    def _rows(self, rows: slice | np.ndarray) -> np.ndarray:
        """Rows in the searched space, float64."""
        return self._transform(self._X[rows])

    def _transform(self, block: np.ndarray) -> np.ndarray:
        """Map float32 rows into the searched space, float64."""
        if self._sphere_mean is None:
            return np.asarray(block, dtype=np.float64)
        return spherize_rows(block, self._sphere_mean)

    def _transformed_mean(self) -> np.ndarray:
        if self._sphere_mean is None:
            return centroid(self._X)
        total = np.zeros(self.n_features)
        for start in range(0, self.n_samples, BLOCK_ROWS):
            total += self._rows(slice(start, start + BLOCK_ROWS)).sum(axis=0)
        mean: np.ndarray = total / self.n_samples
        return mean

    def _quantize(self, start: int, y: np.ndarray) -> None:
        """Store int8 codes of ``y - mean`` and the per-row numbers the bounds need."""
        rows = slice(start, start + y.shape[0])
        self._norm[rows] = np.sqrt((y * y).sum(axis=1))
        z = y - self._mean
        codes, scale, residual = _quantize(z)
        self._codes[rows] = codes
        self._scale[rows] = scale
        self._code_norm[rows] = scale * np.sqrt(
            np.einsum("ij,ij->i", codes, codes, dtype=np.float64)
        )
        self._residual[rows] = residual
        # Second level: the residual quantised again, for _refine.
        codes2, scale2, residual2 = _quantize(z - codes * scale[:, None])
        self._codes2[rows] = codes2
        self._scale2[rows] = scale2
        self._residual2[rows] = residual2


def _quantize(z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-row symmetric int8 quantisation: codes, scales and the norms of the residuals."""
    scale = np.abs(z).max(axis=1) / 127.0
    safe = np.where(scale > 0, scale, 1.0)[:, None]
    codes = np.clip(np.rint(z / safe), -127, 127).astype(np.int8)
    residual = np.linalg.norm(z - codes * np.where(scale > 0, scale, 0.0)[:, None], axis=1)
    return codes, scale, residual


def _quantize_query(p: np.ndarray) -> tuple[np.ndarray, float, float]:
    codes, scale, residual = _quantize(p.reshape(1, -1))
    return codes[0], float(scale[0]), float(residual[0])


def _run_split(task: Callable[[slice], None], n: int) -> None:
    """Run ``task`` on one contiguous row range per core, in threads (the kernels drop the GIL)."""
    bounds = np.linspace(0, n, _N_THREADS + 1).astype(int)
    futures = [_pool().submit(task, slice(a, b)) for a, b in itertools.pairwise(bounds)]
    for future in futures:
        future.result()


_N_THREADS = os.cpu_count() or 1


@functools.cache
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=_N_THREADS, thread_name_prefix="knn")

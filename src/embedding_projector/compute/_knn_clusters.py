"""Coarse clusters of :mod:`.knn`: rows grouped so that a query can skip whole clusters.

The index stores its rows cluster by cluster, each coded relative to its cluster's
centre (a smaller residual than from the global mean, so tighter int8 bounds). For
every cluster it knows how far its rows are from the centre: in the searched space
(for euclidean) and between unit vectors (for cosine, whose distance is half the
squared distance of the unit vectors). By the triangle inequality, no row of a
cluster is nearer to a query than the query's distance to the centre minus that
radius, so clusters beyond the current k-th distance are never read. Clustered
data (most real embeddings) skips most rows; on structureless data nothing is
skipped, and the clusters cost one small matrix product per query.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from embedding_projector.compute.threads import map_in_threads

#: Clusters for N rows: N / _ROWS_PER_CLUSTER, at most _MAX_CLUSTERS (a query ranks
#: them all, and each must hold enough rows for its skip to pay).
_ROWS_PER_CLUSTER = 2_048
_MAX_CLUSTERS = 64
#: k-means runs on a sample of this many rows per cluster, for this many rounds.
_SAMPLE_PER_CLUSTER = 128
_ROUNDS = 10
#: Relative widening of the skip bounds: their float64 rounding is ~1e-15.
_SLACK = 1e-9


@dataclass(frozen=True)
class Clusters:
    """Which cluster each row is in, with the cluster centres."""

    centres: np.ndarray
    """``(C, D)`` float64, in the searched space."""
    labels: np.ndarray
    """``(N,)`` cluster of each row."""


def find(
    rows: Callable[[np.ndarray], np.ndarray],
    blocks: Callable[[slice], np.ndarray],
    n: int,
    mean: np.ndarray,
    *,
    n_clusters: int | None = None,
) -> Clusters:
    """k-means on a sample of the rows, then every row assigned to its nearest centre.

    Parameters
    ----------
    rows
        Rows (by index) in the searched space, float64.
    blocks
        A range of rows in the searched space, any float type.
    n
        Number of rows.
    mean
        Their mean, the single centre of small inputs.
    n_clusters
        How many clusters; by default ``n / 2,048``, at most 64 (the index's choice).
    """
    if n_clusters is None:
        n_clusters = min(_MAX_CLUSTERS, n // _ROWS_PER_CLUSTER)
    if n_clusters <= 1:
        return Clusters(mean[None, :].copy(), np.zeros(n, dtype=np.int64))
    rng = np.random.default_rng(0)
    sample = rows(np.sort(rng.choice(n, min(n, _SAMPLE_PER_CLUSTER * n_clusters), replace=False)))
    centres = sample[rng.choice(sample.shape[0], n_clusters, replace=False)]
    for _ in range(_ROUNDS):
        labels = _nearest(sample, centres)
        counts = np.bincount(labels, minlength=n_clusters)
        filled = counts > 0  # an emptied cluster keeps its centre
        centres[filled] = _sums(labels, sample, n_clusters)[filled] / counts[filled, None]
    centres32 = centres.astype(np.float32)
    starts = range(0, n, 65_536)
    parts = map_in_threads(
        lambda start: _nearest(blocks(slice(start, start + 65_536)), centres32), starts
    )
    labels = np.concatenate(list(parts))
    used, labels = np.unique(labels, return_inverse=True)
    return Clusters(centres[used], labels.astype(np.int64))


def _sums(labels: np.ndarray, sample: np.ndarray, n_clusters: int) -> np.ndarray:
    """Per cluster, the sum of its sample rows (zero for an empty cluster)."""
    order = np.argsort(labels, kind="stable")
    sorted_labels = labels[order]
    starts = np.flatnonzero(np.r_[True, sorted_labels[1:] != sorted_labels[:-1]])
    sums = np.zeros((n_clusters, sample.shape[1]))
    sums[sorted_labels[starts]] = np.add.reduceat(sample[order], starts, axis=0)
    return sums


def _nearest(block: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Index of the nearest centre of each row (ties: the first)."""
    scores = block.astype(centres.dtype, copy=False) @ centres.T
    scores -= 0.5 * (centres * centres).sum(axis=1)
    nearest: np.ndarray = scores.argmax(axis=1)
    return nearest


@dataclass(frozen=True)
class Geometry:
    """What a query needs to bound whole clusters; see :func:`floors`."""

    centres: np.ndarray
    """``(C, D)`` centres in the searched space."""
    unit_centres: np.ndarray
    """``(C, D)`` the centres scaled to unit length (zero for a zero centre)."""
    radius: np.ndarray
    """``(C,)`` largest distance of a row to its centre."""
    unit_radius: np.ndarray
    """``(C,)`` largest distance of a row's unit vector to its centre's."""
    has_zero: np.ndarray
    """``(C,)`` whether the cluster holds a zero row (cosine distance 1 to anything)."""


def geometry(
    centres: np.ndarray,
    starts: np.ndarray,
    z_norm: np.ndarray,
    unit_distance: np.ndarray,
    norm: np.ndarray,
) -> Geometry:
    """The clusters' radii from the per-row distances (rows stored cluster by cluster)."""
    centre_norms = np.linalg.norm(centres, axis=1, keepdims=True)
    unit_centres = np.divide(
        centres, centre_norms, out=np.zeros_like(centres), where=centre_norms > 0
    )
    return Geometry(
        centres,
        unit_centres,
        np.maximum.reduceat(z_norm, starts),
        np.maximum.reduceat(unit_distance, starts),
        np.minimum.reduceat(norm, starts) == 0,
    )


def floors(geo: Geometry, query: np.ndarray, cosine: bool) -> np.ndarray:
    """Per cluster, a value no row's distance (cosine, or squared euclidean) is below.

    Triangle inequality: ``||y - q|| >= ||q - c|| - radius``. For cosine, on unit
    vectors, where the cosine distance is ``||y/|y| - q/|q|||^2 / 2``; a zero row is
    at distance 1.
    """
    if cosine:
        gap = np.linalg.norm(geo.unit_centres - query / np.linalg.norm(query), axis=1)
        reach = gap - geo.unit_radius - _SLACK * (gap + geo.unit_radius + 1.0)
        floor = np.where(reach > 0, reach * reach / 2 * (1 - _SLACK), 0.0)
        return np.where(geo.has_zero, np.minimum(floor, 1.0), floor)
    gap = np.linalg.norm(geo.centres - query, axis=1)
    reach = gap - geo.radius - _SLACK * (gap + geo.radius)
    distance: np.ndarray = np.where(reach > 0, reach * reach * (1 - _SLACK), 0.0)
    return distance

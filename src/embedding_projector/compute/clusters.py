"""Clusters of a layout (or of the vectors' principal components) with scikit-learn's HDBSCAN.

HDBSCAN finds clusters of varying density and leaves the points between them
as noise (label -1). scikit-learn's implementation builds its minimum spanning
tree with Prim's algorithm over all pairs: quadratic, 8 CPU seconds at 50,000
points and about 4 times that for every doubling (docs/decisions.md). Above
:data:`SAMPLE_SIZE` points, it therefore runs on a uniform random sample of
that size, which keeps every region's share of the points (so its density
relative to the others), and every other point takes the label of its nearest
sampled point (a k-d tree). That is an approximation: a point near a cluster's
edge may take a neighbouring cluster's label or noise where HDBSCAN on all
points would have decided otherwise; the clusters themselves, and most labels,
are the same.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from embedding_projector.compute.progress import Callback, Progress, report
from embedding_projector.compute.validation import check_int, check_seed, check_vectors
from embedding_projector.errors import InvalidParameterError

#: HDBSCAN runs on at most this many points (a uniform sample of larger sets).
SAMPLE_SIZE = 50_000
#: HDBSCAN's ``min_samples``: how many neighbours make a point a core point.
MIN_SAMPLES = 10
#: Fewest points in a cluster, whatever the size of the set.
SMALLEST_CLUSTER = 10


@dataclass(frozen=True)
class Clusters:
    """Cluster labels of every point.

    Attributes
    ----------
    labels
        ``(N,)`` int32: 0 .. n_clusters - 1, or -1 for noise. Clusters are
        numbered by decreasing size.
    sizes
        ``(n_clusters,)`` points in each cluster.
    min_cluster_size
        The minimum cluster size used, in points of the whole set.
    sample_size
        The points HDBSCAN clustered (N when it saw them all); the others took
        the label of their nearest sampled point.
    """

    labels: np.ndarray
    sizes: np.ndarray
    min_cluster_size: int
    sample_size: int

    @property
    def n_clusters(self) -> int:
        """The number of clusters (noise excluded)."""
        return int(self.sizes.size)


def default_min_cluster_size(n_points: int) -> int:
    """The minimum cluster size for ``n_points``: their square root, at least 10.

    42 for the 1,797 digits (which finds the ten digits), 1,000 for a million
    points (at most a thousand clusters, and the large demo's smallest, of
    8,400 points, still found).
    """
    return max(SMALLEST_CLUSTER, round(math.sqrt(n_points)))


def find_clusters(
    points: np.ndarray,
    *,
    min_cluster_size: int | None = None,
    random_state: int | None = 0,
    callback: Callback | None = None,
) -> Clusters:
    """HDBSCAN clusters of a layout or of other low-dimensional points.

    Parameters
    ----------
    points
        ``(N, d)`` coordinates: a 2-D or 3-D layout, or the vectors' first
        principal components (:func:`.pca.run`'s ``coordinates``: a PCA job
        caches all ten).
    min_cluster_size
        Fewest points in a cluster, 2 .. N; by default
        :func:`default_min_cluster_size`.
    random_state
        Seed of the sample taken above :data:`SAMPLE_SIZE` points.
    callback
        Receives :class:`~.progress.Progress` between the steps; returning True
        stops with :class:`~.progress.Stopped`.

    Returns
    -------
    Clusters

    Raises
    ------
    InvalidParameterError
        When every point is noise: the message says so and what to change.
    """
    from sklearn.cluster import HDBSCAN

    points = check_vectors(points, name="points", min_samples=2)
    n = points.shape[0]
    if min_cluster_size is None:
        min_cluster_size = min(default_min_cluster_size(n), n)
    min_cluster_size = check_int("min_cluster_size", min_cluster_size, low=2, high=n)
    rng = np.random.default_rng(check_seed(random_state))
    sample = np.sort(rng.choice(n, SAMPLE_SIZE, replace=False)) if n > SAMPLE_SIZE else None
    clustered = points if sample is None else points[sample]
    # The sample keeps every region's share of the points: a cluster's size scales with it.
    size_in_sample = max(2, round(min_cluster_size * clustered.shape[0] / n))
    report(callback, Progress(0.0, f"clustering {clustered.shape[0]:,} points with HDBSCAN"))
    found = HDBSCAN(
        min_cluster_size=size_in_sample,
        min_samples=min(MIN_SAMPLES, size_in_sample),
        copy=True,
    ).fit_predict(clustered.astype(np.float64))
    if sample is None:
        labels = found
    else:
        report(callback, Progress(0.8, "giving every point its nearest sampled point's label"))
        labels = _nearest_label(points, sample, found)
    if labels.max() < 0:
        raise InvalidParameterError(
            f"HDBSCAN found no clusters: all {n:,} points are noise with a minimum cluster "
            f"size of {min_cluster_size:,}; try a smaller one (e.g. "
            f"{max(2, min_cluster_size // 4):,})"
        )
    report(callback, Progress(1.0, "done"))
    return _by_size(labels, min_cluster_size, clustered.shape[0])


def _nearest_label(points: np.ndarray, sample: np.ndarray, found: np.ndarray) -> np.ndarray:
    """Every point's label: the sampled points' own, the others' nearest sampled point's."""
    from scipy.spatial import cKDTree

    tree = cKDTree(points[sample].astype(np.float64))
    _, nearest = tree.query(points.astype(np.float64), k=1, workers=-1)
    labels: np.ndarray = found[nearest]
    labels[sample] = found
    return labels


def _by_size(labels: np.ndarray, min_cluster_size: int, sample_size: int) -> Clusters:
    """Renumber the clusters by decreasing size (ties: HDBSCAN's order), noise stays -1."""
    sizes = np.bincount(labels[labels >= 0])
    order = np.argsort(-sizes, kind="stable")
    rename = np.empty(sizes.size, dtype=np.int32)
    rename[order] = np.arange(sizes.size, dtype=np.int32)
    renamed = np.where(labels >= 0, rename[np.maximum(labels, 0)], -1).astype(np.int32)
    return Clusters(renamed, sizes[order], min_cluster_size, sample_size)

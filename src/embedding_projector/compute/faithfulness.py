"""How faithful a layout is: the share of each point's true neighbours it keeps.

For every point, the *faithfulness* is the share of its k nearest neighbours in
the original space (exact, :func:`.knn_graph.knn_graph`) that are also among its
k nearest in the 2-D or 3-D layout (exact, :func:`layout_neighbors`). It is
Lee and Verleysen's neighbourhood preservation ``Q_NX(k)`` per point, the
unweighted sibling of scikit-learn's ``trustworthiness``:

- both sets have k members, so the true neighbours a layout misses (*missing
  neighbours*) are exactly as many as the intruders it shows in their place;
- trustworthiness charges each intruder its original rank beyond k (from 1 to
  ``N - k - 1``) and averages over points, so for a mean faithfulness ``F``,
  ``1 - 2 (1 - F) (N - k - 1) / (2N - 3k - 1) <= T <= 1 - 2 (1 - F) / (2N - 3k - 1)``;
  both are 1 for a layout that keeps every neighbourhood, and only then.

Faithfulness answers "which points can I trust here?" (per point, a share
between 0 and 1 that colours the map); trustworthiness is a single score that
also says how far the intruders come from.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from embedding_projector.compute.knn import exact_distances
from embedding_projector.compute.knn_graph import knn_graph
from embedding_projector.compute.neighbour_sets import DEFAULT_K, shared_neighbours
from embedding_projector.compute.progress import Callback, Progress, report, within
from embedding_projector.compute.validation import check_int, check_vectors
from embedding_projector.errors import InvalidParameterError

#: Points whose faithfulness is below this share are counted in ``Faithfulness.below``.
LOW = 0.3
#: Neighbours asked of the k-d tree beyond the point itself and its k nearest, so that
#: a tie at the k-th place is usually seen at once.
_EXTRA = 2


@dataclass(frozen=True)
class Faithfulness:
    """Per-point faithfulness of a layout and its summary.

    Attributes
    ----------
    per_point
        ``(N,)`` float32 in [0, 1]: the share of each point's k nearest original
        neighbours that are among its k nearest in the layout.
    k
        The number of neighbours compared.
    mean
        The mean of ``per_point``.
    below
        The share of points whose faithfulness is below :data:`LOW` (30 %).
    original
        ``(N, k)`` int32: each point's k nearest neighbours in the original space.
    layout
        ``(N, k)`` int32: each point's k nearest neighbours in the layout.
    """

    per_point: np.ndarray
    k: int
    mean: float
    below: float
    original: np.ndarray
    layout: np.ndarray


def faithfulness(
    X: np.ndarray,
    layout: np.ndarray,
    *,
    k: int = DEFAULT_K,
    metric: str = "cosine",
    spherize: bool = False,
    callback: Callback | None = None,
) -> Faithfulness:
    """How many of each point's k nearest neighbours the layout keeps.

    Parameters
    ----------
    X
        ``(N, D)`` original vectors.
    layout
        ``(N, 2)`` or ``(N, 3)`` coordinates of the same points.
    k
        Neighbours compared, 1 .. N - 1 (default 10).
    metric, spherize
        The original space's metric (``"cosine"`` or ``"euclidean"``) and
        whether it is spherized, as in :func:`.knn_graph.knn_graph`. The layout
        is always euclidean.
    callback
        Receives :class:`~.progress.Progress`; returning True stops with
        :class:`~.progress.Stopped`.

    Returns
    -------
    Faithfulness
        Per point, its summary, and both neighbour lists (for
        :func:`missing_neighbors`).

    Raises
    ------
    InvalidParameterError
        When the layout does not have one row per vector, or fewer than k + 1
        points are given.
    """
    X = check_vectors(X, min_samples=2)
    points = _check_layout(layout, X.shape[0])
    k = check_int("k", k, low=1, high=X.shape[0] - 1)
    original = knn_graph(
        X, k=k, metric=metric, spherize=spherize, callback=within(callback, 0.0, 0.9)
    )
    report(callback, Progress(0.9, "finding the nearest neighbours in the layout"))
    result = from_neighbors(original.indices, layout_neighbors(points, k=k))
    report(callback, Progress(1.0, "done"))
    return result


def from_neighbors(original: np.ndarray, in_layout: np.ndarray) -> Faithfulness:
    """Faithfulness from the neighbour lists of both spaces.

    The original space's list is the costly part and the same for every layout of
    the same vectors: computed once (:func:`.knn_graph.knn_graph`), it serves
    them all.

    Parameters
    ----------
    original
        ``(N, k)`` nearest neighbours in the original space.
    in_layout
        ``(N, k)`` nearest neighbours in the layout (:func:`layout_neighbors`).

    Returns
    -------
    Faithfulness
    """
    if original.shape != in_layout.shape:
        raise InvalidParameterError(
            f"the neighbour lists must have the same shape, got {original.shape} "
            f"and {in_layout.shape}"
        )
    k = original.shape[1]
    kept = shared_neighbours(original, in_layout)
    return Faithfulness(
        per_point=(kept / k).astype(np.float32),
        k=k,
        mean=float(kept.mean() / k),
        # In integers: 3 of 10 is not below 30 %, whatever 0.3 * 10 is in floating point.
        below=float(np.mean(kept * 10 < round(LOW * 10) * k)),
        original=original,
        layout=in_layout,
    )


def layout_neighbors(layout: np.ndarray, *, k: int) -> np.ndarray:
    """The exact k nearest neighbours of every point of a 2-D or 3-D layout.

    Parameters
    ----------
    layout
        ``(N, d)`` coordinates, d <= 3 (a k-d tree is fast only in few dimensions).
    k
        Neighbours per point, 1 .. N - 1.

    Returns
    -------
    numpy.ndarray
        ``(N, k)`` int32, nearest first; distances are euclidean in float64
        (:func:`.knn.exact_distances`), equal ones ordered by index, a point is
        never its own neighbour (its duplicates are).
    """
    from scipy.spatial import cKDTree

    points = _check_layout(layout, None).astype(np.float64)
    n = points.shape[0]
    k = check_int("k", k, low=1, high=n - 1)
    asked = min(k + 1 + _EXTRA, n)
    tree = cKDTree(points)
    tree_distance, candidates = tree.query(points, k=asked, workers=-1)
    exact = exact_distances(points[candidates], points[:, None, :], "euclidean")
    exact[candidates == np.arange(n)[:, None]] = np.inf  # a point is not its own neighbour
    ranked = np.lexsort((candidates, exact), axis=1)
    found = np.take_along_axis(candidates, ranked, axis=1)[:, :k]
    kth = np.take_along_axis(exact, ranked, axis=1)[:, k - 1]
    # Every point the tree did not return is at least as far as its farthest answer; a
    # row is settled when that is beyond the k-th distance (with room for the tree's
    # own rounding), or when the tree returned every point.
    settled = (tree_distance[:, -1] * (1 - 1e-12) > kth) | (asked == n)
    for row in np.flatnonzero(~settled).tolist():
        found[row] = _ball_neighbors(tree, points, row, kth[row], k)
    return found.astype(np.int32)


def _ball_neighbors(tree: object, points: np.ndarray, row: int, kth: float, k: int) -> np.ndarray:
    """The k nearest of one point when ties straddle the k-th place: every point within
    the k-th distance (and a rounding margin), ranked exactly."""
    radius = kth * (1 + 1e-9) + 1e-300
    inside = np.asarray(tree.query_ball_point(points[row], radius), dtype=np.int64)  # type: ignore[attr-defined]
    inside = inside[inside != row]
    exact = exact_distances(points[inside], points[row], "euclidean")
    ranked: np.ndarray = inside[np.lexsort((inside, exact))[:k]]
    return ranked


@dataclass(frozen=True)
class MissingNeighbors:
    """A point's true neighbours that the layout put elsewhere, farthest first.

    Attributes
    ----------
    indices
        Row numbers of the missing neighbours.
    ranks
        Their rank among the point's neighbours in the layout (1 is the nearest;
        all are above k).
    distances
        Their euclidean distance to the point in the layout.
    """

    indices: np.ndarray
    ranks: np.ndarray
    distances: np.ndarray


def missing_neighbors(index: int, original: np.ndarray, layout: np.ndarray) -> MissingNeighbors:
    """The true neighbours of one point that are not among its k nearest in the layout.

    Parameters
    ----------
    index
        The point.
    original
        ``(N, k)`` nearest neighbours in the original space
        (:attr:`Faithfulness.original`).
    layout
        ``(N, d)`` coordinates.

    Returns
    -------
    MissingNeighbors
        Ranked as :func:`layout_neighbors` ranks (exact distances, ties by index),
        so they are exactly the original neighbours missing from its answer.
    """
    points = _check_layout(layout, original.shape[0]).astype(np.float64)
    index = check_int("index", index, low=0, high=points.shape[0] - 1)
    distance = exact_distances(points, points[index], "euclidean")
    neighbours = original[index].astype(np.int64)
    # Rank of j: the points other than `index` before it in (distance, index) order, + 1.
    before = (distance[None, :] < distance[neighbours, None]) | (
        (distance[None, :] == distance[neighbours, None])
        & (np.arange(points.shape[0])[None, :] < neighbours[:, None])
    )
    before[:, index] = False
    ranks = before.sum(axis=1) + 1
    far = np.argsort(-ranks, kind="stable")
    far = far[ranks[far] > original.shape[1]]
    return MissingNeighbors(neighbours[far], ranks[far], distance[neighbours[far]])


def _check_layout(layout: np.ndarray, n: int | None) -> np.ndarray:
    """The layout as ``(N, 2)`` or ``(N, 3)`` float32, with one row per vector."""
    points = check_vectors(layout, name="layout", min_samples=2)
    if points.shape[1] not in (2, 3):
        raise InvalidParameterError(f"`layout` must have 2 or 3 columns, got {points.shape[1]}")
    if n is not None and points.shape[0] != n:
        raise InvalidParameterError(
            f"`layout` must have one row per vector ({n}), got {points.shape[0]}"
        )
    return points

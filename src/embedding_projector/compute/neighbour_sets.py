"""Every point's exact k nearest neighbours, and how two such sets of the same points agree.

Three readings count, per point, the neighbours two ``(N, k)`` neighbour sets share: drift
(:mod:`.drift`: the share kept between two steps of a timeline, ``shared / k``), overlap
(:mod:`.overlap`: two embeddings of the same items, Jaccard ``shared / (2k - shared)``) and
faithfulness (:mod:`.faithfulness`: a layout against the original space). The count is
:func:`shared_neighbours`; the sets of an original space are :func:`neighbour_sets`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from embedding_projector.compute.knn import METRICS
from embedding_projector.compute.progress import Callback
from embedding_projector.compute.validation import check_choice, check_int
from embedding_projector.errors import InvalidParameterError

#: Neighbours per point unless asked otherwise (the page's neighbour list shows as many).
DEFAULT_K = 10
#: Rows of the neighbour sets compared at once (bounds the sort's temporary arrays).
_BLOCK_ROWS = 262_144


@dataclass(frozen=True)
class NeighbourParams:
    """Which neighbours a request compares, validated: ``k`` of each point by ``metric``."""

    k: int = DEFAULT_K
    metric: str = "cosine"


def neighbour_params(given: object, n_rows: int) -> NeighbourParams:
    """The parameters ``{"k": 10, "metric": "cosine"}`` of a drift or overlap, validated.

    Raises
    ------
    InvalidParameterError
        Naming the field: an unknown one, ``k`` outside 1 .. N - 1, an unknown metric.
    """
    if not isinstance(given, dict):
        raise InvalidParameterError("the parameters must be an object: {k, metric}")
    unknown = set(given) - {"k", "metric"}
    if unknown:
        raise InvalidParameterError(f"unknown parameter `{sorted(unknown)[0]}`: use `k`, `metric`")
    if n_rows < 2:
        raise InvalidParameterError(f"neighbours need at least 2 points, got {n_rows}")
    k = check_int("k", given.get("k", DEFAULT_K), low=1, high=n_rows - 1)
    return NeighbourParams(k, check_choice("metric", given.get("metric", "cosine"), METRICS))


def neighbour_sets(
    X: np.ndarray, *, k: int, metric: str, callback: Callback | None = None
) -> np.ndarray:
    """``(N, k)`` int32: the exact k nearest neighbours of every row of ``X`` (ties by the
    lower index; :func:`.knn_graph.knn_graph`)."""
    # Here, not at the top: the graph brings numba, which a request's validation does not need.
    from embedding_projector.compute.knn_graph import knn_graph

    indices: np.ndarray = knn_graph(X, k=k, metric=metric, callback=callback).indices
    return indices


def shared_neighbours(ours: np.ndarray, theirs: np.ndarray) -> np.ndarray:
    """``(N,)`` int32: per row, how many rows of ``ours`` are in ``theirs`` too.

    Both ``(N, k)`` integer arrays of neighbour rows, distinct within a row. Sorted
    together, each common neighbour appears twice, side by side (2.5x faster at k = 10
    than comparing every pair).
    """
    counts = np.empty(len(ours), np.int32)
    for start in range(0, len(ours), _BLOCK_ROWS):
        rows = slice(start, start + _BLOCK_ROWS)
        both = np.sort(np.concatenate([ours[rows], theirs[rows]], axis=1), axis=1)
        counts[rows] = np.count_nonzero(both[:, 1:] == both[:, :-1], axis=1)
    return counts


def kept_share(ours: np.ndarray, theirs: np.ndarray) -> np.ndarray:
    """``(N,)`` float32: per row, the share of ``ours`` that ``theirs`` holds too."""
    share: np.ndarray = (shared_neighbours(ours, theirs) / ours.shape[1]).astype(np.float32)
    return share


def jaccard(ours: np.ndarray, theirs: np.ndarray) -> np.ndarray:
    """``(N,)`` float32: per row, the Jaccard index of two ``(N, k)`` neighbour sets (the
    union of two sets of k distinct rows has ``2k - shared`` rows)."""
    k = ours.shape[1]
    shared = shared_neighbours(ours, theirs)
    index: np.ndarray = (shared / (2 * k - shared)).astype(np.float32)
    return index

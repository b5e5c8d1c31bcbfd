"""How alike two embeddings of the same items are, point by point: the overlap of k-NN sets.

For row ``i`` of two embeddings ``A`` and ``B`` of the same items (row ``i`` of ``B`` is
the item of row ``i`` of ``A``; :mod:`embedding_projector.dataset.alignment` puts them
so), with ``N_k(A, i)`` its exact k nearest neighbours in ``A``'s original space
(:func:`.knn_graph.knn_graph`, ties by the lower index)::

    overlap(i) = |N_k(A, i) and N_k(B, i)| / |N_k(A, i) or N_k(B, i)|     (Jaccard)

1 means the item has the same neighbours in both spaces, 0 that it shares none. The
neighbour sets are distinct rows of size k each, so the union has ``2k - shared`` rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from embedding_projector.compute.knn import METRICS
from embedding_projector.compute.knn_graph import knn_graph
from embedding_projector.compute.progress import Callback, within
from embedding_projector.compute.validation import check_choice, check_int
from embedding_projector.errors import InvalidParameterError

#: Neighbours per point unless asked otherwise (the page's neighbour list shows as many).
DEFAULT_K = 10
#: Rows of the neighbour sets compared at once (bounds the sort's temporary arrays).
_BLOCK_ROWS = 262_144


@dataclass(frozen=True)
class OverlapParams:
    """What an overlap job computes, validated: ``k`` neighbours by ``metric``."""

    k: int = DEFAULT_K
    metric: str = "cosine"


def overlap_params(given: object, n_rows: int) -> OverlapParams:
    """The parameters of an overlap request (``{"k": 10, "metric": "cosine"}``), validated.

    Raises
    ------
    InvalidParameterError
        Naming the field: an unknown one, ``k`` outside 1 .. N - 1, an unknown metric.
    """
    if not isinstance(given, dict):
        raise InvalidParameterError("the overlap's parameters must be an object")
    unknown = set(given) - {"k", "metric"}
    if unknown:
        raise InvalidParameterError(f"unknown parameter `{sorted(unknown)[0]}`: use k, metric")
    if n_rows < 2:
        raise InvalidParameterError(f"the overlap needs at least 2 points, got {n_rows}")
    k = check_int("k", given.get("k", DEFAULT_K), low=1, high=n_rows - 1)
    return OverlapParams(k, check_choice("metric", given.get("metric", "cosine"), METRICS))


def shared_neighbours(ours: np.ndarray, theirs: np.ndarray) -> np.ndarray:
    """``(N,)`` int32: per row, how many rows of ``ours`` are in ``theirs`` too.

    Both ``(N, k)`` arrays of neighbour rows, distinct within a row. Sorted together,
    each common neighbour appears twice, side by side.
    """
    counts = np.empty(len(ours), np.int32)
    for start in range(0, len(ours), _BLOCK_ROWS):
        rows = slice(start, start + _BLOCK_ROWS)
        both = np.sort(np.concatenate([ours[rows], theirs[rows]], axis=1), axis=1)
        counts[rows] = np.count_nonzero(both[:, 1:] == both[:, :-1], axis=1)
    return counts


def jaccard(ours: np.ndarray, theirs: np.ndarray) -> np.ndarray:
    """``(N,)`` float32: per row, the Jaccard index of two ``(N, k)`` neighbour sets."""
    k = ours.shape[1]
    shared = shared_neighbours(ours, theirs)
    index: np.ndarray = (shared / (2 * k - shared)).astype(np.float32)
    return index


def overlap(
    A: np.ndarray,
    B: np.ndarray,
    *,
    k: int = DEFAULT_K,
    metric: str = "cosine",
    callback: Callback | None = None,
) -> np.ndarray:
    """``(N,)`` float32: per row, the Jaccard index of its k-NN sets in ``A`` and in ``B``.

    Parameters
    ----------
    A, B
        ``(N, D_a)`` and ``(N, D_b)`` float32 vectors of the same N items, row by row
        (the dimensions may differ); may be memory-mapped.
    k, metric
        Neighbours per point, and ``"cosine"`` or ``"euclidean"``, in both spaces.
    callback
        Receives progress (A's graph is the first half, B's the second); returning True
        stops with :class:`~.progress.Stopped`.
    """
    if len(A) != len(B):
        raise InvalidParameterError(f"the two embeddings have {len(A)} and {len(B)} rows")
    ours = knn_graph(A, k=k, metric=metric, callback=within(callback, 0.0, 0.5)).indices
    theirs = knn_graph(B, k=k, metric=metric, callback=within(callback, 0.5, 1.0)).indices
    return jaccard(ours, theirs)

"""How alike two embeddings of the same items are, point by point: the overlap of k-NN sets.

For row ``i`` of two embeddings ``A`` and ``B`` of the same items (row ``i`` of ``B`` is
the item of row ``i`` of ``A``; :mod:`embedding_projector.dataset.alignment` puts them
so), with ``N_k(A, i)`` its exact k nearest neighbours in ``A``'s original space
(:func:`.neighbour_sets.neighbour_sets`, ties by the lower index)::

    overlap(i) = |N_k(A, i) and N_k(B, i)| / |N_k(A, i) or N_k(B, i)|     (Jaccard)

1 means the item has the same neighbours in both spaces, 0 that it shares none
(:func:`.neighbour_sets.jaccard`).
"""

from __future__ import annotations

import numpy as np

from embedding_projector.compute.neighbour_sets import DEFAULT_K, jaccard, neighbour_sets
from embedding_projector.compute.progress import Callback, within
from embedding_projector.errors import InvalidParameterError


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
    ours = neighbour_sets(A, k=k, metric=metric, callback=within(callback, 0.0, 0.5))
    theirs = neighbour_sets(B, k=k, metric=metric, callback=within(callback, 0.5, 1.0))
    return jaccard(ours, theirs)

"""Transforms applied to the vectors before a projection or a neighbour search."""

from __future__ import annotations

import numpy as np

from embedding_projector.compute.validation import check_vectors

#: Rows handled at once, so that a memory-mapped million-row input is never copied whole
#: in float64.
BLOCK_ROWS = 65_536


def centroid(X: np.ndarray) -> np.ndarray:
    """The mean row of ``X``, accumulated in float64 block by block.

    Parameters
    ----------
    X
        ``(N, D)`` vectors, any real dtype; may be memory-mapped.

    Returns
    -------
    numpy.ndarray
        ``(D,)`` float64.
    """
    X = check_vectors(X)
    total = np.zeros(X.shape[1], dtype=np.float64)
    for start in range(0, X.shape[0], BLOCK_ROWS):
        total += X[start : start + BLOCK_ROWS].sum(axis=0, dtype=np.float64)
    mean: np.ndarray = total / X.shape[0]
    return mean


def spherize(X: np.ndarray) -> np.ndarray:
    """Subtract the centroid, then scale every vector to unit length.

    This is TensorBoard's "Spherize data" option: it removes the shared offset
    that dominates many embeddings so that directions, not magnitudes, shape
    the projection. A vector equal to the centroid stays all zeros (never NaN).

    Parameters
    ----------
    X
        ``(N, D)`` vectors.

    Returns
    -------
    numpy.ndarray
        A new ``(N, D)`` float32 array whose rows have norm 1 or 0.
    """
    X = check_vectors(X)
    mean = centroid(X)
    out = np.empty(X.shape, dtype=np.float32)
    for start in range(0, X.shape[0], BLOCK_ROWS):
        out[start : start + BLOCK_ROWS] = spherize_rows(X[start : start + BLOCK_ROWS], mean)
    return out


def spherize_rows(rows: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """Spherize some rows given the centroid of the whole set; float64 result."""
    centred = rows.astype(np.float64) - mean
    norms = np.linalg.norm(centred, axis=1, keepdims=True)
    # Rows equal to the centroid have norm 0: divide them by 1 so they stay zero.
    unit: np.ndarray = centred / np.where(norms > 0, norms, 1.0)
    return unit


def to_space(rows: np.ndarray, sphere_mean: np.ndarray | None) -> np.ndarray:
    """Rows in the space neighbours are searched in, float64: spherized around
    ``sphere_mean`` (the centroid of all rows) when it is given, else as they are."""
    if sphere_mean is None:
        return np.asarray(rows, dtype=np.float64)
    return spherize_rows(rows, sphere_mean)

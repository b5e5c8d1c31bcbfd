"""TensorBoard's custom projection: axes defined by the centroids of search results.

As in TensorBoard's ``vz-projector-projections-panel`` (``showCustom``) and
``DataSet.projectLinear``: the x axis is ``centroid(right) - centroid(left)``,
the y axis ``centroid(up) - centroid(down)``, and each point's coordinates are
the dot products of its vector (spherized when that option is on) with the two
axes. The axes are not normalised, as in TensorBoard. Where TensorBoard falls
back to a random axis when a query matches nothing, this raises an error that
names the query.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from embedding_projector.compute.preprocess import BLOCK_ROWS, centroid, spherize_rows
from embedding_projector.compute.validation import check_vectors
from embedding_projector.errors import InvalidParameterError


def run(
    X: np.ndarray,
    *,
    left: Any,
    right: Any,
    up: Any,
    down: Any,
    spherize: bool = False,
) -> np.ndarray:
    """Project every point on the axes right - left and up - down.

    Parameters
    ----------
    X
        ``(N, D)`` vectors.
    left, right, up, down
        The points each search query matched: a boolean mask of length N or
        an array of row indices.
    spherize
        Use spherized vectors (centroid subtracted, unit length) for both the
        centroids and the projection.

    Returns
    -------
    numpy.ndarray
        ``(N, 2)`` float32 coordinates.

    Raises
    ------
    InvalidParameterError
        When a query matches no point, or a mask or index is malformed.
    """
    X = check_vectors(X)
    queries = {"left": left, "right": right, "up": up, "down": down}
    members = {name: _rows(name, value, X.shape[0]) for name, value in queries.items()}
    mean = centroid(X) if spherize else None

    def vectors(rows: slice | np.ndarray) -> np.ndarray:
        block = X[rows]
        return block.astype(np.float64) if mean is None else spherize_rows(block, mean)

    centroids = {name: vectors(rows).mean(axis=0) for name, rows in members.items()}
    axes = np.stack(
        [centroids["right"] - centroids["left"], centroids["up"] - centroids["down"]], axis=1
    )
    out = np.empty((X.shape[0], 2), dtype=np.float32)
    for start in range(0, X.shape[0], BLOCK_ROWS):
        out[start : start + BLOCK_ROWS] = vectors(slice(start, start + BLOCK_ROWS)) @ axes
    return out


def _rows(name: str, value: Any, n_samples: int) -> np.ndarray:
    """Row indices selected by a mask or an index array."""
    array = np.asarray(value)
    if array.dtype == bool:
        if array.shape != (n_samples,):
            raise InvalidParameterError(
                f"`{name}` mask must have {n_samples} values, got shape {array.shape}"
            )
        array = np.flatnonzero(array)
    elif array.size and not np.issubdtype(array.dtype, np.integer):
        raise InvalidParameterError(f"`{name}` must be a boolean mask or integer indices")
    array = array.reshape(-1).astype(np.int64)
    if array.size == 0:
        raise InvalidParameterError(f"`{name}` query matches no point")
    if array.min() < 0 or array.max() >= n_samples:
        raise InvalidParameterError(f"`{name}` indices must be between 0 and {n_samples - 1}")
    return array

"""Rows of a layout inside a rectangle or a lasso drawn on screen, decided over all rows.

The page selects among the points it has; above the level-of-detail threshold it has only
some of them (:mod:`.tiles`), so it sends the shape and the camera here. The test is the
page's (``web/src/render/selection_geometry.ts``): every row is projected by the camera's
4 x 4 matrix to CSS pixels, and kept when it lies in the rectangle (edges included) or
inside the polygon by the even-odd rule; rows that are not finite or behind the camera
never are.
"""

from __future__ import annotations

import numpy as np


def rows_in_shape(
    positions: np.ndarray,
    matrix: np.ndarray,
    *,
    rectangle: tuple[float, float, float, float] | None = None,
    polygon: np.ndarray | None = None,
) -> np.ndarray:
    """Indices (int32, ascending) of the rows drawn inside the shape.

    Parameters
    ----------
    positions
        ``(N, 2)`` or ``(N, 3)`` float32 layout coordinates (z = 0 for 2-D).
    matrix
        16 numbers, column-major: layout coordinates to CSS pixels (homogeneous).
    rectangle
        ``(x0, y0, x1, y1)``: two opposite corners, in pixels.
    polygon
        ``[x0, y0, x1, y1, ...]``: the lasso's vertices in pixels (at least 3).
    """
    from embedding_projector.compute import _select_kernels

    if (rectangle is None) == (polygon is None):
        raise ValueError("give a rectangle or a polygon")
    m = np.asarray(matrix, np.float64).reshape(16)
    if rectangle is not None:
        x0, y0, x1, y1 = rectangle
        vertices = np.array([x0, y0, x1, y0, x1, y1, x0, y1], np.float64)
        is_rectangle = True
    else:
        vertices = np.asarray(polygon, np.float64).reshape(-1)
        is_rectangle = False
        if len(vertices) < 6:
            return np.empty(0, np.int32)
    mask = _select_kernels.inside(np.ascontiguousarray(positions), m, vertices, is_rectangle)
    return np.flatnonzero(mask).astype(np.int32)

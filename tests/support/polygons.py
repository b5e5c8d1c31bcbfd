"""The even-odd rule in plain numpy: an independent check of the server's lasso selection."""

from __future__ import annotations

import numpy as np


def inside_polygon(points: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Which of ``points`` (``n x 2``) lie inside ``polygon`` (``[x0, y0, x1, y1, ...]``)."""
    x, y = points[:, 0], points[:, 1]
    inside = np.zeros(len(points), bool)
    vertices = polygon.reshape(-1, 2)
    for (x0, y0), (x1, y1) in zip(vertices, np.roll(vertices, -1, axis=0), strict=True):
        crosses = (y0 > y) != (y1 > y)
        with np.errstate(divide="ignore", invalid="ignore"):
            at = x0 + (y - y0) * (x1 - x0) / (y1 - y0)
        inside ^= crosses & (x < at)
    return inside

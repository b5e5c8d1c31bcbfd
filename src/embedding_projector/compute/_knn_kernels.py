"""numba kernels of :mod:`.knn`: the int8 scan that bounds every distance.

Imported lazily by :mod:`.knn` (numba takes half a second to import). The
functions release the GIL, so :mod:`.knn` runs them on row ranges in plain
threads: no numba threading layer is involved, which keeps them safe to call
from any number of server threads at once.

For a row stored as ``z ~ scale * codes`` (int8) with residual norm
``residual = ||z - scale * codes||`` and a query ``p ~ t * r`` (int8) with
residual norm ``f_norm``, Cauchy-Schwarz gives

    |<z, p> - scale * t * <codes, r>| <= code_norm * f_norm + residual * p_norm

where ``code_norm = scale * ||codes||``. Each kernel turns that interval on the
dot product into an interval on the distance, widened by ``1e-6`` times the
magnitudes involved (the norms, not the result, because the sums cancel):
float rounding here, in the float32 outputs and in the exact re-rank is below
1e-15 of those magnitudes, so it can never push a true distance outside.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np

SLACK = 1e-6


@numba.njit(nogil=True, cache=True, inline="always")
def _int_dot(row: np.ndarray, r: np.ndarray) -> Any:
    # Sums of int8 x int8 products cannot overflow below 133,000 dimensions.
    acc: Any = 0
    for j in range(row.shape[0]):
        acc += np.int32(row[j]) * np.int32(r[j])
    return acc


@numba.njit(nogil=True, cache=True)
def cosine_bounds(
    codes: np.ndarray,
    r: np.ndarray,
    scale: np.ndarray,
    code_norm: np.ndarray,
    residual: np.ndarray,
    inv_norm: np.ndarray,
    slack_base: np.ndarray,
    t: float,
    f_norm: float,
    q_norm: float,
    mean_dot: float,
    lower: np.ndarray,
    upper: np.ndarray,
) -> None:
    """Bounds of ``1 - (<z, q> + <mean, q>) / (||y|| ||q||)`` for rows ``y = z + mean``.

    ``slack_base = 1e-6 * (1 + (||z|| + ||mean||) / ||y||)`` per row.
    """
    inv_q = 1.0 / q_norm
    for i in range(codes.shape[0]):
        approx = scale[i] * t * _int_dot(codes[i], r) + mean_dot
        err = code_norm[i] * f_norm + residual[i] * q_norm
        b = inv_norm[i] * inv_q
        slack = slack_base[i] + SLACK * b * err
        lower[i] = 1.0 - b * (approx + err) - slack
        upper[i] = 1.0 - b * (approx - err) + slack


@numba.njit(nogil=True, cache=True)
def euclidean_bounds(
    codes: np.ndarray,
    r: np.ndarray,
    scale: np.ndarray,
    code_norm: np.ndarray,
    residual: np.ndarray,
    sq_norm: np.ndarray,
    t: float,
    f_norm: float,
    p_norm: float,
    lower: np.ndarray,
    upper: np.ndarray,
) -> None:
    """Bounds of the squared distance ``||z||^2 + ||p||^2 - 2 <z, p>``."""
    p_sq = p_norm * p_norm
    for i in range(codes.shape[0]):
        approx = scale[i] * t * _int_dot(codes[i], r)
        err = code_norm[i] * f_norm + residual[i] * p_norm
        base = sq_norm[i] + p_sq  # >= 2 |<z, p>| >= |any term|
        slack = SLACK * 2.0 * (base + err)
        lower[i] = base - 2.0 * (approx + err) - slack
        upper[i] = base - 2.0 * (approx - err) + slack


@numba.njit(nogil=True, cache=True)
def two_level_dots(
    codes: np.ndarray,
    codes2: np.ndarray,
    scale: np.ndarray,
    scale2: np.ndarray,
    rows: np.ndarray,
    p: np.ndarray,
    out: np.ndarray,
) -> None:
    """``scale * <codes, p> + scale2 * <codes2, p>`` for the given rows, in float64."""
    for n in range(rows.shape[0]):
        i = rows[n]
        first = 0.0
        second = 0.0
        for j in range(p.shape[0]):
            first += codes[i, j] * p[j]
            second += codes2[i, j] * p[j]
        out[n] = scale[i] * first + scale2[i] * second

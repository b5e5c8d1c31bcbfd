"""numba kernels of :mod:`.knn`: building the int8 codes, scanning them, refining candidates.

Imported lazily by :mod:`.knn` (numba takes half a second to import). The
functions release the GIL and work on a row range, so :mod:`.knn` runs them on
chunks in plain threads: no numba threading layer is involved, which keeps them
safe to call from any number of server threads at once.

For a row stored as ``z ~ scale * codes`` (int8) with residual norm
``residual = ||z - scale * codes||`` and a query ``p ~ t * r`` (int16) with
residual norm ``f_norm``, Cauchy-Schwarz gives

    |<z, p> - scale * t * <codes, r>| <= code_norm * f_norm + residual * p_norm

where ``code_norm = scale * ||codes||``. The query has 16-bit codes, so its
share of the error (``f_norm``) is ~250 times smaller than the rows' share,
while the integer dot product costs the same as int8 x int8 (the CPU widens
int8 to int16 for either). Each scan kernel turns that interval on the dot
product into an interval on the distance, widened by ``SLACK`` times the
magnitudes involved (the norms, not the result, because the sums cancel):
float rounding here, in the build and in the exact re-rank is below 1e-13 of
those magnitudes, so it can never push a true distance outside.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np

SLACK = 1e-6
#: Relative slack of :func:`exact_bounds`: two float64 evaluations of one distance (ours
#: and numpy's, in other summation orders) differ by < 1e-13 of the magnitudes.
EXACT_SLACK = 1e-10
#: Rows per block of :func:`scan`: its buffers stay in the L1 cache.
_BLOCK = 256


@numba.njit(nogil=True, cache=True, inline="always")
def _transform(x: np.ndarray, sphere_mean: np.ndarray, spherize: bool, y: np.ndarray) -> None:
    """The row in the searched space (float64), as :func:`.preprocess.spherize_rows` does."""
    if not spherize:
        for j in range(x.shape[0]):
            y[j] = x[j]
        return
    total = 0.0
    for j in range(x.shape[0]):
        y[j] = np.float64(x[j]) - sphere_mean[j]
        total += y[j] * y[j]
    if total > 0:
        norm = np.sqrt(total)
        for j in range(x.shape[0]):
            y[j] /= norm


@numba.njit(nogil=True, cache=True)
def row_sum(X: np.ndarray, sphere_mean: np.ndarray, spherize: bool, start: int, stop: int) -> Any:
    """Sum of the transformed rows ``start:stop``, float64."""
    total = np.zeros(X.shape[1])
    y = np.empty(X.shape[1])
    for i in range(start, stop):
        _transform(X[i], sphere_mean, spherize, y)
        total += y
    return total


@numba.njit(nogil=True, cache=True)
def quantize(
    X: np.ndarray,
    position: np.ndarray,
    labels: np.ndarray,
    sphere_mean: np.ndarray,
    spherize: bool,
    centres: np.ndarray,
    mean: np.ndarray,
    start: int,
    stop: int,
    codes: np.ndarray,
    scale: np.ndarray,
    code_norm: np.ndarray,
    residual: np.ndarray,
    norm: np.ndarray,
    centred_sq_norm: np.ndarray,
    z_norm: np.ndarray,
    unit_distance: np.ndarray,
) -> None:
    """int8 codes of ``z = y - centre`` (one scale per row) and the numbers the bounds need.

    Row ``i`` of ``X`` (in cluster ``labels[i]``) is stored at ``position[i]``: the
    rows are read in order, the writes scatter. Also records ``||y||``,
    ``||y - mean||^2``, ``||z||`` (the distance to the centre) and the distance
    between the unit vectors of ``y`` and of its centre (0 for a zero row).
    """
    d = X.shape[1]
    y = np.empty(d)
    z = np.empty(d)
    for row in range(start, stop):
        _transform(X[row], sphere_mean, spherize, y)
        centre = centres[labels[row]]
        i = position[row]
        y_sq = 0.0
        centred_sq = 0.0
        z_sq = 0.0
        centre_sq = 0.0
        biggest = 0.0
        for j in range(d):
            y_sq += y[j] * y[j]
            centred_sq += (y[j] - mean[j]) ** 2
            z[j] = y[j] - centre[j]
            z_sq += z[j] * z[j]
            centre_sq += centre[j] * centre[j]
            biggest = max(biggest, abs(z[j]))
        step = biggest / 127.0
        codes_sq = 0.0
        error_sq = 0.0
        for j in range(d):
            code = min(max(np.rint(z[j] / step), -127.0), 127.0) if step > 0 else 0.0
            codes[i, j] = np.int8(code)
            codes_sq += code * code
            error_sq += (z[j] - code * step) ** 2
        scale[i] = step
        code_norm[i] = step * np.sqrt(codes_sq)
        residual[i] = np.sqrt(error_sq)
        norm[i] = np.sqrt(y_sq)
        centred_sq_norm[i] = centred_sq
        z_norm[i] = np.sqrt(z_sq)
        if y_sq > 0 and centre_sq > 0:
            # Coordinate by coordinate: 2 - 2 cos would lose half the digits near 0.
            to_unit, centre_to_unit = 1.0 / norm[i], 1.0 / np.sqrt(centre_sq)
            gap_sq = 0.0
            for j in range(d):
                gap_sq += (y[j] * to_unit - centre[j] * centre_to_unit) ** 2
            unit_distance[i] = np.sqrt(gap_sq)
        else:  # a unit vector is 1 from the origin, the "unit vector" of a zero centre
            unit_distance[i] = 1.0 if y_sq > 0 else 0.0


@numba.njit(nogil=True, cache=True, inline="always")
def _int_dot(row: np.ndarray, r: np.ndarray) -> Any:
    # |codes| <= 127 and |r| <= knn's query limit keep the int32 sum from overflowing.
    acc: Any = 0
    for j in range(row.shape[0]):
        acc += np.int32(row[j]) * np.int32(r[j])
    return acc


@numba.njit(nogil=True, cache=True, inline="always")
def _keep(heap: np.ndarray, value: float) -> None:
    """Put ``value`` in the max-heap of the k smallest values seen (root: the largest)."""
    if value >= heap[0]:
        return
    i = 0
    n = heap.shape[0]
    while True:
        child = 2 * i + 1
        if child >= n:
            break
        if child + 1 < n and heap[child + 1] > heap[child]:
            child += 1
        if heap[child] <= value:
            break
        heap[i] = heap[child]
        i = child
    heap[i] = value


@numba.njit(nogil=True, cache=True)
def scan(
    codes: np.ndarray,
    r: np.ndarray,
    scale: np.ndarray,
    code_norm: np.ndarray,
    residual: np.ndarray,
    row_term: np.ndarray,
    z_norm: np.ndarray,
    cosine: bool,
    t: float,
    f_norm: float,
    p_norm: float,
    segments: np.ndarray,
    offsets: np.ndarray,
    centre_norms: np.ndarray,
    floors: np.ndarray,
    cutoff: float,
    exclude: np.ndarray,
    heap: np.ndarray,
    found: np.ndarray,
    found_lower: np.ndarray,
) -> int:
    """Bound the rows of some segments; keep those that may be among the k nearest.

    Segment ``s`` is rows ``segments[s, 0]:segments[s, 1]`` of one cluster, whose
    centre ``c`` has ``offsets[s]`` = ``<c, q>`` (cosine) or ``<c - mean, p>``
    (euclidean) and norm ``centre_norms[s]`` (of ``c``, or of ``c - mean``). No row
    of it is nearer than ``floors[s]``; segments come in increasing ``floors``.
    A row's interval on its distance (cosine, or squared euclidean) is

    - cosine (``p = q``), ``1 - b (<z, q> + <c, q>)`` with ``b = 1 / (||y|| ||q||)``,
      ``row_term = 1 / ||y||`` (0 for a zero row), widened by
      ``SLACK * (1 + b ||q|| (||z|| + ||c||) + b * err)``;
    - euclidean (``p = q - mean``), ``||y - mean||^2 + ||p||^2 - 2 (<z, p> + <c - mean, p>)``
      with ``row_term = ||y - mean||^2``, widened by
      ``SLACK * 2 (row_term + ||p||^2 + ||p|| (||z|| + ||c - mean||) + err)``,

    where ``err`` bounds the error of the int8 dot product ``<z, p>``.

    ``heap`` (initially all ``inf``) keeps the k smallest upper bounds seen; with
    ``cutoff``, a k-th smallest upper bound already known from other rows, its root
    bounds the k-th nearest distance, which only falls. A row whose lower bound is
    above it cannot be among the k nearest, nor can a segment whose floor is. Rows in
    the sorted ``exclude`` are skipped. Writes the survivors' positions and lower
    bounds to ``found`` / ``found_lower``; returns how many. The caller filters them
    again with the final k-th upper bound.

    Rows go in blocks: the integer dot products first, then the bounds of the
    block in one loop that the compiler vectorises, then the rare survivors.
    """
    p_sq = p_norm * p_norm
    inv_p = 1.0 / p_norm if p_norm > 0 else 0.0
    dots = np.empty(_BLOCK, dtype=np.int32)
    lower = np.empty(_BLOCK)
    upper = np.empty(_BLOCK)
    count = 0
    for s in range(segments.shape[0]):
        if floors[s] > min(heap[0], cutoff):
            break
        start, stop = segments[s, 0], segments[s, 1]
        offset, centre_norm = offsets[s], centre_norms[s]
        e = np.searchsorted(exclude, start)
        for first in range(start, stop, _BLOCK):
            size = min(_BLOCK, stop - first)
            for n in range(size):
                dots[n] = _int_dot(codes[first + n], r)
            for n in range(size):
                i = first + n
                approx = scale[i] * t * dots[n] + offset
                err = code_norm[i] * f_norm + residual[i] * p_norm
                if cosine:
                    b = row_term[i] * inv_p
                    centre = 1.0 - b * approx
                    spread = row_term[i] * (z_norm[i] + centre_norm)
                    half = b * err + SLACK * (1.0 + spread + b * err)
                else:
                    total = row_term[i] + p_sq
                    centre = total - 2.0 * approx
                    spread = p_norm * (z_norm[i] + centre_norm)
                    half = 2.0 * err + SLACK * 2.0 * (total + spread + err)
                lower[n] = centre - half
                upper[n] = centre + half
            for n in range(size):
                if lower[n] > min(heap[0], cutoff):
                    continue
                i = first + n
                while e < exclude.shape[0] and exclude[e] < i:
                    e += 1
                if e < exclude.shape[0] and exclude[e] == i:
                    continue
                _keep(heap, upper[n])
                if lower[n] <= min(heap[0], cutoff):
                    found[count] = i
                    found_lower[count] = lower[n]
                    count += 1
    return count


@numba.njit(nogil=True, cache=True)
def exact_bounds(
    X: np.ndarray,
    rows: np.ndarray,
    query: np.ndarray,
    sphere_mean: np.ndarray,
    spherize: bool,
    cosine: bool,
    lower: np.ndarray,
    upper: np.ndarray,
) -> None:
    """Intervals around the rows' exact distances (cosine, or euclidean), from the float rows.

    Computed in float64 like :func:`.knn.exact_distances` but in another
    summation order, so each value is widened by ``EXACT_SLACK`` of its
    magnitudes: the interval contains the value the re-rank will compute.
    """
    d = X.shape[1]
    y = np.empty(d)
    q_sq = 0.0
    for j in range(d):
        q_sq += query[j] * query[j]
    q_norm = np.sqrt(q_sq)
    for n in range(rows.shape[0]):
        _transform(X[rows[n]], sphere_mean, spherize, y)
        if cosine:
            dot = 0.0
            y_sq = 0.0
            for j in range(d):
                dot += y[j] * query[j]
                y_sq += y[j] * y[j]
            if y_sq > 0 and q_norm > 0:
                distance = 1.0 - dot / (np.sqrt(y_sq) * q_norm)
                slack = EXACT_SLACK
            else:
                distance = 1.0
                slack = 0.0
        else:
            total = 0.0
            y_sq = 0.0
            for j in range(d):
                total += (y[j] - query[j]) ** 2
                y_sq += y[j] * y[j]
            distance = np.sqrt(total)
            slack = EXACT_SLACK * (distance + np.sqrt(y_sq) + q_norm)
        lower[n] = distance - slack
        upper[n] = distance + slack

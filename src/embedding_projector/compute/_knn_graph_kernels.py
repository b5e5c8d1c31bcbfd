"""numba kernel of :mod:`.knn_graph`: folding a block of float32 dot products into top-k heaps.

Imported lazily (numba takes half a second to import). The kernel releases the
GIL; :mod:`.knn_graph` calls it from one plain thread per core, each thread on
the heaps of its own rows only.

Each row keeps a max-heap of the ``K`` smallest *upper bounds* of its distances
seen so far (with each entry's lower bound and column), and ``band``: the
smallest lower bound of any column it examined and did not keep. A column
whose lower bound is above the heap's root cannot be among the row's ``K``
nearest (the root only falls), so it is dropped without a trace. Everything
else is either in the heap or counted in ``band``; that is what lets
:mod:`.knn_graph` prove, at the end, that the heap holds every column that can
be among the k nearest (see there).
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np


@numba.njit(nogil=True, cache=True, inline="always")
def _offer(
    heap_u: Any,
    heap_l: Any,
    heap_j: Any,
    band: Any,
    top: Any,
    i: int,
    lower: float,
    upper: float,
    j: int,
) -> None:
    """Offer column ``j`` (its distance in ``[lower, upper]``, ``lower <= top[i]``) to row ``i``.

    Kept when ``upper`` is below the root, which it replaces (the root's lower bound
    goes to ``band``); else its lower bound goes to ``band``.
    """
    if upper >= top[i]:
        band[i] = min(band[i], lower)
        return
    u, low, js = heap_u[i], heap_l[i], heap_j[i]
    band[i] = min(band[i], low[0])
    size = u.shape[0]
    at = 0
    while True:  # sift the new entry down from the root
        child = 2 * at + 1
        if child >= size:
            break
        if child + 1 < size and u[child + 1] > u[child]:
            child += 1
        if u[child] <= upper:
            break
        u[at], low[at], js[at] = u[child], low[child], js[child]
        at = child
    u[at], low[at], js[at] = upper, lower, j
    top[i] = u[0]


@numba.njit(nogil=True, cache=True, inline="always")
def _error(bounds: Any, s: float, reach: float) -> Any:
    """The bound on a distance's error: ``(quad s + cross reach) s + tiny (s + reach)^2``
    for ``bounds = (quad, cross, tiny)`` (see :mod:`.knn_graph`)."""
    quad, cross, tiny = bounds
    t = s + reach
    return (quad * s + cross * reach) * s + tiny * t * t


@numba.njit(nogil=True, cache=True, inline="always")
def _part(bounds: Any, norm: float, reach: float) -> Any:
    """One side's share of a bound on :func:`_error` that is a sum of the two sides'.

    With ``s = r + q``: ``s^2 <= 2 r^2 + 2 q^2`` and ``(s + reach)^2 <= 3 (r^2 + q^2 +
    reach^2)``, so ``_error(s) <= _part(r) + _part(q)``.
    """
    quad, cross, tiny = bounds
    squares = (2.0 * quad + 3.0 * tiny) * norm * norm + 1.5 * tiny * reach * reach
    return squares + cross * reach * norm


@numba.njit(nogil=True, cache=True)
def fold(
    dots: np.ndarray,
    rows: np.ndarray,
    row_term: np.ndarray,
    row_norm: np.ndarray,
    col_first: int,
    col_term: np.ndarray,
    col_norm: np.ndarray,
    weight: float,
    reach: float,
    bounds: tuple[float, float, float],
    both: bool,
    heap_u: np.ndarray,
    heap_l: np.ndarray,
    heap_j: np.ndarray,
    band: np.ndarray,
    top: np.ndarray,
) -> None:
    """Fold a block of float32 dot products into the heaps of its rows (and columns).

    The distance of stored row ``rows[a]`` to stored row ``col_first + b`` is
    ``row_term[a] + col_term[b] - weight * dots[a, b]``, within :func:`_error` of
    the exact one, where ``s = row_norm[a] + col_norm[b]`` (see :mod:`.knn_graph`).
    A row is never its own column. With ``both``, each column is offered the rows too (one product
    serves both directions). ``heap_u``, ``heap_l``, ``heap_j`` (``(N, K)``),
    ``band`` and ``top`` (the roots, ``(N,)``) are updated in place.
    """
    n_cols = dots.shape[1]
    # The first pass uses a bound that is a sum of a row's and a column's share, so that
    # it costs two additions a product and vectorises over the whole row; only the
    # columns it lets through get their exact bounds.
    col_low = np.empty(n_cols)
    for b in range(n_cols):
        col_low[b] = col_term[b] - _part(bounds, col_norm[b], reach)
    col_top = top[col_first : col_first + n_cols]
    lowers = np.empty(n_cols)
    chosen = np.empty(n_cols + 1, dtype=np.int64)
    for a in range(dots.shape[0]):
        i = rows[a]
        ri = row_norm[a]
        row_low = row_term[a] - _part(bounds, ri, reach)
        root = top[i]
        # One loop over the whole row (short loops do not vectorise well).
        hits = 0
        if both:
            for b in range(n_cols):
                lower = row_low + col_low[b] - weight * dots[a, b]
                lowers[b] = lower
                hits += (lower <= root) | (lower <= col_top[b])
        else:
            for b in range(n_cols):
                lower = row_low + col_low[b] - weight * dots[a, b]
                lowers[b] = lower
                hits += lower <= root
        if hits == 0:
            continue
        # The few columns let through, found without branches (they would mispredict).
        found = 0
        if both:
            for b in range(n_cols):
                chosen[found] = b
                found += (lowers[b] <= root) | (lowers[b] <= col_top[b])
        else:
            for b in range(n_cols):
                chosen[found] = b
                found += lowers[b] <= root
        for n in range(found):
            b = chosen[n]
            j = col_first + b
            if j == i:
                continue
            value = row_term[a] + col_term[b] - weight * dots[a, b]
            error = _error(bounds, ri + col_norm[b], reach)
            lower, upper = value - error, value + error
            if lower <= top[i]:
                _offer(heap_u, heap_l, heap_j, band, top, i, lower, upper, j)
            if both and lower <= top[j]:
                _offer(heap_u, heap_l, heap_j, band, top, j, lower, upper, i)

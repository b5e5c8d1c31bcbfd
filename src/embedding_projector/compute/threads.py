"""Splitting array work over the cores with plain threads, and keeping BLAS to one thread.

The numba kernels and BLAS calls release the GIL, so a thread per core runs them in
parallel. Work is cut into many more pieces than cores: when another process takes a
core, one piece waits, not half of the work. BLAS itself must then run one thread per
call: OpenBLAS's threads wait for each other by spinning, which made the same products
ten times slower when other processes shared the cores (docs/decisions.md).

The BLAS limit is a property of the process (threadpoolctl sets the library's global
thread count), so it is set once, when a process that belongs to us starts — a job
worker, the ``projector`` server — by :func:`limit_blas_threads`; never entered and left
around a computation, which would change it under other threads' feet (two overlapping
contexts restore each other's values in the wrong order).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
U = TypeVar("U")

N_THREADS = os.cpu_count() or 1


def map_in_threads(task: Callable[[T], U], pieces: Iterable[T]) -> Iterator[U]:
    """``task`` on every piece, one thread per core; the results in order.

    A single piece runs in the calling thread. Closing the iterator early cancels the
    pieces not started yet.
    """
    pieces = list(pieces)
    if len(pieces) == 1:
        return iter([task(pieces[0])])
    return _pool().map(task, pieces)


@functools.cache
def limit_blas_threads() -> None:
    """Make numpy's BLAS use one thread, for the rest of this process.

    Call it at the start of a process of ours (the first call does it; later ones
    return at once), before any computation. Not for a process that is not ours: in a
    notebook kernel it would slow the user's own numpy down. numpy's BLAS is the one
    that the pieces of :func:`map_in_threads` call; scipy's (``eigh`` after PCA's
    products) runs from one thread at a time, keeps its own threads, and is not
    imported here (importing scipy would add most of a second to the server's start).
    """
    import numpy  # noqa: F401  (loads the BLAS to limit)
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")


@functools.cache
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=N_THREADS, thread_name_prefix="compute")

"""Splitting array work over the cores with plain threads, and keeping BLAS to one thread.

The numba kernels and BLAS calls release the GIL, so a thread per core runs them in
parallel. Work is cut into many more pieces than cores: when another process takes a
core, one piece waits, not half of the work. BLAS itself is kept single-threaded
inside :func:`single_threaded_blas`: OpenBLAS's threads wait for each other by
spinning, which made the same products ten times slower when other processes shared
the cores (docs/decisions.md).
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

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


def single_threaded_blas() -> contextlib.AbstractContextManager[Any]:
    """A context in which numpy's and scipy's BLAS use one thread each."""
    limit: contextlib.AbstractContextManager[Any] = _controller().limit(limits=1, user_api="blas")
    return limit


@functools.cache
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=N_THREADS, thread_name_prefix="compute")


@functools.cache
def _controller() -> Any:
    """threadpoolctl's view of the BLAS libraries (finding them takes milliseconds)."""
    import scipy.linalg  # noqa: F401  (loads scipy's own BLAS, which must be limited too)
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()

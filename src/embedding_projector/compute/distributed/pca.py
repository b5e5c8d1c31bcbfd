"""PCA of every row on the cluster: blockwise moments, ``eigh`` on the client, ``map_blocks``.

Two passes over the data (three with spherize, whose centroid comes first), each block
read by the worker that processes it:

1. every block's :func:`~embedding_projector.compute.pca.moments` around a shift (the
   mean of the first rows), summed over the blocks by a tree reduction on the workers:
   ``(D + 1) x D`` numbers reach the client;
2. the client solves ``eigh`` (:func:`~embedding_projector.compute.pca.basis_from_moments`,
   the single-machine code) and every block is projected on the workers
   (``map_blocks``); the ``N x 10`` float32 coordinates are gathered by the client.

The same float32 block products summed in float64 as on one machine, so the
coordinates equal :func:`embedding_projector.compute.pca.run`'s (to float32 rounding:
tested to 1e-5).
"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np

from embedding_projector.compute import pca, preprocess
from embedding_projector.compute.distributed.blocks import Blocks, on_worker, row_array
from embedding_projector.compute.distributed.tracking import Tracker

#: Rows whose mean is the shift of the moments (any value near the mean will do).
SHIFT_ROWS = 8_192


def run(
    tracker: Tracker,
    blocks: Blocks,
    key: str,
    *,
    spherize: bool = False,
    n_components: int = pca.MAX_COMPONENTS,
) -> pca.PCAResult:
    """The PCA of every row of ``blocks``, as :func:`embedding_projector.compute.pca.run`.

    Parameters
    ----------
    tracker
        The job's tracker (progress, stop).
    blocks
        The input.
    key
        The input's content key (names the tasks).
    spherize
        Spherize the rows first (centroid subtracted, unit length), as a job asks.
    n_components
        How many components (capped at ``min(N, D)``).
    """
    n, d = blocks.shape
    prepare = None
    passes = 2.0
    if spherize:
        centre = centroid(tracker, blocks, key, stop=1 / 3)
        prepare = partial(spherized, centre=centre)
        passes = 3.0
    start = 1 - 2 / passes
    X = row_array(blocks, f"rows-{key}-{int(spherize)}", prepare)
    shift = tracker.result(tracker.submit(_head_mean, blocks, prepare))
    moments = X.map_blocks(
        _moments, shift, chunks=(1, d + 1, d), new_axis=2, dtype=np.float64, meta=np.empty((0,))
    )
    moments = tracker.persist(moments)
    from distributed import futures_of

    tracker.wait(futures_of(moments), start, start + 1 / passes, "accumulating covariance")
    total = tracker.result(tracker.compute(moments.sum(axis=0)))
    basis = pca.basis_from_moments(total[0], total[1:], shift, n, n_components)
    projected = tracker.persist(
        X.map_blocks(
            _project,
            basis,
            chunks=(X.chunks[0], (basis.components.shape[0],)),
            dtype=np.float32,
            meta=np.empty((0, 0), dtype=np.float32),
        )
    )
    futures = futures_of(projected)
    tracker.wait(futures, start + 1 / passes, 1.0, "projecting")
    coordinates = np.concatenate(tracker.client.gather(futures, direct=True))
    return pca.PCAResult(coordinates, basis.explained_variance_ratio, basis.components, basis.mean)


def centroid(tracker: Tracker, blocks: Blocks, key: str, *, stop: float) -> np.ndarray:
    """The mean row, summed in float64 block by block on the workers (progress ``0..stop``)."""
    sums = row_array(blocks, f"rows-{key}-0").map_blocks(
        _block_sum, chunks=(1, blocks.shape[1]), dtype=np.float64, meta=np.empty((0, 0))
    )
    persisted = tracker.persist(sums)
    from distributed import futures_of

    tracker.wait(futures_of(persisted), 0.0, stop, "centroid")
    mean: np.ndarray = tracker.result(tracker.compute(persisted.sum(axis=0))) / blocks.shape[0]
    return mean


def spherized(block: np.ndarray, *, centre: np.ndarray) -> np.ndarray:
    """Rows spherized around ``centre`` (the centroid of all rows), float32."""
    return preprocess.spherize_rows(block, centre).astype(np.float32)


def _head_mean(blocks: Blocks, prepare: Any) -> np.ndarray:
    start, stop = 0, min(SHIFT_ROWS, blocks.shape[0])
    head = on_worker(lambda: blocks.rows.read(start, stop))
    head = head if prepare is None else prepare(head)
    mean: np.ndarray = head.mean(axis=0, dtype=np.float64)
    return mean


def _moments(block: np.ndarray, shift: np.ndarray) -> np.ndarray:
    total, scatter = pca.moments(block, shift)
    return np.vstack([total[None], scatter])[None]


def _project(block: np.ndarray, basis: pca.Basis) -> np.ndarray:
    return pca.project(block, basis)


def _block_sum(block: np.ndarray) -> np.ndarray:
    total: np.ndarray = block.sum(axis=0, dtype=np.float64)
    return total[None]

"""t-SNE and UMAP on the cluster: one worker fits, every worker places its blocks.

Below the sample threshold (:func:`embedding_projector.compute.sample.sample_size`)
one task fits the method on every row, on one worker that reads them itself; it
streams progress and intermediate layouts through the job's channel. Above it:

1. each block task takes its share of the random sample (drawn by the job's seed)
   from its rows; Dask moves those rows to the one worker that fits the method on
   them (:func:`embedding_projector.compute.sample.fit`);
2. the fitted model (tens of MB, pickled by us) goes to every worker, each of which
   places the other rows of its blocks (``transform``);
3. the client assembles the ``N x dims`` float32 layout from the blocks' layouts.
"""

from __future__ import annotations

import operator
import pickle
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from embedding_projector.compute import sample, tsne
from embedding_projector.compute.distributed.blocks import Blocks, on_worker
from embedding_projector.compute.distributed.tracking import Channel, Tracker

#: A transform of the rows as they are read (spherize), float32 out.
Prepare = Callable[[np.ndarray], np.ndarray]


def run(
    tracker: Tracker,
    blocks: Blocks,
    *,
    method: str,
    dims: int,
    seed: int | None,
    params: dict[str, Any],
    size: int | None,
    labels: Any = None,
    prepare: Prepare | None = None,
) -> np.ndarray:
    """The layout of every row of ``blocks`` by ``method`` (``"tsne"`` or ``"umap"``).

    Parameters
    ----------
    tracker
        The job's tracker.
    blocks
        The input.
    method, dims, seed, params
        As the job asks (``params`` without ``sample``).
    size
        Rows to fit on (placing the others), or None to fit on all rows.
    labels
        t-SNE's supervision labels, one per row.
    prepare
        Applied to the rows as the workers read them (spherize).

    Returns
    -------
    numpy.ndarray
        ``(N, dims)`` float32.
    """
    n = blocks.shape[0]
    channel = tracker.channel
    if size is None:
        fitted = tracker.submit(
            _fit_all, method, _Reader(blocks, prepare), dims, seed, params, labels, channel
        )
        tracker.wait([fitted], 0.0, 1.0, "")
        layout: np.ndarray = tracker.client.gather(fitted, direct=True)
        return layout
    rows = sample.choose(n, size, seed)
    reader = _Reader(blocks, prepare)
    parts = [
        tracker.submit(_take, reader, start, stop, _within(rows, start, stop) - start)
        for start, stop in blocks.bounds
    ]
    sample_labels = None if labels is None else [labels[i] for i in rows.tolist()]
    fitted = tracker.submit(
        _fit_sample, method, dims, seed, params, sample_labels, n - size, channel, *parts
    )
    tracker.wait([fitted], 0.0, sample.FIT_SHARE, "")
    frozen = tracker.submit(operator.itemgetter(0), fitted)
    placed = [
        tracker.submit(_place, method, frozen, reader, a, b, _within(rows, a, b) - a)
        for a, b in blocks.bounds
    ]
    tracker.wait(placed, sample.FIT_SHARE, 1.0, "placing rows")
    layout = np.concatenate(tracker.client.gather(placed, direct=True))
    layout[rows] = tracker.client.gather(tracker.submit(operator.itemgetter(1), fitted))
    return layout


def _within(rows: np.ndarray, start: int, stop: int) -> np.ndarray:
    picked: np.ndarray = rows[(rows >= start) & (rows < stop)]
    return picked


@dataclass(frozen=True)
class _Reader:
    """Reads rows on a worker, prepared (spherized) when the job asks."""

    blocks: Blocks
    prepare: Prepare | None

    def __call__(self, start: int, stop: int) -> np.ndarray:
        rows = on_worker(lambda: self.blocks.rows.read(start, stop))
        return rows if self.prepare is None else self.prepare(rows)


def _take(read: _Reader, start: int, stop: int, positions: np.ndarray) -> np.ndarray:
    if positions.size == 0:
        return np.empty((0, read.blocks.shape[1]), dtype=np.float32)
    return np.ascontiguousarray(read(start, stop)[positions])


def _fit_all(
    method: str,
    read: _Reader,
    dims: int,
    seed: int | None,
    params: dict[str, Any],
    labels: Any,
    channel: Channel,
) -> np.ndarray:
    try:
        X = read(0, read.blocks.shape[0])
        _, layout = sample.fit(
            method, X, dims=dims, seed=seed, params=params, labels=labels,
            n_jobs=tsne.threads_for(X.shape[0]), callback=channel,
        )  # fmt: skip
    finally:
        channel.close()
    return layout


def _fit_sample(
    method: str,
    dims: int,
    seed: int | None,
    params: dict[str, Any],
    labels: Any,
    placing: int,
    channel: Channel,
    *parts: np.ndarray,
) -> tuple[bytes, np.ndarray]:
    try:
        model, layout = sample.fit(
            method, np.concatenate(parts), dims=dims, seed=seed, params=params, labels=labels,
            n_jobs=tsne.threads_for(sum(len(part) for part in parts)), placing=placing,
            callback=sample.without_layouts(channel),
        )  # fmt: skip
    finally:
        channel.close()
    return pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL), layout


def _thawed(frozen: bytes) -> Any:
    """The fitted model, unpickled here rather than by Dask: unpickling a UMAP imports
    umap-learn, which warns (no TensorFlow) as it is imported, and those warnings must
    not fail the task where warnings are errors."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pickle.loads(frozen)  # our own fit's bytes, from our own task


def _place(
    method: str, frozen: bytes, read: _Reader, start: int, stop: int, fitted: np.ndarray
) -> np.ndarray:
    """The layout of rows ``start:stop``; the fitted rows among them are left at 0."""
    model = _thawed(frozen)
    rows = read(start, stop)
    others = np.setdiff1d(np.arange(stop - start), fitted, assume_unique=True)
    layout = np.zeros((stop - start, _width(model)), dtype=np.float32)
    for first in range(0, others.size, sample.TRANSFORM_ROWS):
        chosen = others[first : first + sample.TRANSFORM_ROWS]
        layout[chosen] = sample.transform(method, model, np.ascontiguousarray(rows[chosen]))
    return layout


def _width(model: Any) -> int:
    """The number of output dimensions of a fitted t-SNE embedding or UMAP model."""
    return int(model.shape[1]) if isinstance(model, np.ndarray) else int(model.n_components)

"""t-SNE and UMAP of many points: fit on a random sample, then place every other row.

Above :data:`SAMPLE_ABOVE` rows a full t-SNE or UMAP takes too long (t-SNE of 1M x 128:
46 minutes projected on the reference machine), so the method is fitted on
:data:`DEFAULT_SAMPLE` rows drawn at random (reproducibly: the job's seed draws them)
and every other row is placed into that layout by the method's own ``transform``
(openTSNE's ``TSNEEmbedding.transform``, umap-learn's ``UMAP.transform``), block by
block. Each row is placed against the fitted rows only, independently of the other new
rows, so blocks can be placed anywhere, in any order: here in one process
(:func:`run`), or on the workers of a Dask cluster
(:mod:`embedding_projector.compute.distributed`).

A job may ask for its own sample size (``params.sample``); a sample as large as the
data means a full fit.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

from embedding_projector.compute import tsne, umap
from embedding_projector.compute.progress import Callback, Progress, Stopped, report, within
from embedding_projector.compute.validation import check_int, check_vectors

#: Above this many rows, t-SNE and UMAP are fitted on a sample by default.
SAMPLE_ABOVE = 1_000_000
#: Rows fitted on by default above :data:`SAMPLE_ABOVE`.
DEFAULT_SAMPLE = 100_000
#: The smallest sample asked for explicitly (t-SNE's perplexity needs a few dozen rows).
MIN_SAMPLE = 100
#: Rows placed at once: large enough that the fitted index answers in batches.
TRANSFORM_ROWS = 65_536
#: Share of the progress bar given to the fit (the rest: placing the other rows).
FIT_SHARE = 0.5


def sample_size(n_samples: int, requested: Any = None) -> int | None:
    """How many rows to fit on, or None to fit on all ``n_samples``.

    Parameters
    ----------
    n_samples
        Rows of the data.
    requested
        A job's ``params.sample``: None for the default (:data:`DEFAULT_SAMPLE` above
        :data:`SAMPLE_ABOVE` rows, else all), or a number of rows >= :data:`MIN_SAMPLE`.

    Raises
    ------
    InvalidParameterError
        ``requested`` is not an integer >= :data:`MIN_SAMPLE`.
    """
    if requested is None:
        return DEFAULT_SAMPLE if n_samples > SAMPLE_ABOVE else None
    size = check_int("sample", requested, low=MIN_SAMPLE)
    return size if size < n_samples else None


def choose(n_samples: int, size: int, seed: int | None) -> np.ndarray:
    """``size`` distinct row numbers drawn at random by ``seed``, in increasing order."""
    rows = np.random.default_rng(seed).choice(n_samples, size=size, replace=False)
    return np.sort(rows).astype(np.int64)


def fit(
    method: str,
    X: np.ndarray,
    *,
    dims: int,
    seed: int | None,
    params: dict[str, Any],
    labels: Any = None,
    n_jobs: int = 1,
    placing: int = 0,
    init: np.ndarray | None = None,
    callback: Callback | None = None,
) -> tuple[Any, np.ndarray]:
    """Fit ``method`` ("tsne" or "umap") on the sample ``X``; returns the model and its layout.

    The model places new rows (:func:`transform`) and can be pickled (to other processes).
    ``placing`` says how many rows it will place: above :data:`SAMPLE_ABOVE`, t-SNE's
    neighbours are found by pynndescent, whose batched queries place rows ~3x faster than
    openTSNE's default (Annoy, one query at a time in Python) but whose kernels numba
    compiles once per process (tens of seconds to minutes): worth it for millions of rows.
    UMAP placing any rows keeps a pynndescent index whatever the sample's size
    (:func:`embedding_projector.compute.umap.fit`).
    ``init``: the sample's layout to start from (a timeline's previous step), or None.
    """
    if method == "tsne":
        embedding = tsne.fit(
            X,
            n_components=dims,
            random_state=seed,
            labels=labels,
            n_jobs=n_jobs,
            neighbors="pynndescent" if placing > SAMPLE_ABOVE else "auto",
            init=init,
            callback=callback,
            **params,
        )
        return embedding, np.asarray(embedding, dtype=np.float32)
    return umap.fit(X, n_components=dims, random_state=seed, init=init, callback=callback,
                    placing=placing > 0, **params)  # fmt: skip


def transform(method: str, model: Any, X: np.ndarray) -> np.ndarray:
    """Place the rows ``X`` into the layout of ``model`` (from :func:`fit`); float32."""
    return tsne.transform(model, X) if method == "tsne" else umap.transform(model, X)


def run(
    method: str,
    X: np.ndarray,
    *,
    size: int,
    dims: int,
    seed: int | None,
    params: dict[str, Any],
    labels: Any = None,
    n_jobs: int = 1,
    init: np.ndarray | None = None,
    callback: Callback | None = None,
) -> np.ndarray:
    """Fit on ``size`` rows drawn by ``seed``, place all the others; the layout of all rows.

    Parameters
    ----------
    method
        ``"tsne"`` or ``"umap"``.
    X
        ``(N, D)`` vectors, N > ``size``; may be memory-mapped (read block by block).
    size
        Rows to fit on (:func:`sample_size`).
    dims, seed, params
        The job's output dimensions, seed and the method's parameters.
    labels
        t-SNE's supervision labels, one per row of ``X`` (the sample's are used).
    n_jobs
        Threads of the fit.
    init
        ``(N, dims)`` layout of all rows to start from (a timeline's previous step): the
        fit starts from its sampled rows' (the same rows at every step: ``seed`` draws
        them), the others are placed anew.
    callback
        Progress: the fit's, then one report per block placed. No intermediate layout is
        reported (the fit's holds the sample's rows only); a stop raises
        :class:`~.progress.Stopped` without a partial layout.

    Returns
    -------
    numpy.ndarray
        ``(N, dims)`` float32: the fitted rows where the fit put them, the others placed.
    """
    X = check_vectors(X)
    rows = choose(X.shape[0], size, seed)
    sample_labels = None if labels is None else [labels[i] for i in rows.tolist()]
    quiet = without_layouts(within(callback, 0.0, FIT_SHARE))
    try:
        model, fitted = fit(
            method,
            np.ascontiguousarray(X[rows]),
            dims=dims,
            seed=seed,
            params=params,
            labels=sample_labels,
            n_jobs=n_jobs,
            placing=X.shape[0] - size,
            init=None if init is None else np.asarray(init)[rows],
            callback=quiet,
        )
    except Stopped:
        raise Stopped(None) from None
    layout = np.empty((X.shape[0], fitted.shape[1]), dtype=np.float32)
    layout[rows] = fitted
    others = np.setdiff1d(np.arange(X.shape[0]), rows, assume_unique=True)
    blocks = [others[i : i + TRANSFORM_ROWS] for i in range(0, others.size, TRANSFORM_ROWS)]
    for done, block in enumerate(blocks, 1):
        layout[block] = transform(method, model, np.ascontiguousarray(X[block]))
        fraction = FIT_SHARE + (1 - FIT_SHARE) * done / len(blocks)
        report(callback, Progress(fraction, f"placing rows: {done}/{len(blocks)} blocks"))
    return layout


def without_layouts(callback: Callback | None) -> Callback | None:
    """The fit's reports without their layouts: those hold the sample's rows, not all rows."""
    if callback is None:
        return None
    outer: Callable[[Progress], bool | None] = callback
    return lambda progress: outer(dataclasses.replace(progress, embedding=None))

"""UMAP on every point with umap-learn, with epoch progress and streamed layouts.

umap-learn (0.5.x) has no epoch callback. Its optimiser wraps the epoch loop in
``tqdm(range(n_epochs), **tqdm_kwds)``, and ``tqdm_kwds`` is a public UMAP
parameter: we hand it a file-like sink and a bar format of ``{n}/{total}``, so
every epoch writes its number to us. The sink reads the layout being optimised
from the optimiser's frame (``head_embedding``, updated in place), which gives
intermediate layouts and a partial result on cancel without patching umap.

numba compiles umap's and pynndescent's kernels on first use (16-79 s on the
reference machine); with ``NUMBA_CACHE_DIR`` set they are cached on disk, and
:func:`warm_up` fills that cache on a tiny input.
"""

from __future__ import annotations

import itertools
import sys
import threading
import warnings
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np

from embedding_projector.compute.params import BelowN, param, resolve
from embedding_projector.compute.progress import Callback, Progress, report
from embedding_projector.compute.validation import (
    check_choice,
    check_seed,
    check_start,
    check_vectors,
)

METRICS = ("euclidean", "cosine")
#: Share of the progress bar given to the neighbour graph and the initial layout.
_GRAPH_SHARE = 0.4
_OPTIMIZERS = ("optimize_layout_euclidean", "optimize_layout_generic")


@dataclass(frozen=True)
class UmapParams:
    """UMAP's parameters (umap-learn's names); see :mod:`.params` for what the fields declare."""

    n_neighbors: int = param(
        15,
        "Size of the neighbourhood each point sees (TensorBoard's range).",
        low=5, high=50, integer=True, step=1, below_n=BelowN(offset=0, divisor=1),
    )  # fmt: skip
    min_dist: float = param(0.1, "How tightly points may pack.", low=0, high=0.99, step=0.01)
    metric: Literal["euclidean", "cosine"] = param(
        "euclidean",
        "Distance between points (true cosine: vectors need not be unit length).",
        choices=METRICS,
    )
    n_epochs: int | None = param(
        None,
        "Optimisation epochs; none lets umap choose (500 below 10,000 points, else 200).",
        low=1, high=10_000, integer=True,
    )  # fmt: skip


def run(
    X: np.ndarray,
    *,
    n_components: int = 2,
    random_state: int | None = None,
    init: np.ndarray | None = None,
    callback: Callback | None = None,
    **params: Any,
) -> np.ndarray:
    """Embed every point with UMAP.

    Parameters
    ----------
    X
        ``(N, D)`` vectors, N > ``n_neighbors``.
    n_components
        2 or 3.
    random_state
        Seed; a fixed seed makes umap run single-threaded (its own rule).
    init
        ``(N, n_components)`` layout to start from (a timeline starts each step from
        the previous step's layout; umap rescales it, and it is optimised with a tenth of
        umap's step size, so that it is refined, not scattered); None: umap's spectral start.
    callback
        Receives a :class:`~.progress.Progress` per epoch with the live layout;
        returning True raises :class:`~.progress.Stopped` with the layout so far.
    **params
        Fields of :class:`UmapParams` (``n_neighbors``, ``min_dist``, ``metric``,
        ``n_epochs``); those not given take their defaults, ``n_neighbors``
        lowered to fit a small N.

    Returns
    -------
    numpy.ndarray
        ``(N, n_components)`` float32 layout.
    """
    _, layout = fit(
        X,
        n_components=n_components,
        random_state=random_state,
        init=init,
        callback=callback,
        **params,
    )
    return layout


def fit(
    X: np.ndarray,
    *,
    n_components: int = 2,
    random_state: int | None = None,
    init: np.ndarray | None = None,
    callback: Callback | None = None,
    placing: bool = False,
    **params: Any,
) -> tuple[Any, np.ndarray]:
    """Like :func:`run` (same parameters), but also returns the fitted model.

    ``placing``: the model will place new rows (:func:`transform`), so its neighbours are
    found by pynndescent even below umap-learn's 4,096 rows, and its index answers
    ``transform`` in compiled batches. Without an index, umap-learn measures every new row
    against every fitted one through a Python call per pair: placing 18,000 rows into a
    2,000-row fit held a Dask worker for minutes.

    Returns
    -------
    tuple
        ``umap.UMAP`` fitted on ``X``, which places new points (:func:`transform`), and
        its ``(N, n_components)`` float32 layout.
    """
    X = check_vectors(X, min_samples=2)
    n_components = check_choice("n_components", n_components, (2, 3))
    seed = check_seed(random_state)
    p = resolve(UmapParams, params, X.shape[0])
    start: dict[str, Any] = {}
    if init is not None:
        # From a given layout, umap's usual step size (1.0) scatters it: on the PyTorch
        # fixture's last two steps the disparity to the start was 0.69 (a fresh run's 0.88);
        # at 0.1 it was 0.14, the layout kept and refined.
        start = {"init": check_start(init, X.shape[0], n_components), "learning_rate": 0.1}
    report(callback, Progress(0.0, "finding nearest neighbours"))
    return _fit(X, callback, n_components=n_components, random_state=seed, **asdict(p), **start,
                force_approximation_algorithm=placing)  # fmt: skip


def transform(model: Any, X: np.ndarray) -> np.ndarray:
    """Place new points in a fitted layout (``UMAP.transform``: each against the fitted ones).

    Parameters
    ----------
    model
        From :func:`fit`.
    X
        ``(M, D)`` vectors of the width fitted.

    Returns
    -------
    numpy.ndarray
        ``(M, n_components)`` float32.
    """
    X = check_vectors(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. that a seed disables parallelism
        placed = model.transform(X)
    return np.asarray(placed, dtype=np.float32)


def warm_up() -> None:
    """Compile (or load from numba's disk cache) every kernel a UMAP run needs.

    Runs UMAP on 300 random points with both metrics, with and without a seed
    (umap compiles a serial and a parallel optimiser), with the exact neighbour
    search of small inputs and the approximate one (pynndescent) that data of
    4,096 points or more uses. Only part of this
    lands in numba's disk cache: pynndescent and umap build some kernels at run
    time, so every new process pays 20-70 s once. Call it in each long-lived
    worker process, in the background.
    """
    X = np.random.default_rng(0).standard_normal((300, 8)).astype(np.float32)
    for metric, seed, approximate in itertools.product(METRICS, (0, None), (True, False)):
        _fit(X, None, n_components=2, n_neighbors=15, min_dist=0.1, metric=metric, n_epochs=5,
             random_state=seed, force_approximation_algorithm=approximate)  # fmt: skip


def _fit(X: np.ndarray, callback: Callback | None, **params: Any) -> tuple[Any, np.ndarray]:
    sink = _EpochSink(callback)
    tqdm_kwds = {"file": sink, "bar_format": "{n}/{total}\n", "disable": False}
    with warnings.catch_warnings():
        # umap warns on import (no TensorFlow for ParametricUMAP), that a seed
        # disables its parallelism, and about spectral initialisation of tiny
        # graphs: all expected, none for the user to act on.
        warnings.simplefilter("ignore")
        import umap

        model = umap.UMAP(**params, tqdm_kwds={**tqdm_kwds, "mininterval": 0, "miniters": 1})
        layout = model.fit_transform(X)
    # The sink holds the callback (a worker's pipes): the model must not keep it, so that
    # it can be pickled (to the workers that transform) and transforms stay silent.
    model.tqdm_kwds = {"disable": True}
    return model, np.asarray(layout, dtype=np.float32)


class _EpochSink:
    """A file for tqdm: each write carries ``epoch/total``; forwards it as progress."""

    def __init__(self, callback: Callback | None) -> None:
        self.callback = callback
        self.thread = threading.get_ident()

    def write(self, text: str) -> int:
        # tqdm's monitor thread may refresh the bar too: only the optimising thread
        # can see the layout and may stop the run.
        if threading.get_ident() != self.thread:
            return len(text)
        epoch, total = _parse(text)
        if epoch is not None and total:
            layout = _live_layout()
            fraction = _GRAPH_SHARE + (1 - _GRAPH_SHARE) * epoch / total
            progress = Progress(fraction, f"epoch {epoch}/{total}", epoch, layout)
            report(self.callback, progress)
        return len(text)

    def flush(self) -> None:
        """Nothing is buffered."""


def _parse(text: str) -> tuple[int | None, int | None]:
    head, _, tail = text.strip().partition("/")
    if head.isdigit() and tail.isdigit():
        return int(head), int(tail)
    return None, None


def _live_layout() -> np.ndarray | None:
    """The layout umap is optimising, from its optimiser's frame further up the stack."""
    frame = sys._getframe()
    while frame is not None:
        if frame.f_code.co_name in _OPTIMIZERS:
            layout = frame.f_locals.get("head_embedding")
            return layout if isinstance(layout, np.ndarray) else None
        frame = frame.f_back  # type: ignore[assignment]
    return None

"""t-SNE on every point with openTSNE: FFT gradients in 2D, Barnes-Hut in 3D.

The optimisation runs in two phases, as in openTSNE: early exaggeration
(momentum 0.5) for a third of the iterations, at most 250, then the normal phase
(momentum 0.8). The learning rate ``"auto"`` is openTSNE's: N divided by the
exaggeration of the phase (Belkina et al. 2019), so N/12 during early
exaggeration. Unlike TensorBoard's t-SNE, it stops by itself: after the early
phase, when the KL divergence improved by less than 0.1% over 50 iterations.

Supervision follows TensorBoard (``bh_tsne.ts``, ``costGrad``): each
nearest-neighbour affinity p_ij is reweighted by a label prior — 1/N when either
point is unlabelled, ``1/N + supervise / n_same`` when the labels agree and
``max(1/N - supervise / n_other, 1e-7)`` when they differ — and P is
renormalised. Same-label neighbours attract more, cross-label neighbours barely,
unlabelled points are unaffected.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from embedding_projector.compute import pca
from embedding_projector.compute.params import BelowN, param, resolve
from embedding_projector.compute.progress import Callback, Progress, Stopped, report
from embedding_projector.compute.validation import (
    check_choice,
    check_seed,
    check_start,
    check_vectors,
)
from embedding_projector.errors import InvalidParameterError

METRICS = ("euclidean", "cosine")
#: Perplexity >= 2 must stay below (N - 1) / 3.
MIN_SAMPLES = 8
#: Iterations between progress reports (each report evaluates the KL divergence).
REPORT_EVERY = 10
#: Convergence test: relative KL improvement over this many iterations...
_WINDOW = 50
#: ...below this stops the optimisation.
_MIN_IMPROVEMENT = 1e-3
#: Optimisation iterations of each point placed by :func:`transform` (openTSNE: 250).
TRANSFORM_ITER = 100
#: Share of the progress bar given to the affinities (nearest neighbours).
_AFFINITY_SHARE = 0.15
#: openTSNE's threads pay off on big data only; below this they just compete with the
#: other worker for the cores (on the digits, two threads were slower than one).
_THREADS_FROM = 10_000


@dataclass(frozen=True)
class TsneParams:
    """t-SNE's parameters (openTSNE's names); see :mod:`.params` for what the fields declare."""

    perplexity: float = param(
        30.0,
        "How many neighbours each point balances.",
        low=2, high=100, step=1, below_n=BelowN(offset=-1, divisor=3),
    )  # fmt: skip
    learning_rate: float | Literal["auto"] = param(
        "auto",
        "Step size of the optimisation; auto is N / exaggeration (N / 12 early on).",
        low=0, low_inclusive=False, auto=True,
    )  # fmt: skip
    early_exaggeration: float = param(12.0, "Attraction during the early phase.", low=1)
    n_iter: int = param(
        750,
        "Most iterations, both phases together; it stops by itself once converged.",
        low=1, high=100_000, integer=True, step=50,
    )  # fmt: skip
    metric: Literal["euclidean", "cosine"] = param(
        "euclidean", "Distance of the nearest-neighbour affinities.", choices=METRICS
    )
    supervise: float = param(
        0.5,
        "How strongly points with the same label attract (with labels only).",
        low=0, high=1, step=0.05,
    )  # fmt: skip


def run(X: np.ndarray, **params: Any) -> np.ndarray:
    """Embed every point with t-SNE: :func:`fit`'s layout as a plain array.

    Takes the parameters of :func:`fit`.

    Returns
    -------
    numpy.ndarray
        ``(N, n_components)`` float32 layout.
    """
    return np.asarray(fit(X, **params), dtype=np.float32)


def fit(
    X: np.ndarray,
    *,
    n_components: int = 2,
    labels: Any = None,
    random_state: int | None = None,
    n_jobs: int = 1,
    init: np.ndarray | None = None,
    neighbors: str = "auto",
    callback: Callback | None = None,
    **params: Any,
) -> Any:
    """Embed every point with t-SNE; returns openTSNE's ``TSNEEmbedding``.

    The embedding (an array subclass) can place new points: :func:`transform`.

    Parameters
    ----------
    X
        ``(N, D)`` vectors, N >= 8.
    n_components
        2 (FFT-accelerated gradients) or 3 (Barnes-Hut).
    labels
        Optional length-N sequence of class labels for supervision; None, NaN
        and empty strings mean unlabelled.
    random_state
        Seed of the initialisation jitter and of the approximate neighbour search.
    n_jobs
        Threads for openTSNE (-1: all cores).
    init
        ``(N, n_components)`` layout to start from (a timeline starts each step from
        the previous step's layout): the optimisation continues from it, at its scale and
        without the early exaggeration phase, which would scatter it; None: PCA of ``X``.
    neighbors
        openTSNE's nearest-neighbour method (``"auto"``: exact below 1,000 points, else
        Annoy; ``"pynndescent"``: batched queries, faster for :func:`transform`).
    callback
        Receives a :class:`~.progress.Progress` every ``REPORT_EVERY``
        iterations with the live layout and the KL divergence; it may edit the
        layout in place (see :func:`perturb`) and returns True to stop, which
        raises :class:`~.progress.Stopped` with the layout so far.
    **params
        Fields of :class:`TsneParams` (``perplexity``, ``learning_rate``,
        ``early_exaggeration``, ``n_iter``, ``metric``, ``supervise``); those not
        given take their defaults, the perplexity lowered to fit a small N.

    Returns
    -------
    openTSNE.TSNEEmbedding
        The ``(N, n_components)`` layout.
    """
    from openTSNE import TSNEEmbedding
    from openTSNE.affinity import PerplexityBasedNN

    X = check_vectors(X, min_samples=MIN_SAMPLES)
    n_components = check_choice("n_components", n_components, (2, 3))
    seed = check_seed(random_state)
    p = resolve(TsneParams, params, X.shape[0])
    supervised = labels is not None and p.supervise > 0
    classes = label_codes(labels, X.shape[0]) if supervised else None

    continued = init is not None
    if init is None:
        report(callback, Progress(0.0, "initialising with PCA"))
        init = _initialization(X, n_components, seed)
    else:
        init = np.ascontiguousarray(check_start(init, X.shape[0], n_components))
    # A first layout at once (PCA is quick): it is shown while the neighbours are found.
    report(callback, Progress(0.0, "finding nearest neighbours", embedding=init))
    affinities = PerplexityBasedNN(
        X,
        perplexity=p.perplexity,
        metric=p.metric,
        method=neighbors,
        n_jobs=n_jobs,
        random_state=seed,
    )
    if classes is not None:
        affinities.P = supervised_affinities(affinities.P, classes, p.supervise)
    report(callback, Progress(_AFFINITY_SHARE, "optimising"))
    embedding = TSNEEmbedding(
        init,
        affinities,
        negative_gradient_method="fft" if n_components == 2 else "bh",
        n_jobs=n_jobs,
        random_state=seed,
    )
    n_iter = p.n_iter
    # A continued layout keeps its shape: measured on the PyTorch fixture's last two steps,
    # its Procrustes disparity to the start was 0.05 so, 0.24 rescaled and 0.91 rescaled and
    # exaggerated (a fresh start's: 0.72).
    early_iter = 0 if continued else min(250, n_iter // 3)
    monitor = _Monitor(callback, n_iter=n_iter, early_iter=early_iter)
    phases = [(early_iter, p.early_exaggeration, 0.5), (n_iter - early_iter, 1.0, 0.8)]
    for phase_iter, exaggeration, momentum in phases:
        if phase_iter == 0 or monitor.converged:
            continue
        embedding = _optimize(
            embedding, phase_iter, exaggeration, momentum, p.learning_rate, monitor
        )
        monitor.offset += phase_iter
    layout = np.asarray(embedding, dtype=np.float32)
    if monitor.converged:
        final = Progress(1.0, "converged", iteration=monitor.done, embedding=layout)
    else:
        final = Progress(1.0, "done", iteration=n_iter, embedding=layout)
    report(callback, final)
    return embedding


def threads_for(n_samples: int) -> int:
    """openTSNE's ``n_jobs`` for ``n_samples`` points: all cores from 10,000 points, else 1."""
    return -1 if n_samples >= _THREADS_FROM else 1


def transform(embedding: Any, X: np.ndarray) -> np.ndarray:
    """Place new points in a fitted layout, each against the fitted points only.

    openTSNE's ``TSNEEmbedding.transform`` with its defaults (perplexity 5, median
    initialisation from the 25 nearest fitted points, learning rate 0.1, exaggeration
    1.5) but ``TRANSFORM_ITER`` iterations: the points start at the median of their
    neighbours, and on labelled blobs (20,000 x 32, 2,000 fitted) the 10-NN label
    agreement was 0.980 after 50, 100 and 250 iterations alike. Each point is placed
    independently of the others, so blocks of rows can be transformed anywhere, in any
    order.

    ``embedding`` is :func:`fit`'s; ``X`` holds ``(M, D)`` vectors of the width fitted;
    returns their ``(M, n_components)`` float32 layout.
    """
    X = check_vectors(X)
    placed = embedding.transform(X, n_iter=TRANSFORM_ITER)
    return np.asarray(placed, dtype=np.float32)


def _optimize(
    embedding: Any,
    n_iter: int,
    exaggeration: float,
    momentum: float,
    learning_rate: float | str,
    monitor: _Monitor,
) -> Any:
    """One optimisation phase; returns the embedding, raising :class:`Stopped` on a stop."""
    from openTSNE.tsne import OptimizationInterrupt

    try:
        embedding.optimize(
            n_iter,
            exaggeration=exaggeration,
            momentum=momentum,
            learning_rate=learning_rate,
            inplace=True,
            propagate_exception=True,
            callbacks=monitor,
            callbacks_every_iters=REPORT_EVERY,
        )
    except OptimizationInterrupt as interrupt:
        if not monitor.converged:
            raise Stopped(np.array(interrupt.final_embedding, dtype=np.float32)) from None
    return embedding


class _Monitor:
    """openTSNE callback: forwards progress and detects convergence."""

    def __init__(self, callback: Callback | None, *, n_iter: int, early_iter: int) -> None:
        self.callback = callback
        self.n_iter = n_iter
        self.early_iter = early_iter
        self.offset = 0
        self.done = 0
        self.converged = False
        self.history: list[float] = []

    def __call__(self, iteration: int, error: float, embedding: np.ndarray) -> bool:
        done = self.done = self.offset + iteration
        fraction = _AFFINITY_SHARE + (1 - _AFFINITY_SHARE) * done / self.n_iter
        progress = Progress(
            fraction, f"iteration {done}", iteration=done, embedding=embedding, error=error
        )
        if self.callback is not None and self.callback(progress):
            return True
        if done > self.early_iter:
            self.history.append(float(error))
            self.converged = _has_converged(self.history)
        return self.converged


def _has_converged(history: list[float]) -> bool:
    """True when the KL divergence fell, but by less than 0.1%, over the last window.

    A KL that rose (after a perturbation, say) never counts as converged.
    """
    lag = _WINDOW // REPORT_EVERY
    if len(history) <= lag:
        return False
    before, now = history[-1 - lag], history[-1]
    return 0 <= before - now < _MIN_IMPROVEMENT * abs(now)


def _initialization(X: np.ndarray, n_components: int, random_state: int | None) -> np.ndarray:
    """PCA initialisation scaled as openTSNE does (std 1e-4), with our blocked PCA."""
    from openTSNE.initialization import jitter, rescale

    coordinates = pca.run(X, n_components=n_components).coordinates.astype(np.float64)
    if coordinates.shape[1] < n_components:  # fewer features than output dimensions
        padding = np.zeros((coordinates.shape[0], n_components - coordinates.shape[1]))
        coordinates = np.hstack([coordinates, padding])
    init = jitter(rescale(coordinates), random_state=random_state)
    return np.ascontiguousarray(init)


def label_codes(labels: Any, n_samples: int) -> np.ndarray:
    """Integer class per point, -1 where unlabelled (None, NaN or empty string)."""
    values = list(labels)
    if len(values) != n_samples:
        raise InvalidParameterError(f"`labels` must have {n_samples} values, got {len(values)}")
    missing = [v is None or v == "" or (isinstance(v, float) and np.isnan(v)) for v in values]
    keys = [None if gone else str(v) for v, gone in zip(values, missing, strict=True)]
    names = sorted({k for k in keys if k is not None})
    index = {name: code for code, name in enumerate(names)}
    return np.array([-1 if k is None else index[k] for k in keys], dtype=np.int64)


def supervised_affinities(P: Any, classes: np.ndarray, supervise: float) -> Any:
    """Reweight a sparse affinity matrix by label agreement, TensorBoard-style, then renormalise.

    Parameters
    ----------
    P
        ``(N, N)`` scipy sparse matrix of symmetric t-SNE affinities.
    classes
        ``(N,)`` class codes, -1 for unlabelled.
    supervise
        Strength 0..1.

    Returns
    -------
    scipy.sparse.csr_matrix
        The reweighted affinities, summing to 1.
    """
    P = P.tocoo()
    n = classes.size
    labelled = classes >= 0
    counts = np.bincount(classes[labelled], minlength=int(classes.max(initial=-1)) + 1)
    n_labelled = int(labelled.sum())
    same_count = np.where(labelled, counts[np.where(labelled, classes, 0)], 1).astype(np.float64)
    other_count = np.maximum(n_labelled - same_count, 1.0)
    ci, cj = classes[P.row], classes[P.col]
    prior = np.full(P.nnz, 1.0 / n)
    same = (ci >= 0) & (cj >= 0) & (ci == cj)
    different = (ci >= 0) & (cj >= 0) & (ci != cj)
    prior[same] = np.minimum(1.0 / n + supervise / same_count[P.row[same]], 1 - 1e-7)
    prior[different] = np.maximum(1.0 / n - supervise / other_count[P.row[different]], 1e-7)
    weighted = P.multiply(0).tocoo()
    weighted.data = P.data * prior
    weighted = weighted.tocsr()
    # Symmetrise again (priors use row i's counts) and renormalise to a distribution.
    weighted = (weighted + weighted.T) / 2
    return weighted / weighted.sum()


def perturb(embedding: np.ndarray, *, random_state: int | None = None) -> None:
    """Shake a layout in place, as TensorBoard's "Perturb" button does.

    Each point moves by up to 5% of the layout's radius in every coordinate,
    without leaving that radius; the layout is then re-centred.

    Parameters
    ----------
    embedding
        ``(N, n_components)`` layout, modified in place.
    random_state
        Seed of the noise.
    """
    rng = np.random.default_rng(random_state)
    radius = float(np.sqrt((embedding**2).sum(axis=1).max()))
    moved = embedding + 0.1 * radius * (rng.random(embedding.shape) - 0.5)
    norms = np.sqrt((moved**2).sum(axis=1, keepdims=True))
    outside = norms > radius
    moved = np.where(outside, moved * radius / np.where(outside, norms, 1.0), moved)
    embedding[...] = moved - moved.mean(axis=0)

"""Aligned projections of a training timeline: every step of an embedding in the same axes.

PCA fits **one basis on all steps together** (as one PCA of the stacked steps, without
stacking them) and projects each step into it. Of the two choices the issue allows (all
steps, or the last), this one is the 2-D/3-D view that keeps the most variance of the
whole timeline, favours no step, and keeps one mean: a step whose cloud drifted or grew
is drawn displaced or larger, which is what a timeline is for. A basis of the last step
only would flatten the early steps onto the directions training ended up using, and
hide the motion along the others. It costs one scatter-matrix pass per step
(:func:`.pca.fit`), a few seconds for 10 × 100,000 × 64 (``make bench``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from embedding_projector.compute import pca
from embedding_projector.compute.progress import Callback, within
from embedding_projector.errors import InvalidParameterError


@dataclass(frozen=True)
class AlignedPCA:
    """Output of :func:`aligned_pca`.

    Attributes
    ----------
    coordinates
        ``(S, N, n_components)`` float32: step ``s``'s points on the common components.
    explained_variance_ratio
        ``(n_components,)`` share of the variance of all steps together along each.
    components
        ``(n_components, D)`` float64 unit vectors, strongest first, signs fixed once for
        every step (the loading of largest magnitude positive).
    mean
        ``(D,)`` float64 mean of every row of every step, subtracted from all steps.
    """

    coordinates: np.ndarray
    explained_variance_ratio: np.ndarray
    components: np.ndarray
    mean: np.ndarray


def aligned_pca(
    steps: Sequence[np.ndarray],
    *,
    n_components: int = pca.MAX_COMPONENTS,
    callback: Callback | None = None,
) -> AlignedPCA:
    """Project every step of a timeline on one PCA basis fitted on all steps together.

    Row ``i`` of every step is the same point, so its path through the steps can be
    drawn, and the axes mean the same at every step.

    Parameters
    ----------
    steps
        ``S`` arrays of the same shape ``(N, D)``, oldest first; each may be
        memory-mapped (read in blocks, twice).
    n_components
        How many components, 1..10; capped at ``min(S * N, D)``.
    callback
        Receives :class:`~.progress.Progress` per block (fitting is the first half,
        projecting the steps the second); returning True stops with
        :class:`~.progress.Stopped`.

    Returns
    -------
    AlignedPCA
        Equal, up to float32 rounding, to scikit-learn's ``PCA`` fitted on
        ``np.vstack(steps)``, each step then transformed, signs as in :func:`.pca.run`.

    Raises
    ------
    InvalidParameterError
        No steps, steps of different shapes, or values that are not finite numbers.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> first = rng.standard_normal((100, 8)).astype(np.float32)
    >>> aligned_pca([first, 2 * first, 3 * first], n_components=2).coordinates.shape
    (3, 100, 2)
    """
    arrays = [np.asarray(X) for X in steps]  # pca.fit checks the values, once
    if not arrays:
        raise InvalidParameterError("`steps` must hold at least one step")
    for i, X in enumerate(arrays):
        if X.shape != arrays[0].shape:
            raise InvalidParameterError(
                f"step {i} is {_size(X)} but step 0 is {_size(arrays[0])}: aligned steps "
                "must have the same points (rows) and dimensions"
            )
    basis = pca.fit(arrays, n_components=n_components, callback=within(callback, 0.0, 0.5))
    count = len(arrays)
    coordinates = np.empty((count, len(arrays[0]), len(basis.components)), dtype=np.float32)
    for i, X in enumerate(arrays):
        part = within(callback, 0.5 + 0.5 * i / count, 0.5 + 0.5 * (i + 1) / count)
        coordinates[i] = pca.project(X, basis, callback=part)
    return AlignedPCA(coordinates, basis.explained_variance_ratio, basis.components, basis.mean)


def _size(X: np.ndarray) -> str:
    return " × ".join(f"{size:,}" for size in X.shape)

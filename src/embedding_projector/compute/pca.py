"""Centred PCA on every point: the first components and their share of the variance.

The covariance matrix is accumulated in float64, block by block, then
diagonalised (``scipy.linalg.eigh``, top eigenpairs only). At 1M x 128 this is a
few seconds on two cores and needs memory for one block, whereas a randomized
SVD of the data matrix took ten times longer (docs/decisions.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from embedding_projector.compute.preprocess import BLOCK_ROWS, centroid
from embedding_projector.compute.progress import Callback, Progress, report
from embedding_projector.compute.validation import check_int, check_vectors

#: TensorBoard offers the first ten components on its X/Y/Z pickers.
MAX_COMPONENTS = 10


@dataclass(frozen=True)
class PCAResult:
    """Output of :func:`run`.

    Attributes
    ----------
    coordinates
        ``(N, n_components)`` float32: the centred points on each component.
    explained_variance_ratio
        ``(n_components,)`` share of the total variance along each component.
    components
        ``(n_components, D)`` float64 unit vectors, strongest first.
    mean
        ``(D,)`` float64 centroid that was subtracted.
    """

    coordinates: np.ndarray
    explained_variance_ratio: np.ndarray
    components: np.ndarray
    mean: np.ndarray


def run(
    X: np.ndarray,
    *,
    n_components: int = MAX_COMPONENTS,
    callback: Callback | None = None,
) -> PCAResult:
    """Project every point on the leading principal components.

    Unlike TensorBoard (which centres only when "Spherize" is on), the data is
    always centred, as PCA requires.

    Parameters
    ----------
    X
        ``(N, D)`` vectors, N >= 2; may be memory-mapped (read in blocks).
    n_components
        How many components to compute, 1..10; capped at ``min(N, D)``.
    callback
        Receives :class:`~.progress.Progress` per block; returning True stops
        with :class:`~.progress.Stopped`.

    Returns
    -------
    PCAResult
        Signs are deterministic: in each component the loading of largest
        magnitude is positive (scikit-learn's ``svd_flip`` convention), so the
        coordinates equal scikit-learn's ``PCA(svd_solver="full")`` ones.
    """
    import scipy.linalg

    X = check_vectors(X, min_samples=2)
    n_components = check_int("n_components", n_components, low=1, high=MAX_COMPONENTS)
    n_samples, n_features = X.shape
    n_components = min(n_components, n_samples, n_features)
    n_blocks = -(-n_samples // BLOCK_ROWS)

    mean = centroid(X)
    scatter = np.zeros((n_features, n_features), dtype=np.float64)
    for i, start in enumerate(range(0, n_samples, BLOCK_ROWS)):
        # Centre before multiplying: the product of uncentred data would lose
        # the small variances to cancellation.
        block = X[start : start + BLOCK_ROWS].astype(np.float64) - mean
        scatter += block.T @ block
        report(callback, Progress(0.7 * (i + 1) / n_blocks, "accumulating covariance"))

    total_variance = float(np.trace(scatter))
    first = n_features - n_components
    eigenvalues, eigenvectors = scipy.linalg.eigh(scatter, subset_by_index=(first, n_features - 1))
    order = np.argsort(eigenvalues)[::-1]
    components = _flip_signs(eigenvectors[:, order].T)
    ratio = (
        np.clip(eigenvalues[order], 0.0, None) / total_variance
        if total_variance > 0
        else (np.zeros(n_components))
    )
    report(callback, Progress(0.75, "projecting"))

    coordinates = np.empty((n_samples, n_components), dtype=np.float32)
    for i, start in enumerate(range(0, n_samples, BLOCK_ROWS)):
        block = X[start : start + BLOCK_ROWS].astype(np.float64) - mean
        coordinates[start : start + BLOCK_ROWS] = block @ components.T
        report(callback, Progress(0.75 + 0.25 * (i + 1) / n_blocks, "projecting"))
    return PCAResult(coordinates, ratio, components, mean)


def _flip_signs(components: np.ndarray) -> np.ndarray:
    """Make the largest-magnitude loading of each component positive."""
    strongest = np.argmax(np.abs(components), axis=1)
    signs = np.sign(components[np.arange(components.shape[0]), strongest])
    return components * np.where(signs == 0, 1.0, signs)[:, None]

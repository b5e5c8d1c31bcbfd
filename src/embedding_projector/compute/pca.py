"""Centred PCA on every point: the first components and their share of the variance.

The scatter matrix is accumulated block by block: each block is centred in
float64 (so small variances survive a large common offset), cast to float32 and
multiplied in float32 (``X.T @ X``, half the work of float64), and the blocks'
products are summed in float64. Blocks are small (they stay in the CPU cache)
and go to one thread per core. The processes that run it (the job workers) keep
BLAS to one thread (:func:`.threads.limit_blas_threads`): OpenBLAS's own threads
wait for each other by spinning, which made the same products ten times slower
when other processes shared the cores. The matrix is then diagonalised
in float64: whole by ``numpy.linalg.eigh`` up to :data:`FULL_EIGH_FEATURES`
dimensions, top eigenpairs only by ``scipy.linalg.eigh`` above. docs/decisions.md
has the measurements: ~2 s at 1M x 128, variance ratios within 1e-7 of float64.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from embedding_projector.compute.params import param
from embedding_projector.compute.preprocess import centroid
from embedding_projector.compute.progress import Callback, Progress, report, within
from embedding_projector.compute.threads import map_in_threads
from embedding_projector.compute.validation import check_int, check_vectors
from embedding_projector.errors import InvalidParameterError

#: TensorBoard offers the first ten components on its X/Y/Z pickers.
MAX_COMPONENTS = 10
#: Rows per product: 8,192 x 128 float32 is 4 MB, which stays in the L2/L3 cache.
BLOCK_ROWS = 8_192
#: Up to this many dimensions the whole eigendecomposition (numpy) takes as long as
#: scipy's top eigenpairs (0.05 s against 0.02 s at 512) without importing scipy.linalg,
#: a quarter of a second of a worker's first PCA (the first paint waits for it).
FULL_EIGH_FEATURES = 512


@dataclass(frozen=True)
class PcaParams:
    """What a PCA job shows; all :data:`MAX_COMPONENTS` components are computed and cached."""

    components: tuple[int, ...] | None = param(
        None,
        "Which 2 or 3 of the first 10 components to show (0-based); none: the first ones.",
        low=0, high=MAX_COMPONENTS - 1, integer=True,
    )  # fmt: skip


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


@dataclass(frozen=True)
class Basis:
    """Principal axes fitted by :func:`fit`, onto which :func:`project` puts points.

    Attributes
    ----------
    components
        ``(n_components, D)`` float64 unit vectors, strongest first; in each, the loading
        of largest magnitude is positive (scikit-learn's ``svd_flip`` convention).
    mean
        ``(D,)`` float64 centroid of the rows fitted, subtracted before projecting.
    explained_variance_ratio
        ``(n_components,)`` share of the fitted rows' total variance along each component.
    """

    components: np.ndarray
    mean: np.ndarray
    explained_variance_ratio: np.ndarray


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
    X = check_vectors(X, min_samples=2)
    n_components = check_int("n_components", n_components, low=1, high=MAX_COMPONENTS)
    basis = _fit([X], n_components, within(callback, 0.0, 0.75))
    coordinates = _project(X, basis, within(callback, 0.75, 1.0))
    return PCAResult(coordinates, basis.explained_variance_ratio, basis.components, basis.mean)


def fit(
    arrays: Sequence[np.ndarray],
    *,
    n_components: int = MAX_COMPONENTS,
    callback: Callback | None = None,
) -> Basis:
    """The leading principal axes of the rows of all ``arrays`` taken together.

    Equal to fitting one PCA on ``np.vstack(arrays)``, without stacking them: the
    scatter matrix is accumulated block by block over every array.

    Parameters
    ----------
    arrays
        ``(N_i, D)`` vectors with the same ``D``, at least 2 rows in all; each may be
        memory-mapped (read in blocks).
    n_components
        How many components to compute, 1..10; capped at ``min(sum(N_i), D)``.
    callback
        Receives :class:`~.progress.Progress` per block; returning True stops with
        :class:`~.progress.Stopped`.

    Returns
    -------
    Basis
        The components, the mean of all rows and the share of variance of each.

    Raises
    ------
    InvalidParameterError
        Not 2-D arrays of finite numbers, of different widths, or fewer than 2 rows.
    """
    checked = [check_vectors(X, name=f"arrays[{i}]") for i, X in enumerate(arrays)]
    if not checked:
        raise InvalidParameterError("`arrays` must hold at least one array")
    widths = sorted({X.shape[1] for X in checked})
    if len(widths) > 1:
        raise InvalidParameterError(f"`arrays` must all have the same width D, got {widths}")
    if sum(X.shape[0] for X in checked) < 2:
        raise InvalidParameterError("`arrays` must have at least 2 rows in all")
    n_components = check_int("n_components", n_components, low=1, high=MAX_COMPONENTS)
    return _fit(checked, n_components, callback)


def project(X: np.ndarray, basis: Basis, *, callback: Callback | None = None) -> np.ndarray:
    """Put points on the axes of ``basis``: ``(X - mean) @ components.T``.

    Parameters
    ----------
    X
        ``(N, D)`` vectors of the width the basis was fitted on; may be memory-mapped.
    basis
        From :func:`fit`.
    callback
        Receives :class:`~.progress.Progress` per block; returning True stops with
        :class:`~.progress.Stopped`.

    Returns
    -------
    numpy.ndarray
        ``(N, n_components)`` float32 coordinates.
    """
    X = check_vectors(X)
    if X.shape[1] != basis.mean.shape[0]:
        raise InvalidParameterError(
            f"`X` has {X.shape[1]} dimensions, the basis {basis.mean.shape[0]}"
        )
    return _project(X, basis, callback)


def _fit(arrays: Sequence[np.ndarray], n_components: int, callback: Callback | None) -> Basis:
    n_samples, n_features = sum(X.shape[0] for X in arrays), arrays[0].shape[1]
    mean = sum(centroid(X) * X.shape[0] for X in arrays) / n_samples
    pieces = [(X, start) for X in arrays for start in range(0, X.shape[0], BLOCK_ROWS)]
    scatter = np.zeros((n_features, n_features), dtype=np.float64)
    products = map_in_threads(lambda piece: _scatter(piece[0], mean, piece[1]), pieces)
    for i, product in enumerate(products):
        scatter += product
        report(callback, Progress((i + 1) / len(pieces), "accumulating covariance"))
    return basis_from_scatter(scatter, mean, n_samples, n_components)


def moments(X: np.ndarray, shift: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One block's share of a fit: ``sum(x - shift)`` and ``sum((x - shift)(x - shift)^T)``.

    Summed over blocks (in any order, in any process) they give the mean and the
    scatter matrix of all rows: ``mean = shift + total / n`` and
    ``scatter = total_scatter - n (mean - shift)(mean - shift)^T``
    (:func:`basis_from_moments`). With ``shift`` close to the mean (the mean of a
    few thousand rows) the float32 products lose nothing that centring on the exact
    mean would keep.

    Parameters
    ----------
    X
        ``(M, D)`` rows; may be memory-mapped.
    shift
        ``(D,)`` float64, the same for every block.

    Returns
    -------
    tuple
        ``(D,)`` and ``(D, D)`` float64.
    """
    X = check_vectors(X)
    starts = range(0, X.shape[0], BLOCK_ROWS)
    total = np.zeros(X.shape[1])
    scatter = np.zeros((X.shape[1], X.shape[1]))
    # BLAS runs one thread per call here: a Dask nanny starts its workers with
    # OPENBLAS_NUM_THREADS=1, and our own processes limit it (:mod:`.threads`).
    for start, product in zip(
        starts, map_in_threads(lambda start: _scatter(X, shift, start), starts), strict=True
    ):
        scatter += product
        total += _centred(X, shift, start).sum(axis=0, dtype=np.float64)
    return total, scatter


def basis_from_moments(
    total: np.ndarray, scatter: np.ndarray, shift: np.ndarray, n_samples: int, n_components: int
) -> Basis:
    """The principal axes of ``n_samples`` rows from their summed :func:`moments`."""
    offset = total / n_samples
    centred = scatter - n_samples * np.outer(offset, offset)
    return basis_from_scatter(centred, shift + offset, n_samples, n_components)


def basis_from_scatter(
    scatter: np.ndarray, mean: np.ndarray, n_samples: int, n_components: int
) -> Basis:
    """The top ``n_components`` eigenpairs of a scatter matrix.

    Parameters
    ----------
    scatter
        ``(D, D)`` float64: ``sum((x - mean)(x - mean)^T)`` over the rows.
    mean
        ``(D,)`` float64 mean of the rows.
    n_samples
        How many rows; with ``D`` it caps the number of components.
    n_components
        How many components, strongest first.
    """
    n_features = scatter.shape[0]
    n_components = min(n_components, n_samples, n_features)
    total_variance = float(np.trace(scatter))
    first = n_features - n_components
    if n_features <= FULL_EIGH_FEATURES:
        eigenvalues, eigenvectors = np.linalg.eigh(scatter)
        eigenvalues, eigenvectors = eigenvalues[first:], eigenvectors[:, first:]
    else:
        import scipy.linalg

        top = (first, n_features - 1)
        eigenvalues, eigenvectors = scipy.linalg.eigh(scatter, subset_by_index=top)
    order = np.argsort(eigenvalues)[::-1]
    components = _flip_signs(eigenvectors[:, order].T)
    ratio = (
        np.clip(eigenvalues[order], 0.0, None) / total_variance
        if total_variance > 0
        else (np.zeros(n_components))
    )
    return Basis(components, mean, ratio)


def _project(X: np.ndarray, basis: Basis, callback: Callback | None) -> np.ndarray:
    report(callback, Progress(0.0, "projecting"))
    blocks = range(0, X.shape[0], BLOCK_ROWS)
    coordinates = np.empty((X.shape[0], basis.components.shape[0]), dtype=np.float32)
    loadings = basis.components.T.astype(np.float32)

    def project(start: int) -> None:
        coordinates[start : start + BLOCK_ROWS] = _centred(X, basis.mean, start) @ loadings

    for i, _ in enumerate(map_in_threads(project, blocks)):
        report(callback, Progress((i + 1) / len(blocks), "projecting"))
    return coordinates


def _centred(X: np.ndarray, mean: np.ndarray, start: int) -> np.ndarray:
    """Rows ``start:start + BLOCK_ROWS`` minus the mean: subtracted in float64, then float32."""
    centred: np.ndarray = (X[start : start + BLOCK_ROWS].astype(np.float64) - mean).astype(
        np.float32
    )
    return centred


def _scatter(X: np.ndarray, mean: np.ndarray, start: int) -> np.ndarray:
    """One block's ``Z.T @ Z`` (float32 BLAS), returned in float64 for the sum."""
    block = _centred(X, mean, start)
    product: np.ndarray = (block.T @ block).astype(np.float64)
    return product


def _flip_signs(components: np.ndarray) -> np.ndarray:
    """Make the largest-magnitude loading of each component positive."""
    strongest = np.argmax(np.abs(components), axis=1)
    signs = np.sign(components[np.arange(components.shape[0]), strongest])
    return components * np.where(signs == 0, 1.0, signs)[:, None]

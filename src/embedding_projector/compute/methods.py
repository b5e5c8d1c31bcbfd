"""The projection methods: one record each, with its parameters and how a job runs it.

:data:`METHODS` is what :mod:`.spec` validates a request against, what a worker runs, what
the server describes to the page (``GET /api/config``) and what the docs list.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from embedding_projector.compute import pca, preprocess, sample, tsne, umap
from embedding_projector.compute.params import params_of, resolve
from embedding_projector.compute.progress import Callback
from embedding_projector.compute.validation import check_int
from embedding_projector.errors import InvalidParameterError

if TYPE_CHECKING:
    from embedding_projector.compute.spec import JobSpec

MethodName = Literal["pca", "tsne", "umap"]
#: What the page can show: the methods, and TensorBoard's custom projection (not a job).
ProjectionName = Literal[MethodName, "custom"]
#: The seed of a request that does not name one: the same request gives the same layout
#: (and is a cache hit); the page's "Re-run" asks for the next seed.
DEFAULT_SEED = 0

#: What a job computes: the array to cache, and metadata to cache with it.
Output = tuple[np.ndarray, dict[str, Any]]
Runner = Callable[[np.ndarray, "JobSpec", Callback | None], Output]


@dataclass(frozen=True)
class Method:
    """A projection method.

    Attributes
    ----------
    name, title
        ``tsne`` in requests, ``t-SNE`` for people.
    params
        Its parameters dataclass (fields declared with :func:`.params.param`).
    min_samples
        Fewest points it runs on.
    libraries
        Distributions whose version changes its output (part of the cache key).
    run
        Runs a validated job on the vectors: the array to cache and its metadata.
    """

    name: MethodName
    title: str
    params: type
    min_samples: int
    libraries: tuple[str, ...]
    run: Runner

    def resolve(self, given: Mapping[str, Any], shape: tuple[int, int], dims: int) -> Any:
        """The parameters of a request for vectors of ``shape``, validated, defaults filled in."""
        if shape[0] < self.min_samples:
            raise InvalidParameterError(
                f"{self.title} needs at least {self.min_samples} points, got {shape[0]}"
            )
        if self.params is pca.PcaParams:
            return _pca_params(given, min(shape), dims)
        return resolve(self.params, given, shape[0])


def _pca_params(given: Mapping[str, Any], rank: int, dims: int) -> pca.PcaParams:
    """``rank`` = min(N, D) bounds how many components exist."""
    unknown = set(given) - set(params_of(pca.PcaParams))
    if unknown:
        raise InvalidParameterError(f"unknown parameter `{sorted(unknown)[0]}`: use `components`")
    available = min(rank, pca.MAX_COMPONENTS)
    if available < dims:
        raise InvalidParameterError(
            f"a {dims}-D PCA needs at least {dims} points and features, got {rank}"
        )
    components = given.get("components")
    if components is None:
        return pca.PcaParams(tuple(range(dims)))
    if not isinstance(components, list | tuple) or len(components) != dims:
        raise InvalidParameterError(
            f"`components` must list {dims} component indices, got {components!r}"
        )
    return pca.PcaParams(
        tuple(check_int("components", c, low=0, high=available - 1) for c in components)
    )


def _run_pca(X: np.ndarray, spec: JobSpec, callback: Callback | None) -> Output:
    found = pca.run(X, callback=callback)  # all 10 components: any 2 or 3 are shown from the cache
    ratio = [float(r) for r in found.explained_variance_ratio]
    return found.coordinates, {"explained_variance_ratio": ratio}


def _run_tsne(X: np.ndarray, spec: JobSpec, callback: Callback | None) -> Output:
    layout = tsne.run(
        X,
        n_components=spec.dims,
        random_state=spec.seed,
        labels=spec.labels,
        n_jobs=tsne.threads_for(X.shape[0]),
        init=spec.init,
        callback=callback,
        **spec.params,
    )
    return layout, {}


def _run_umap(X: np.ndarray, spec: JobSpec, callback: Callback | None) -> Output:
    layout = umap.run(
        X,
        n_components=spec.dims,
        random_state=spec.seed,
        init=spec.init,
        callback=callback,
        **spec.params,
    )
    return layout, {}


def _or_sampled(full: Runner) -> Runner:
    """``full``, or, for a spec with a ``sample``: fit on that many rows, place the others."""

    def run(X: np.ndarray, spec: JobSpec, callback: Callback | None) -> Output:
        size = spec.params.get("sample")
        if size is None:
            return full(X, spec, callback)
        params = {k: v for k, v in spec.params.items() if k != "sample"}
        layout = sample.run(
            spec.method, X, size=size, dims=spec.dims, seed=spec.seed, params=params,
            labels=spec.labels, n_jobs=tsne.threads_for(size), init=spec.init,
            callback=callback,
        )  # fmt: skip
        return layout, {}

    return run


def run_job(spec: JobSpec, X: np.ndarray, callback: Callback | None) -> Output:
    """Run a validated job on ``X`` (spherized first if asked): the array to cache, its meta."""
    if spec.spherize:
        X = preprocess.spherize(X)
    return METHODS[spec.method].run(X, spec, callback)


METHODS: dict[str, Method] = {
    method.name: method
    for method in (
        Method("pca", "PCA", pca.PcaParams, 1, ("numpy", "scipy"), _run_pca),
        Method(
            "tsne",
            "t-SNE",
            tsne.TsneParams,
            tsne.MIN_SAMPLES,
            ("openTSNE",),
            _or_sampled(_run_tsne),
        ),
        Method("umap", "UMAP", umap.UmapParams, 2, ("umap-learn",), _or_sampled(_run_umap)),
    )
}

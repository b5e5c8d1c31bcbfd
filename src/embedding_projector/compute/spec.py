"""What a projection job asks for, validated before it is queued, and its cache key.

The server passes the JSON body of ``POST /projections`` through unchanged::

    {"method": "pca" | "tsne" | "umap", "dims": 2 | 3, "spherize": false,
     "params": {...}, "seed": null}

Parameters per method (scikit-learn names; anything else is an error):

- ``pca``: ``components`` — which 2 or 3 of the first 10 components to show
  (default the first ``dims``). All 10 are computed and cached once.
- ``tsne``: ``perplexity``, ``learning_rate``, ``early_exaggeration``,
  ``n_iter``, ``metric``, ``labels`` (one per point) and ``supervise`` (0..1).
- ``umap``: ``n_neighbors``, ``min_dist``, ``metric``, ``n_epochs``.
- both: ``sample``, the rows fitted on before every other row is placed in that
  layout (default: 100,000 above 1,000,000 rows, else all; see :mod:`.sample`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import numpy as np

from embedding_projector.compute import pca, sample, tsne, umap
from embedding_projector.compute.validation import check_choice, check_int, check_seed
from embedding_projector.errors import InvalidParameterError

METHODS = ("pca", "tsne", "umap")
_PARAMS = {
    "pca": ("components",),
    "tsne": (
        "perplexity",
        "learning_rate",
        "early_exaggeration",
        "n_iter",
        "metric",
        "labels",
        "supervise",
        "sample",
    ),
    "umap": ("n_neighbors", "min_dist", "metric", "n_epochs", "sample"),
}
#: Libraries whose version changes a method's output (and so its cache key).
_LIBRARIES = {"pca": ("numpy", "scipy"), "tsne": ("openTSNE",), "umap": ("umap-learn",)}
#: Bumped when this package changes how a result is computed.
_FORMAT = 1


@dataclass(frozen=True)
class JobSpec:
    """A validated job request.

    Attributes
    ----------
    method, dims, spherize, seed
        As requested.
    params
        Keyword arguments for the method's ``run`` (without ``n_components``,
        ``random_state`` and ``labels``), and ``sample``: the rows to fit on, or None
        for all.
    components
        PCA only: the components shown, as indices into the 10 computed.
    labels
        t-SNE only: the supervision labels, or None.
    """

    method: str
    dims: int
    spherize: bool
    seed: int | None
    params: dict[str, Any] = field(default_factory=dict)
    components: tuple[int, ...] = ()
    labels: list[Any] | None = None

    def cache_parts(self, vectors_key: str) -> dict[str, Any]:
        """Everything that determines the result, for :func:`.cache.result_key`."""
        parts: dict[str, Any] = {
            "format": _FORMAT,
            "vectors": vectors_key,
            "method": self.method,
            "spherize": self.spherize,
            "params": self.params,
            "versions": {name: metadata.version(name) for name in _LIBRARIES[self.method]},
        }
        if self.method != "pca":  # PCA caches all 10 components, whatever is shown.
            parts.update(dims=self.dims, seed=self.seed)
        if self.labels is not None:
            codes = tsne.label_codes(self.labels, len(self.labels))
            parts["labels"] = _hash_codes(codes)
        return parts


def parse_spec(spec: dict[str, Any], n_samples: int, n_features: int) -> JobSpec:
    """Validate a job request for vectors of shape ``(n_samples, n_features)``.

    Raises
    ------
    InvalidParameterError
        Naming the offending field; nothing is queued.
    """
    if not isinstance(spec, dict):
        raise InvalidParameterError("a job spec must be an object")
    unknown = set(spec) - {"method", "dims", "spherize", "params", "seed"}
    if unknown:
        raise InvalidParameterError(f"unknown field `{sorted(unknown)[0]}` in the job spec")
    method = check_choice("method", spec.get("method"), METHODS)
    dims = check_choice("dims", spec.get("dims", 2), (2, 3))
    spherize = spec.get("spherize", False)
    if not isinstance(spherize, bool):
        raise InvalidParameterError(f"`spherize` must be true or false, got {spherize!r}")
    seed = check_seed(spec.get("seed"))
    params = dict(spec.get("params") or {})
    for name in params:
        if name not in _PARAMS[method]:
            allowed = ", ".join(f"`{p}`" for p in _PARAMS[method])
            raise InvalidParameterError(f"unknown parameter `{name}` for {method}: use {allowed}")
    base = JobSpec(method, dims, spherize, seed)
    if method == "pca":
        return _pca_spec(base, params.get("components"), min(n_samples, n_features))
    size = sample.sample_size(n_samples, params.pop("sample", None))
    fitted = n_samples if size is None else size  # what the method's own checks apply to
    if method == "tsne":
        labels = params.pop("labels", None)
        checked = tsne.check_params(fitted, n_components=dims, random_state=seed, **params)
        if labels is not None:
            labels = list(labels)
            tsne.label_codes(labels, n_samples)  # validates the length
        return _with(base, _strip(checked, size), labels=labels)
    checked = umap.check_params(fitted, n_components=dims, random_state=seed, **params)
    return _with(base, _strip(checked, size))


def _pca_spec(base: JobSpec, components: Any, rank: int) -> JobSpec:
    """``rank`` = min(N, D) bounds how many components exist."""
    available = min(rank, pca.MAX_COMPONENTS)
    if available < base.dims:
        raise InvalidParameterError(
            f"a {base.dims}-D PCA needs at least {base.dims} points and features, got {rank}"
        )
    if components is None:
        components = list(range(base.dims))
    if not isinstance(components, list | tuple) or len(components) != base.dims:
        raise InvalidParameterError(
            f"`components` must list {base.dims} component indices, got {components!r}"
        )
    chosen = tuple(check_int("components", c, low=0, high=available - 1) for c in components)
    return JobSpec(base.method, base.dims, base.spherize, base.seed, {}, chosen)


def _with(base: JobSpec, params: dict[str, Any], *, labels: list[Any] | None = None) -> JobSpec:
    return JobSpec(base.method, base.dims, base.spherize, base.seed, params, (), labels)


def _strip(params: dict[str, Any], size: int | None) -> dict[str, Any]:
    """Drop what the spec carries in its own fields; add the sample size if there is one.

    (A full fit has no ``sample``, so that its cache key is what it was before samples.)
    """
    kept = {k: v for k, v in params.items() if k not in ("n_components", "random_state")}
    return kept if size is None else {**kept, "sample": size}


def _hash_codes(codes: np.ndarray) -> str:
    from embedding_projector.compute.hashing import content_hash

    return content_hash(codes.astype(np.float32).reshape(-1, 1))

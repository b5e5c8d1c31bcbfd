"""Readings of a finished layout, run as jobs: its faithfulness, and clusters with names.

They run in the job workers like projections (:mod:`.jobs`): queued, followed,
cancellable, cached. An :class:`AnalysisSpec` carries the layout it reads (the
vectors are the job's, shared with the workers as for a projection), and its
cache key is made of the layout's content, so the same reading of the same
layout is a cache hit whichever job or request produced the layout.

- ``faithfulness``: per point, the share of its k nearest original neighbours
  that the layout keeps (:mod:`.faithfulness`). The result is ``(N,)`` float32;
  the meta holds ``k``, ``mean`` and ``below`` (the share of points below 30 %).
- ``clusters``: HDBSCAN on the layout, or on the vectors' first principal
  components when no layout is given (:mod:`.clusters`), named from a metadata
  column (:mod:`.cluster_names`). The result is ``(N,)`` int32 labels, -1 for
  noise; the meta holds the names, sizes and the minimum cluster size used.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any, Literal

import numpy as np

from embedding_projector.compute.knn import METRICS
from embedding_projector.compute.neighbour_sets import DEFAULT_K
from embedding_projector.compute.progress import Callback
from embedding_projector.compute.validation import check_choice, check_int
from embedding_projector.errors import InvalidParameterError

AnalysisName = Literal["faithfulness", "clusters"]
#: Bumped when this package changes how an analysis is computed.
_FORMAT = 1
_LIBRARIES = {"faithfulness": ("numpy", "scipy"), "clusters": ("scikit-learn", "scipy")}


@dataclass(frozen=True)
class AnalysisSpec:
    """A validated analysis request (build it with :func:`faithfulness_spec` or
    :func:`clusters_spec`).

    Attributes
    ----------
    method
        ``"faithfulness"`` or ``"clusters"``.
    dims
        Columns of the layout read (10 for clusters of the vectors' principal components).
    layout
        ``(N, dims)`` float32 coordinates; None: clusters of the vectors' PCA.
    params
        ``k``, ``metric``, ``spherize`` (faithfulness); ``min_cluster_size`` (clusters).
    text, categories
        Clusters: the metadata column their names are drawn from (one value per point).
    """

    method: AnalysisName
    dims: int
    layout: np.ndarray | None
    params: dict[str, Any]
    text: list[Any] | None = None
    categories: list[Any] | None = None
    #: What :class:`.jobstate.Job` reads of every spec (no projection's own).
    components: tuple[int, ...] = field(default=(), init=False)
    seed: None = field(default=None, init=False)

    @property
    def spherize(self) -> bool:
        """Whether the original space is spherized (faithfulness)."""
        return bool(self.params.get("spherize", False))

    def cache_parts(self, vectors_key: str) -> dict[str, Any]:
        """Everything that determines the result, for :func:`.cache.result_key`."""
        from embedding_projector.compute.hashing import content_hash

        layout = None if self.layout is None else content_hash(self.layout)
        parts: dict[str, Any] = {
            "format": _FORMAT,
            "analysis": self.method,
            "vectors": vectors_key,
            "layout": layout,
            "params": self.params,
            "versions": {name: metadata.version(name) for name in _LIBRARIES[self.method]},
        }
        if self.text is not None or self.categories is not None:
            parts["names"] = _hash_values(self.text if self.text is not None else self.categories)
            parts["names_from"] = "text" if self.text is not None else "categories"
        return parts

    def released(self) -> AnalysisSpec:
        """The spec without its per-point data, for a job that has ended."""
        return dataclasses.replace(self, layout=None, text=None, categories=None)


def faithfulness_spec(
    layout: np.ndarray, n_samples: int, *, k: int = DEFAULT_K, metric: str, spherize: bool
) -> AnalysisSpec:
    """The faithfulness of ``layout`` for vectors of ``n_samples`` rows.

    Raises
    ------
    InvalidParameterError
        For a bad ``k`` or metric, or fewer than k + 1 points: the message says so.
    """
    points = _layout(layout, n_samples)
    k = check_int("k", k, low=1)
    if n_samples < k + 1:
        raise InvalidParameterError(
            f"faithfulness with k = {k} needs at least {k + 1} points (each point and its "
            f"{k} nearest neighbours), this projection has {n_samples}; choose a smaller k"
        )
    metric = check_choice("metric", metric, METRICS)
    params = {"k": k, "metric": metric, "spherize": bool(spherize)}
    return AnalysisSpec("faithfulness", points.shape[1], points, params)


def clusters_spec(
    layout: np.ndarray | None,
    n_samples: int,
    *,
    min_cluster_size: int | None,
    text: list[Any] | None = None,
    categories: list[Any] | None = None,
) -> AnalysisSpec:
    """Clusters of ``layout`` (None: of the vectors' principal components), named.

    Raises
    ------
    InvalidParameterError
        For a bad minimum cluster size, or a naming column of another length.
    """
    from embedding_projector.compute import pca

    points = None if layout is None else _layout(layout, n_samples)
    if min_cluster_size is not None:
        min_cluster_size = check_int("min_cluster_size", min_cluster_size, low=2, high=n_samples)
    for column in (text, categories):
        if column is not None and len(column) != n_samples:
            raise InvalidParameterError(
                f"the naming column has {len(column)} values for {n_samples} points"
            )
    dims = pca.MAX_COMPONENTS if points is None else points.shape[1]
    params = {"min_cluster_size": min_cluster_size}
    return AnalysisSpec("clusters", dims, points, params, text, categories)


def run(X: np.ndarray, spec: AnalysisSpec, callback: Callback) -> tuple[np.ndarray, dict[str, Any]]:
    """Compute an analysis on the vectors ``X`` (never spherized here: faithfulness
    spherizes the searched space itself); the array to cache and its metadata."""
    if spec.method == "faithfulness":
        return _faithfulness(X, spec, callback)
    return _clusters(X, spec, callback)


def _faithfulness(
    X: np.ndarray, spec: AnalysisSpec, callback: Callback
) -> tuple[np.ndarray, dict[str, Any]]:
    from embedding_projector.compute.faithfulness import faithfulness

    assert spec.layout is not None
    found = faithfulness(X, spec.layout, callback=callback, **spec.params)
    return found.per_point, {"k": found.k, "mean": found.mean, "below": found.below}


def _clusters(
    X: np.ndarray, spec: AnalysisSpec, callback: Callback
) -> tuple[np.ndarray, dict[str, Any]]:
    from embedding_projector.compute import pca
    from embedding_projector.compute.cluster_names import name_clusters
    from embedding_projector.compute.clusters import find_clusters
    from embedding_projector.compute.progress import within

    points = spec.layout
    start = 0.0
    if points is None:
        points = pca.run(X, callback=within(callback, 0.0, 0.3)).coordinates
        start = 0.3
    found = find_clusters(
        points,
        min_cluster_size=spec.params["min_cluster_size"],
        callback=within(callback, start, 0.9),
    )
    names = name_clusters(found.labels, text=spec.text, categories=spec.categories)
    meta = {
        "names": names,
        "sizes": [int(s) for s in found.sizes],
        "noise": float(np.mean(found.labels < 0)),
        "min_cluster_size": found.min_cluster_size,
        "sample_size": found.sample_size,
    }
    return found.labels.astype(np.int32), meta


def _layout(layout: np.ndarray, n_samples: int) -> np.ndarray:
    """A 2-D or 3-D float32 layout with one row per vector."""
    points = np.ascontiguousarray(layout, dtype=np.float32)
    if points.ndim != 2 or points.shape[1] not in (2, 3) or points.shape[0] != n_samples:
        raise InvalidParameterError(
            f"the layout must be {n_samples} x 2 or {n_samples} x 3, got "
            f"{' x '.join(map(str, points.shape))}"
        )
    return points


def _hash_values(values: list[Any] | None) -> str:
    """A content hash of a column's values (their text)."""
    import hashlib

    digest = hashlib.blake2b(digest_size=16)
    for value in values or ():
        digest.update(repr(value).encode("utf-8", "surrogatepass") + b"\x00")
    return digest.hexdigest()

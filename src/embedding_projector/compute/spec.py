"""What a projection job asks for, validated before it is queued, and its cache key.

The server passes the JSON body of ``POST /projections`` through unchanged::

    {"method": "pca" | "tsne" | "umap", "dims": 2 | 3, "spherize": false,
     "params": {...}, "seed": 0}

The parameters of each method, their defaults and ranges are its record in
:data:`.methods.METHODS`; anything else is an error. t-SNE also takes ``labels``
(one per point), which the server fills in from a metadata column. t-SNE and UMAP
also take ``sample``: the rows fitted on before every other row is placed in that
layout (default: 100,000 above 1,000,000 rows, else all; see :mod:`.sample`).

An overlap job (:mod:`.overlap`: two embeddings of the same items compared point by
point) is a :class:`JobSpec` too, of method ``"overlap"``, made by :func:`overlap_spec`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from importlib import metadata
from typing import Any

import numpy as np

from embedding_projector.compute import sample, tsne
from embedding_projector.compute.analyses import AnalysisSpec
from embedding_projector.compute.methods import DEFAULT_SEED, METHODS
from embedding_projector.compute.neighbour_sets import neighbour_params
from embedding_projector.compute.validation import check_choice, check_seed
from embedding_projector.errors import InvalidParameterError

#: Bumped when this package changes how a result is computed.
_FORMAT = 1
#: The method name of an overlap job (not a projection: not in METHODS).
OVERLAP = "overlap"


@dataclass(frozen=True)
class JobSpec:
    """A validated job request.

    Attributes
    ----------
    method, dims, spherize, seed
        As requested (an overlap: ``"overlap"``, 1, False, None).
    params
        Keyword arguments for the method's ``run`` (without ``n_components``,
        ``random_state`` and ``labels``), and ``sample`` when it is fitted on a sample.
    components
        PCA only: the components shown, as indices into the 10 computed.
    labels
        t-SNE only: the supervision labels, or None.
    compared
        Overlap only: the vectors key of the second embedding, its rows aligned with the
        first's.
    init
        t-SNE and UMAP: the layout to start from (a timeline's previous step), or None.
        Not part of :meth:`cache_parts`: a timeline keys its steps by the previous one's key.
    """

    method: str
    dims: int
    spherize: bool
    seed: int | None
    params: dict[str, Any] = field(default_factory=dict)
    components: tuple[int, ...] = ()
    labels: list[Any] | None = None
    compared: str | None = None
    init: np.ndarray | None = None

    def cache_parts(self, vectors_key: str) -> dict[str, Any]:
        """Everything that determines the result, for :func:`.cache.result_key`."""
        if self.method == OVERLAP:  # exact neighbours: no library version changes them
            return {"format": _FORMAT, "overlap": [vectors_key, self.compared], **self.params}
        parts: dict[str, Any] = {
            "format": _FORMAT,
            "vectors": vectors_key,
            "method": self.method,
            "spherize": self.spherize,
            "params": self.params,
            "versions": {name: metadata.version(name) for name in METHODS[self.method].libraries},
        }
        if self.method != "pca":  # PCA caches all 10 components, whatever is shown.
            parts.update(dims=self.dims, seed=self.seed)
        if self.labels is not None:
            codes = tsne.label_codes(self.labels, len(self.labels))
            parts["labels"] = _hash_codes(codes)
        return parts

    def released(self) -> JobSpec:
        """The spec without supervision labels (a Python object per point), for an ended job."""
        return replace(self, labels=None)


#: What a job computes: a projection, or a reading of a layout (:mod:`.analyses`).
AnySpec = JobSpec | AnalysisSpec


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
    method = METHODS[check_choice("method", spec.get("method"), tuple(METHODS))]
    dims = check_choice("dims", spec.get("dims", 2), (2, 3))
    spherize = spec.get("spherize", False)
    if not isinstance(spherize, bool):
        raise InvalidParameterError(f"`spherize` must be true or false, got {spherize!r}")
    seed = check_seed(spec.get("seed", DEFAULT_SEED))
    params = dict(spec.get("params") or {})
    labels = params.pop("labels", None) if method.name == "tsne" else None
    size = (
        None if method.name == "pca" else sample.sample_size(n_samples, params.pop("sample", None))
    )
    fitted = n_samples if size is None else size  # what the method's own bounds apply to
    resolved = method.resolve(params, (fitted, n_features), dims)
    if labels is not None:
        labels = list(labels)
        tsne.label_codes(labels, n_samples)  # validates the length
    if method.name == "pca":
        return JobSpec(method.name, dims, spherize, seed, {}, resolved.components)
    # A full fit has no `sample`, so that its cache key is what it was before samples.
    kept = asdict(resolved) if size is None else {**asdict(resolved), "sample": size}
    return JobSpec(method.name, dims, spherize, seed, kept, (), labels)


def overlap_spec(compared: str, params: dict[str, Any], n_samples: int) -> JobSpec:
    """Validate an overlap request: ``params`` ``{"k", "metric"}``, ``compared`` a vectors key."""
    found = neighbour_params(params, n_samples)
    return JobSpec(OVERLAP, 1, False, None, asdict(found), compared=compared)


def _hash_codes(codes: np.ndarray) -> str:
    from embedding_projector.compute.hashing import content_hash

    return content_hash(codes.astype(np.float32).reshape(-1, 1))

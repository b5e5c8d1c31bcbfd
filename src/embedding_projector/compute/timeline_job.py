"""Timeline jobs: one job over every step of an embedding, each step's result streamed and
cached as soon as it is done.

Four kinds, by the spec's ``method``:

- ``pca``: the aligned PCA of :mod:`.timeline` (one basis fitted on all steps); each step's
  result is its 10 components, as a plain PCA's is.
- ``tsne``, ``umap``: step 0 as a plain projection (and cached as one: the same key), every
  later step started from the previous step's layout, so points move only as much as
  their neighbourhoods changed, and the layouts can be morphed into each other.
- ``drift``: per point, the share of its k nearest neighbours kept from the previous step
  and from the last (:mod:`.drift`), ``(N, 2)`` per step.

Each step has its own cache key (:func:`step_keys`): a t-SNE or UMAP step's includes the
previous step's key, so it names the whole chain that led to it; an aligned PCA step's names
every step (the basis depends on all). Asking again finds every step in the cache; a job
stopped half-way has cached the steps it finished, and the next one starts after them.

The manager (:mod:`.jobs`) keys and queues it; the worker runs :func:`run`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from importlib import metadata
from typing import Any

import numpy as np

from embedding_projector.compute import drift as drift_module
from embedding_projector.compute import preprocess
from embedding_projector.compute.cache import result_key
from embedding_projector.compute.methods import run_job
from embedding_projector.compute.neighbour_sets import neighbour_params
from embedding_projector.compute.progress import Callback, within
from embedding_projector.compute.spec import JobSpec, parse_spec
from embedding_projector.compute.timeline import aligned_pca
from embedding_projector.errors import InvalidParameterError

#: Bumped when this module changes how a step's result is computed.
_FORMAT = 1
#: A timeline needs this many steps at least.
MIN_STEPS = 2

#: ``keep(step, result, meta)``: cache a finished step and report it.
Keep = Callable[[int, np.ndarray, dict[str, Any]], None]
#: ``cached(key)``: a step's result and metadata from the cache, or None.
Cached = Callable[[str], tuple[np.ndarray, dict[str, Any]] | None]


def parse_timeline(spec: dict[str, Any], n_samples: int, n_features: int) -> JobSpec:
    """Validate a timeline request: a projection's (:func:`.spec.parse_spec`), or a drift's
    ``{"method": "drift", "params": {"k": 10, "metric": "cosine"}}``.

    Raises
    ------
    InvalidParameterError
        Naming the offending field.
    """
    if not isinstance(spec, dict) or spec.get("method") != "drift":
        return parse_spec(spec, n_samples, n_features)
    unknown = set(spec) - {"method", "params"}
    if unknown:
        raise InvalidParameterError(f"unknown field `{sorted(unknown)[0]}` in a drift request")
    found = neighbour_params(spec.get("params") or {}, n_samples)
    return JobSpec("drift", 2, False, None, dataclasses.asdict(found))


def step_keys(spec: JobSpec, vectors: Sequence[str]) -> list[str]:
    """The cache key of each step's result, for steps whose vectors have these keys."""
    count = len(vectors)
    if spec.method == "pca":
        versions = {name: metadata.version(name) for name in ("numpy", "scipy")}
        common = {"format": _FORMAT, "timeline": "aligned_pca", "vectors": list(vectors)}
        common |= {"spherize": spec.spherize, "versions": versions}
        return [result_key({**common, "step": s}) for s in range(count)]
    if spec.method == "drift":
        common = {"format": _FORMAT, "timeline": "drift", "params": spec.params}
        common["versions"] = {name: metadata.version(name) for name in ("numpy", "numba")}
        common["last"] = vectors[-1]
        return [
            result_key(common | {"step": vectors[s], "previous": vectors[s - 1] if s else None})
            for s in range(count)
        ]
    keys: list[str] = []
    for s in range(count):
        parts = spec.cache_parts(vectors[s])
        if s:  # step 0 starts as a plain projection does, and shares its cache entry
            parts |= {"timeline": _FORMAT, "start": keys[-1]}
        keys.append(result_key(parts))
    return keys


def run(
    spec: JobSpec,
    steps: Sequence[np.ndarray],
    keys: Sequence[str],
    *,
    cached: Cached,
    keep: Keep,
    callback: Callback,
    on_step: Callable[[int], None],
) -> None:
    """Compute every step not in the cache, oldest first; ``keep`` each as it is done.

    ``on_step(s)`` is called before step ``s`` is worked on (the worker tags the layouts
    it streams with it). Raises :class:`~.progress.Stopped` when ``callback`` asks.
    """
    found = [cached(key) for key in keys]
    if spec.method == "pca":
        _aligned(spec, steps, found, keep, callback)
        return
    count = len(steps)
    graphs = None
    if spec.method == "drift":
        graphs = drift_module.GraphMemo(steps, **spec.params)
    previous: np.ndarray | None = None
    for s, (X, hit) in enumerate(zip(steps, found, strict=True)):
        on_step(s)
        part = within(callback, s / count, (s + 1) / count)
        if hit is not None:
            result, meta = hit
        elif graphs is not None:
            graphs.callback = part
            result, meta = graphs.drift(s), {}
        else:
            result, meta = run_job(dataclasses.replace(spec, init=previous), X, part)
        keep(s, result, meta)
        previous = result


def _aligned(
    spec: JobSpec,
    steps: Sequence[np.ndarray],
    found: Sequence[tuple[np.ndarray, dict[str, Any]] | None],
    keep: Keep,
    callback: Callback,
) -> None:
    if all(hit is not None for hit in found):  # the worker asked: the cache was cut since
        for s, hit in enumerate(found):
            assert hit is not None
            keep(s, *hit)
        return
    arrays = [preprocess.spherize(X) if spec.spherize else X for X in steps]
    aligned = aligned_pca(arrays, callback=callback)
    meta = {"explained_variance_ratio": [float(r) for r in aligned.explained_variance_ratio]}
    for s, coordinates in enumerate(aligned.coordinates):
        keep(s, coordinates, meta)

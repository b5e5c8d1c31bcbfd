"""Exact kNN graph, faithfulness, clusters and names at up to 1,000,000 points (issue 10).

Data, generated in the measuring process (outside the clock):

- ``large``: the ``large`` demo's generator (36 clusters in 8 groups, blobs and
  curves), in its own 64 dimensions and in 128 (the same recipe, every scale per
  dimension);
- ``random``: standard normal in 128 dimensions, with no structure at all.

Rows, each case in a fresh process (``benchmarks.measure``), beside a baseline
measured in the same run:

- the kNN graph (k = 10, cosine) at 20k, 100k and 1M points against
  scikit-learn's brute-force ``NearestNeighbors`` (float32, all cores), measured
  at 20k and projected as N^2 beyond (at 100k it took 375 CPU seconds, 1M would
  take hours); on random data ours is projected at 1M too (nothing to prune);
- faithfulness of a 2-D layout (PCA) at 1M x 128, against scikit-learn's
  ``trustworthiness`` on a 5,000-point sample (it holds the N x N distances);
- clusters and their names at 1M (HDBSCAN on a 50,000-point sample, the rest by
  nearest sampled point; names by class-based TF-IDF over the demo's made-up
  words), against scikit-learn's ``HDBSCAN`` called directly on 50,000 points.

The machine is shared: each row notes the load average and the CPU seconds of
the case (``cpu_s``), which the load does not inflate as much as the wall time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from benchmarks.measure import Case, Timed, comparison, measure

K = 10
METRIC = "cosine"
#: Points of the trustworthiness baseline: it holds an N x N float64 matrix.
TRUST_SAMPLE = 5_000
FULL = {"graph": (20_000, 100_000, 1_000_000), "faith": 1_000_000, "clusters": 1_000_000}
SMOKE = {"graph": (2_000,), "faith": 2_000, "clusters": 3_000}
#: The brute-force baseline runs at the first size and is projected as N^2 beyond it.
#: So is ours on structureless data beyond this size.
RANDOM_LIMIT = 100_000
GOAL_SECONDS = 120.0
#: Where the measuring processes find the cases (``__name__`` is ``__main__`` when run
#: as ``python -m``).
_MODULE = "benchmarks.bench_faithfulness"


def data(kind: str, n: int) -> np.ndarray:
    """``large64``, ``large128`` or ``random128``: ``n`` float32 vectors."""
    from embedding_projector.demos import large

    if kind.startswith("large"):
        return large.generate(n, dimensions=int(kind.removeprefix("large")))[0]
    return np.random.default_rng(2).standard_normal((n, 128), dtype=np.float32)


def _timed(work: Callable[[], Any]) -> Timed:
    """Wall and CPU time of ``work()``; its result (a dict) goes to ``extra``."""
    started, cpu = time.perf_counter(), time.process_time()
    extra = work()
    return Timed(time.perf_counter() - started, {**extra, "cpu_s": time.process_time() - cpu})


def _as_in_a_worker() -> None:
    """BLAS limited to one thread, as in the job workers that run our side."""
    from embedding_projector.compute.threads import limit_blas_threads

    limit_blas_threads()


def ours_graph(kind: str, n: int) -> Timed:
    from embedding_projector.compute.knn_graph import knn_graph

    _as_in_a_worker()
    X = data(kind, n)
    knn_graph(X[:1000], k=K)  # load numba's kernels outside the timing

    def work() -> dict[str, Any]:
        graph = knn_graph(X, k=K, metric=METRIC)
        return {"settled_by_index": graph.settled_by_index}

    return _timed(work)


def sklearn_graph(kind: str, n: int) -> Timed:
    from sklearn.neighbors import NearestNeighbors

    X = data(kind, n)

    def work() -> dict[str, Any]:
        model = NearestNeighbors(n_neighbors=K + 1, algorithm="brute", metric=METRIC, n_jobs=-1)
        model.fit(X).kneighbors(X)
        return {}

    return _timed(work)


def _pca_layout(X: np.ndarray) -> np.ndarray:
    from embedding_projector.compute import pca

    layout: np.ndarray = pca.run(X, n_components=2).coordinates
    return layout


def ours_faithfulness(kind: str, n: int) -> Timed:
    from embedding_projector.compute.faithfulness import faithfulness

    _as_in_a_worker()
    X = data(kind, n)
    layout = _pca_layout(X)
    faithfulness(X[:1000], layout[:1000], k=K)  # numba's kernels, outside the timing

    def work() -> dict[str, Any]:
        result = faithfulness(X, layout, k=K, metric=METRIC)
        return {"mean": result.mean, "below": result.below}

    return _timed(work)


def sklearn_trustworthiness(kind: str, n: int) -> Timed:
    from sklearn.manifold import trustworthiness

    X = data(kind, n)
    layout = _pca_layout(X)
    sample = np.random.default_rng(0).choice(n, min(n, TRUST_SAMPLE), replace=False)
    return _timed(
        lambda: {
            "trustworthiness": trustworthiness(
                X[sample], layout[sample], n_neighbors=K, metric=METRIC
            )
        }
    )


def ours_clusters(kind: str, n: int) -> Timed:
    from embedding_projector.compute.cluster_names import name_clusters
    from embedding_projector.compute.clusters import find_clusters
    from embedding_projector.demos import large

    _as_in_a_worker()
    X = data(kind, n)
    layout = _pca_layout(X)
    words = large.names(n).to_pylist()
    # Imported before the clock, as the baseline's are.
    import sklearn.cluster
    import sklearn.feature_extraction.text  # noqa: F401

    def work() -> dict[str, Any]:
        found = find_clusters(layout)
        names = name_clusters(found.labels, text=words)
        return {"clusters": found.n_clusters, "noise": float(np.mean(found.labels < 0)),
                "names": names[:3]}  # fmt: skip

    return _timed(work)


def sklearn_hdbscan(kind: str, n: int) -> Timed:
    from sklearn.cluster import HDBSCAN

    from embedding_projector.compute import clusters

    X = data(kind, n)
    layout = _pca_layout(X).astype(np.float64)
    size = min(n, clusters.SAMPLE_SIZE)
    sample = layout[np.random.default_rng(0).choice(n, size, replace=False)]
    min_size = max(2, round(clusters.default_min_cluster_size(n) * size / n))
    return _timed(
        lambda: {
            "clusters": int(
                HDBSCAN(min_cluster_size=min_size, min_samples=10, copy=True)
                .fit_predict(sample)
                .max()
                + 1
            )
        }
    )


def run(smoke: bool) -> Iterator[dict[str, Any]]:
    """Benchmark rows for the harness (``benchmarks/run.py``), each as its case finishes."""
    sizes = SMOKE if smoke else FULL
    for kind in ("large64",) if smoke else ("large64", "large128", "random128"):
        measured: list[tuple[int, dict[str, Any]]] = []
        for n in sizes["graph"]:
            row = _graph_row(kind, n, measured)
            measured.append((n, row))
            yield row
    kind = "large64" if smoke else "large128"
    n = sizes["faith"]
    ours, base = measure(
        Case(f"{_MODULE}:ours_faithfulness", (kind, n)),
        Case(f"{_MODULE}:sklearn_trustworthiness", (kind, n)),
    )
    summary = f"mean {ours['extra']['mean']:.3f}, below 30 % {ours['extra']['below']:.3f}"
    yield {
        **comparison("faithfulness", f"2-D PCA layout, k={K}, {METRIC}, {kind}", _size(n, kind),
                     ours, f"sklearn trustworthiness, {min(n, TRUST_SAMPLE):,}-point sample",
                     base),
        "note": _note(ours, base, summary, goal=True),
    }  # fmt: skip
    n = sizes["clusters"]
    ours, base = measure(
        Case(f"{_MODULE}:ours_clusters", (kind, n)),
        Case(f"{_MODULE}:sklearn_hdbscan", (kind, n)),
    )
    found = f"{ours['extra']['clusters']} clusters, {ours['extra']['noise']:.0%} noise"
    yield {
        **comparison("clusters", f"HDBSCAN + c-TF-IDF names, 2-D PCA layout, {kind}",
                     _size(n, kind), ours, "sklearn HDBSCAN on the same sample size", base),
        "note": _note(ours, base, found, goal=True),
    }  # fmt: skip


def _graph_row(kind: str, n: int, measured: list[tuple[int, dict[str, Any]]]) -> dict[str, Any]:
    """A kNN graph row: beside the baseline at the first size, beyond it beside the
    baseline's projection from there (and ours too, on random data past 100k, from the
    largest size measured)."""
    case = f"exact, k={K}, {METRIC}, {kind}"
    baseline = "sklearn brute force, float32"
    if not measured:
        ours, base = measure(
            Case(f"{_MODULE}:ours_graph", (kind, n)), Case(f"{_MODULE}:sklearn_graph", (kind, n))
        )
        row = comparison("knn graph", case, _size(n, kind), ours, baseline, base)
        return {**row, "note": _note(ours, base, "")}
    (base_n, first), (last_n, last) = measured[0], measured[-1]
    projected = first["baseline_seconds"] * (n / base_n) ** 2
    row = {"benchmark": "knn graph", "case": case, "size": _size(n, kind),
           "baseline": f"{baseline}, projected from {base_n:,} as N^2",
           "baseline_seconds": round(projected, 1)}  # fmt: skip
    if kind.startswith("random") and n > RANDOM_LIMIT:
        seconds = last["seconds"] * (n / last_n) ** 2
        note = f"not run: projected from {last_n:,} as N^2 (no structure to prune)"
        return {**row, "seconds": round(seconds, 1), "ratio": round(seconds / projected, 3),
                "note": note}  # fmt: skip
    (ours,) = measure(Case(f"{_MODULE}:ours_graph", (kind, n)))
    seconds = ours["seconds"]
    return {**row, "seconds": round(seconds, 1), "peak_mb": round(ours["peak_mb"]),
            "ratio": round(seconds / projected, 3), "note": _note(ours, None, "")}  # fmt: skip


def _size(n: int, kind: str) -> str:
    return f"{n:,} x {64 if kind == 'large64' else 128}"


def _note(
    ours: dict[str, Any], base: dict[str, Any] | None, text: str, *, goal: bool = False
) -> str:
    """CPU seconds, what the case found, the goal when it applies, the load average."""
    parts = [f"CPU {ours['extra']['cpu_s']:.1f} s"]
    if base is not None:
        parts.append(f"baseline CPU {base['extra']['cpu_s']:.1f} s")
    if ours["extra"].get("settled_by_index"):
        parts.append(f"{ours['extra']['settled_by_index']:,} rows settled by the index")
    if text:
        parts.append(text)
    if goal:
        verdict = "within" if ours["seconds"] <= GOAL_SECONDS else "over"
        parts.append(f"{verdict} the {GOAL_SECONDS:.0f} s goal")
    loads = ours["load"] + ([] if base is None else base["load"])
    return "; ".join(parts) + f"; load average {min(loads):.1f}-{max(loads):.1f}"


if __name__ == "__main__":
    import json
    import sys

    for row in run(smoke="--smoke" in sys.argv):
        print(json.dumps(row), flush=True)

"""Exact nearest-neighbour query latency: p50/p95 of one query, k=100, at 10k/100k/1M x 128.

Ours (int8 scan with proven bounds + exact float64 re-rank) beside plain numpy
float32 brute force (one matrix-vector product + argpartition, norms
precomputed) and faiss ``IndexFlat`` when faiss is importable. Queries are by
row index, as the server's neighbours panel asks them, for both metrics, on
random data (standard normal) and on clustered data (20 blobs, whose distances
within a blob are near-ties). Each case runs in a fresh process, ours first,
then the baselines; its time is the p50 of the queries (the build excluded).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from benchmarks.bench_compute import DIMS, blobs
from benchmarks.measure import Case, Timed, comparison, measure

FULL_SIZES = (10_000, 100_000, 1_000_000)
SMOKE_SIZES = (2_000,)
DATA = ("blobs", "random")
METRICS = ("cosine", "euclidean")
K = 100
#: Where the measuring processes find the cases (``__name__`` is ``__main__`` when run
#: as ``python -m``).
_MODULE = "benchmarks.bench_knn"


def _data(kind: str, n: int) -> np.ndarray:
    if kind == "blobs":
        return blobs(n, seed=2)
    return np.random.default_rng(2).standard_normal((n, DIMS), dtype=np.float32)


def _latencies(query: Callable[[int], Any], n: int, repeats: int, build: float) -> Timed:
    """p50 (the time) and p95 in milliseconds over ``repeats`` queries of random rows."""
    rows = np.random.default_rng(1).integers(0, n, repeats)
    query(int(rows[0]))  # first call: numba's kernels are loaded from their cache
    times = []
    for row in rows:
        started = time.perf_counter()
        query(int(row))
        times.append(time.perf_counter() - started)
    p50, p95 = np.percentile(np.array(times) * 1e3, [50, 95])
    return Timed(p50 / 1e3, {"p50_ms": p50, "p95_ms": p95, "build_s": build})


def ours(kind: str, n: int, metric: str, repeats: int) -> Timed:
    from embedding_projector.compute import knn
    from embedding_projector.compute.threads import limit_blas_threads

    limit_blas_threads()  # as in the projector server, which builds the index
    X = _data(kind, n)
    knn.build(X[:1000])  # load numba's kernels outside the timing
    started = time.perf_counter()
    index = knn.build(X)
    build = time.perf_counter() - started
    return _latencies(lambda i: index.query(k=K, metric=metric, index=i), n, repeats, build)


def numpy_float32(kind: str, n: int, metric: str, repeats: int) -> Timed:
    X = _data(kind, n)
    started = time.perf_counter()
    if metric == "cosine":
        X /= np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-30)
    sq_norms = np.einsum("ij,ij->i", X, X)
    build = time.perf_counter() - started

    def query(i: int) -> np.ndarray:
        # cosine: largest dot product of unit rows; euclidean: smallest ||x||^2 - 2 x.q
        score = X @ X[i] * -1 if metric == "cosine" else sq_norms - 2 * (X @ X[i])
        score[i] = np.inf
        top = np.argpartition(score, K)[:K]
        return top[np.argsort(score[top])]

    return _latencies(query, n, repeats, build)


def faiss_flat(kind: str, n: int, metric: str, repeats: int) -> Timed:
    import faiss

    X = _data(kind, n)
    started = time.perf_counter()
    if metric == "cosine":
        X /= np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-30)
        index = faiss.IndexFlatIP(X.shape[1])
    else:
        index = faiss.IndexFlatL2(X.shape[1])
    index.add(X)
    build = time.perf_counter() - started
    return _latencies(lambda i: index.search(X[i : i + 1], K + 1), n, repeats, build)


def _faiss_available() -> bool:
    try:
        import faiss  # noqa: F401
    except ImportError:
        return False
    return True


def run(smoke: bool) -> Iterator[dict[str, Any]]:
    """Benchmark rows for the harness (``benchmarks/run.py``), each as its case finishes."""
    repeats = 20 if smoke else 100
    baselines = {"numpy float32 brute force": "numpy_float32"}
    if _faiss_available():
        baselines["faiss IndexFlat"] = "faiss_flat"
    for n in SMOKE_SIZES if smoke else FULL_SIZES:
        for kind in DATA[:1] if smoke else DATA:
            for metric in METRICS[:1] if smoke else METRICS:
                args = (kind, n, metric, repeats)
                ours_result, *results = measure(
                    Case(f"{_MODULE}:ours", args),
                    *(Case(f"{_MODULE}:{function}", args) for function in baselines.values()),
                )
                for name, base in zip(baselines, results, strict=True):
                    yield _row(kind, n, metric, repeats, ours_result, name, base)


def _row(
    kind: str,
    n: int,
    metric: str,
    repeats: int,
    ours: dict[str, Any],
    name: str,
    base: dict[str, Any],
) -> dict[str, Any]:
    mine, theirs = ours["extra"], base["extra"]
    faiss_note = "" if _faiss_available() else "; faiss not installed"
    case = f"int8 scan + exact re-rank, {metric}, k={K}, {kind}"
    return {
        **comparison("knn", case, f"{n:,} x {DIMS}", ours, name, base, digits=5),
        "p50_ms": round(mine["p50_ms"], 2),
        "p95_ms": round(mine["p95_ms"], 2),
        "build_s": round(mine["build_s"], 3),
        "baseline_p50_ms": round(theirs["p50_ms"], 2),
        "baseline_p95_ms": round(theirs["p95_ms"], 2),
        "note": f"seconds = p50 of {repeats} queries; p95 {mine['p95_ms']:.1f} ms vs "
        f"{theirs['p95_ms']:.1f} ms; index build {mine['build_s']:.2f} s vs "
        f"{theirs['build_s']:.2f} s; load average {ours['load'][0]:.1f}{faiss_note}",
    }


if __name__ == "__main__":
    import json
    import sys

    for row in run(smoke="--smoke" in sys.argv):
        print(json.dumps(row), flush=True)

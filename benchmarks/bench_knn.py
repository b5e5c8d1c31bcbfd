"""Exact nearest-neighbour query latency: p50/p95 of one query, k=100, at 10k/100k/1M x 128.

Ours (int8 scan with proven bounds + exact float64 re-rank) beside plain numpy
float32 brute force (matrix-vector product on unit rows + argpartition) and
faiss ``IndexFlatIP`` when faiss is importable. Queries are by row index with
the cosine metric, as the server's neighbours panel asks them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from benchmarks._measure import measure
from benchmarks.bench_compute import DIMS, blobs

FULL_SIZES = (10_000, 100_000, 1_000_000)
SMOKE_SIZES = (2_000,)
K = 100


def _latencies(query: Callable[[int], Any], n: int, repeats: int) -> tuple[float, float]:
    """p50 and p95 in milliseconds over ``repeats`` queries of random rows."""
    rows = np.random.default_rng(1).integers(0, n, repeats)
    query(int(rows[0]))  # first call: numba's kernel is loaded from its cache
    times = []
    for row in rows:
        started = time.perf_counter()
        query(int(row))
        times.append(time.perf_counter() - started)
    p50, p95 = np.percentile(np.array(times) * 1e3, [50, 95])
    return float(p50), float(p95)


def ours(n: int, repeats: int) -> tuple[float, Any]:
    from embedding_projector.compute import knn

    X = blobs(n, seed=2)
    started = time.perf_counter()
    index = knn.build(X)
    build = time.perf_counter() - started
    return build, _latencies(lambda i: index.query(k=K, metric="cosine", index=i), n, repeats)


def numpy_float32(n: int, repeats: int) -> tuple[float, Any]:
    X = blobs(n, seed=2)
    started = time.perf_counter()
    unit = X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-30)
    build = time.perf_counter() - started

    def query(i: int) -> np.ndarray:
        similarity = unit @ unit[i]
        similarity[i] = -np.inf
        top = np.argpartition(-similarity, K)[:K]
        return top[np.argsort(-similarity[top])]

    return build, _latencies(query, n, repeats)


def faiss_flat(n: int, repeats: int) -> tuple[float, Any]:
    import faiss

    X = blobs(n, seed=2)
    started = time.perf_counter()
    unit = np.ascontiguousarray(X / np.linalg.norm(X, axis=1, keepdims=True))
    index = faiss.IndexFlatIP(unit.shape[1])
    index.add(unit)
    build = time.perf_counter() - started
    return build, _latencies(lambda i: index.search(unit[i : i + 1], K + 1), n, repeats)


def _faiss_available() -> bool:
    try:
        import faiss  # noqa: F401
    except ImportError:
        return False
    return True


def run(smoke: bool) -> list[dict[str, Any]]:
    """Benchmark rows for the harness (``benchmarks/run.py``)."""
    return list(rows(smoke))


def rows(smoke: bool) -> Iterator[dict[str, Any]]:
    """The rows of :func:`run`, one at a time as each case finishes."""
    repeats = 20 if smoke else 100
    for n in SMOKE_SIZES if smoke else FULL_SIZES:
        build, (p50, p95), peak = _run("ours", n, repeats)
        baselines = [("numpy float32 brute force", "numpy_float32")]
        if _faiss_available():
            baselines.append(("faiss IndexFlatIP", "faiss_flat"))
        else:
            yield _skipped_faiss(n)
        for name, function in baselines:
            base_build, (base_p50, base_p95), base_peak = _run(function, n, repeats)
            yield {
                "benchmark": "knn",
                "case": "int8 scan + exact re-rank, cosine, k=100",
                "size": f"{n:,} x {DIMS}",
                "seconds": round(p50 / 1e3, 5),
                "peak_mb": round(peak),
                "baseline": name,
                "baseline_seconds": round(base_p50 / 1e3, 5),
                "baseline_peak_mb": round(base_peak),
                "ratio": round(p50 / base_p50, 3),
                "p50_ms": round(p50, 2),
                "p95_ms": round(p95, 2),
                "baseline_p50_ms": round(base_p50, 2),
                "baseline_p95_ms": round(base_p95, 2),
                "note": f"seconds = p50 of one query; p95 {p95:.1f} ms vs {base_p95:.1f} ms; "
                f"index build {build:.2f} s vs {base_build:.2f} s",
            }  # fmt: skip


def _run(function: str, n: int, repeats: int) -> tuple[float, tuple[float, float], float]:
    build, peak, latencies = measure(__name__, function, n=n, repeats=repeats)
    return build, latencies, peak


def _skipped_faiss(n: int) -> dict[str, Any]:
    return {
        "benchmark": "knn", "case": "faiss IndexFlatIP", "size": f"{n:,} x {DIMS}",
        "seconds": None, "peak_mb": None, "baseline": None, "baseline_seconds": None,
        "baseline_peak_mb": None, "ratio": None, "note": "skipped: faiss is not installed",
    }  # fmt: skip


if __name__ == "__main__":
    import json
    import sys

    for row in rows(smoke="--smoke" in sys.argv):
        print(json.dumps(row), flush=True)

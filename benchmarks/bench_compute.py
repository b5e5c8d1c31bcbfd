"""PCA, t-SNE and UMAP: wall time and peak memory, each beside a baseline in the same run.

Data: ``make_blobs``-style clusters in 128 dimensions (t-SNE and UMAP have
structure to find), generated in the measuring process. Every case runs in a
fresh process, so peak memory (max RSS, input included) is per case. The
t-SNE and UMAP rows at 1M points are not run: their projected time, from the
100k rows, is over 30 minutes on the 2-core reference machine (see the note).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import numpy as np

from benchmarks._measure import measure

FULL_SIZES = {
    "pca": (10_000, 100_000, 1_000_000),
    "tsne": (10_000, 100_000),
    "umap": (10_000, 100_000),
}
SMOKE_SIZES = {"pca": (2_000,), "tsne": (1_000,), "umap": (1_000,)}
DIMS = 128
#: Time limit for a 1M-point t-SNE or UMAP row (the brief's 30 minutes).
LIMIT_SECONDS = 30 * 60


def blobs(n: int, d: int = DIMS, *, seed: int = 0) -> np.ndarray:
    """``n`` points around 20 random centres, float32."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((20, d)).astype(np.float32) * 4
    X = rng.standard_normal((n, d), dtype=np.float32)
    X += centres[rng.integers(0, 20, n)]
    return X


def ours_pca(n: int) -> tuple[float, Any]:
    from embedding_projector.compute import pca

    X = blobs(n)
    pca.run(X[:16])  # import scipy outside the timing, as sklearn's baseline does
    started = time.perf_counter()
    pca.run(X)
    return time.perf_counter() - started, None


def sklearn_pca(n: int) -> tuple[float, Any]:
    from sklearn.decomposition import PCA

    X = blobs(n)
    started = time.perf_counter()
    PCA(n_components=10).fit_transform(X)
    return time.perf_counter() - started, None


def ours_tsne(n: int, n_iter: int) -> tuple[float, Any]:
    from embedding_projector.compute import tsne

    X = blobs(n)
    iterations: list[int] = []
    started = time.perf_counter()
    tsne.run(X, n_iter=n_iter, n_jobs=-1, random_state=0,
             callback=lambda p: iterations.append(p.iteration or 0))  # fmt: skip
    return time.perf_counter() - started, max(iterations)


def opentsne_defaults(n: int, n_iter: int) -> tuple[float, Any]:
    from openTSNE import TSNE

    X = blobs(n)
    early = min(250, n_iter // 3)  # openTSNE's defaults are 250 + 500 iterations
    started = time.perf_counter()
    TSNE(n_iter=n_iter - early, early_exaggeration_iter=early, n_jobs=-1, random_state=0).fit(X)
    return time.perf_counter() - started, None


def ours_umap(n: int, n_epochs: int | None) -> tuple[float, Any]:
    from embedding_projector.compute import umap

    X = blobs(n)
    umap.warm_up()  # what each server worker does once at start, not per request
    started = time.perf_counter()
    umap.run(X, n_epochs=n_epochs)
    return time.perf_counter() - started, None


def umap_defaults(n: int, n_epochs: int | None) -> tuple[float, Any]:
    import warnings

    X = blobs(n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import umap

        started = time.perf_counter()  # cold: numba compiles in this new process
        umap.UMAP(n_epochs=n_epochs).fit_transform(X)
    return time.perf_counter() - started, None


#: benchmark -> (our case, our function, baseline name, baseline function)
CASES = {
    "pca": ("covariance + eigh, float64 blocks", "ours_pca", "sklearn PCA(10)", "sklearn_pca"),
    "tsne": ("openTSNE, FFT 2D, early stop", "ours_tsne", "openTSNE TSNE()", "opentsne_defaults"),
    "umap": ("umap-learn 2D, warmed worker", "ours_umap", "umap-learn, cold", "umap_defaults"),
}


def run(smoke: bool) -> list[dict[str, Any]]:
    """Benchmark rows for the harness (``benchmarks/run.py``)."""
    return list(rows(smoke))


def rows(smoke: bool) -> Iterator[dict[str, Any]]:
    """The rows of :func:`run`, one at a time as each case finishes."""
    sizes = SMOKE_SIZES if smoke else FULL_SIZES
    options = {
        "pca": {},
        "tsne": {"n_iter": 100 if smoke else 750},
        "umap": {"n_epochs": 20 if smoke else None},
    }
    done = []
    for benchmark in CASES:
        for n in sizes[benchmark]:
            row = _row(
                benchmark, n, options[benchmark], baseline=not (smoke and benchmark == "umap")
            )
            done.append(row)
            yield row
    if not smoke:
        yield from _projected_1m(done)


def _row(benchmark: str, n: int, options: dict[str, Any], *, baseline: bool) -> dict[str, Any]:
    case, ours, baseline_name, baseline_function = CASES[benchmark]
    seconds, peak, extra = measure(__name__, ours, n=n, **options)
    row: dict[str, Any] = {
        "benchmark": benchmark,
        "case": case,
        "size": f"{n:,} x {DIMS}",
        "seconds": round(seconds, 3),
        "peak_mb": round(peak),
        "baseline": None,
        "baseline_seconds": None,
        "baseline_peak_mb": None,
        "ratio": None,
        "note": f"stopped after {extra} iterations" if benchmark == "tsne" else "",
    }
    if baseline:
        base_seconds, base_peak, _ = measure(__name__, baseline_function, n=n, **options)
        row.update(
            baseline=baseline_name,
            baseline_seconds=round(base_seconds, 3),
            baseline_peak_mb=round(base_peak),
            ratio=round(seconds / base_seconds, 3),
        )
    else:
        row["note"] = "baseline skipped in smoke mode (numba compile)"
    return row


def _projected_1m(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """1M-point t-SNE and UMAP rows: run only if the 100k time projects under the limit."""
    out = []
    for benchmark in ("tsne", "umap"):
        at_100k = [r for r in rows if r["benchmark"] == benchmark and r["size"].startswith("100,")]
        if not at_100k:
            continue
        # Both grow at least as N log N: ten times the points, over ten times the time.
        projected = at_100k[0]["seconds"] * 10 * np.log(1e6) / np.log(1e5)
        row = {key: None for key in at_100k[0]}
        row.update(benchmark=benchmark, case=at_100k[0]["case"], size=f"1,000,000 x {DIMS}")
        if projected > LIMIT_SECONDS:
            row["note"] = (
                f"not run: {projected / 60:.0f} min projected from the 100k row "
                f"(limit {LIMIT_SECONDS // 60} min)"
            )
        else:
            options = {"n_iter": 750} if benchmark == "tsne" else {"n_epochs": None}
            seconds, peak, _ = measure(__name__, CASES[benchmark][1], n=1_000_000, **options)
            row.update(seconds=round(seconds, 1), peak_mb=round(peak))
            row["note"] = "baseline not run at 1M (time)"
        out.append(row)
    return out


if __name__ == "__main__":
    import json
    import sys

    for row in rows(smoke="--smoke" in sys.argv):
        print(json.dumps(row), flush=True)

"""PCA, t-SNE and UMAP: wall time and peak memory, each beside a baseline in the same run.

Data: ``make_blobs``-style clusters in 128 dimensions (t-SNE and UMAP have
structure to find), generated in the measuring process. Every case runs in a
fresh process (``benchmarks.measure``), ours and the baseline taking turns;
the time excludes making the data, the peak memory growth includes it. The
t-SNE and UMAP rows at 1M points run only if the 100k row projects under 30
minutes on the 2-core reference machine (see the note). Smoke mode leaves UMAP
out: every fresh process compiles its numba kernels for a minute.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import numpy as np

from benchmarks.measure import Case, Timed, comparison, measure

FULL_SIZES = {
    "pca": (10_000, 100_000, 1_000_000),
    "tsne": (10_000, 100_000),
    "umap": (10_000, 100_000),
}
SMOKE_SIZES: dict[str, tuple[int, ...]] = {"pca": (2_000,), "tsne": (1_000,), "umap": ()}
#: Runs of each case at each size (ours and the baseline alternate).
REPEAT = {"pca": 3, "tsne": 1, "umap": 1}
DIMS = 128
#: Time limit for a 1M-point t-SNE or UMAP row (the brief's 30 minutes).
LIMIT_SECONDS = 30 * 60
#: Where the measuring processes find the cases (``__name__`` is ``__main__`` when run
#: as ``python -m``).
_MODULE = "benchmarks.bench_compute"


def blobs(n: int, d: int = DIMS, *, seed: int = 0) -> np.ndarray:
    """``n`` points around 20 random centres, float32."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((20, d)).astype(np.float32) * 4
    X = rng.standard_normal((n, d), dtype=np.float32)
    X += centres[rng.integers(0, 20, n)]
    return X


def ours_pca(n: int) -> Timed:
    from embedding_projector.compute import pca
    from embedding_projector.compute.threads import limit_blas_threads

    limit_blas_threads()  # as in the job workers, which run PCA
    X = blobs(n)
    pca.run(X[:16])  # import scipy outside the timing, as sklearn's baseline does
    started = time.perf_counter()
    pca.run(X)
    return Timed(time.perf_counter() - started)


def sklearn_pca(n: int) -> Timed:
    from sklearn.decomposition import PCA

    X = blobs(n)
    started = time.perf_counter()
    PCA(n_components=10).fit_transform(X)
    return Timed(time.perf_counter() - started)


def ours_tsne(n: int, n_iter: int) -> Timed:
    from embedding_projector.compute import tsne

    X = blobs(n)
    iterations: list[int] = []
    started = time.perf_counter()
    tsne.run(X, n_iter=n_iter, n_jobs=-1, random_state=0,
             callback=lambda p: iterations.append(p.iteration or 0))  # fmt: skip
    return Timed(time.perf_counter() - started, max(iterations))


def opentsne_defaults(n: int, n_iter: int) -> Timed:
    from openTSNE import TSNE

    X = blobs(n)
    early = min(250, n_iter // 3)  # openTSNE's defaults are 250 + 500 iterations
    started = time.perf_counter()
    TSNE(n_iter=n_iter - early, early_exaggeration_iter=early, n_jobs=-1, random_state=0).fit(X)
    return Timed(time.perf_counter() - started)


def ours_umap(n: int, n_epochs: int | None) -> Timed:
    from embedding_projector.compute import umap

    X = blobs(n)
    umap.warm_up()  # what each server worker does once at start, not per request
    started = time.perf_counter()
    umap.run(X, n_epochs=n_epochs)
    return Timed(time.perf_counter() - started)


def umap_defaults(n: int, n_epochs: int | None) -> Timed:
    import warnings

    X = blobs(n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import umap

        started = time.perf_counter()  # cold: numba compiles in this new process
        umap.UMAP(n_epochs=n_epochs).fit_transform(X)
    return Timed(time.perf_counter() - started)


#: benchmark -> (our case, our function, baseline name, baseline function)
CASES = {
    "pca": ("covariance + eigh, float32 blocks", "ours_pca", "sklearn PCA(10)", "sklearn_pca"),
    "tsne": ("openTSNE, FFT 2D, early stop", "ours_tsne", "openTSNE TSNE()", "opentsne_defaults"),
    "umap": ("umap-learn 2D, warmed worker", "ours_umap", "umap-learn, cold", "umap_defaults"),
}


def run(smoke: bool) -> Iterator[dict[str, Any]]:
    """Benchmark rows for the harness (``benchmarks/run.py``), each as its case finishes."""
    sizes = SMOKE_SIZES if smoke else FULL_SIZES
    options = {"pca": (), "tsne": (100 if smoke else 750,), "umap": (None,)}
    done = []
    for benchmark in CASES:
        for n in sizes[benchmark]:
            row = _row(benchmark, n, options[benchmark], repeat=1 if smoke else REPEAT[benchmark])
            done.append(row)
            yield row
    if not smoke:
        yield from _projected_1m(done)


def _row(benchmark: str, n: int, options: tuple[Any, ...], *, repeat: int) -> dict[str, Any]:
    case, ours_function, baseline_name, baseline_function = CASES[benchmark]
    ours, base = measure(
        Case(f"{_MODULE}:{ours_function}", (n, *options)),
        Case(f"{_MODULE}:{baseline_function}", (n, *options)),
        repeat=repeat,
    )
    note = f"median of {repeat}, " if repeat > 1 else ""
    if benchmark == "tsne":
        note += f"stopped after {ours['extra']} iterations, "
    row = comparison(benchmark, case, f"{n:,} x {DIMS}", ours, baseline_name, base)
    return {**row, "note": note + f"load average {_loads(ours, base)}"}


def _loads(*results: dict[str, Any]) -> str:
    loads = [load for result in results for load in result["load"]]
    return f"{min(loads):.1f}-{max(loads):.1f}"


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
            options = (750,) if benchmark == "tsne" else (None,)
            (ours,) = measure(Case(f"{_MODULE}:{CASES[benchmark][1]}", (1_000_000, *options)))
            row.update(seconds=round(ours["seconds"], 1), peak_mb=round(ours["peak_mb"]))
            row["note"] = f"baseline not run at 1M (time); load average {_loads(ours)}"
        out.append(row)
    return out


if __name__ == "__main__":
    import json
    import sys

    for row in run(smoke="--smoke" in sys.argv):
        print(json.dumps(row), flush=True)

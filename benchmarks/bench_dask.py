"""Past one machine: 10M x 64 on a Dask ``LocalCluster`` of this machine, beside one process.

Data: the ``large`` demo's generator drawn to 10,000,000 x 64 float32 (2.4 GiB ``.npy``,
with its 36 cluster labels) and to 1,000,000 points mapped into 128 dimensions, written
once, block by block, into ``$EMBEDDING_PROJECTOR_BENCH_DATA`` (default
``~/.cache/embedding-projector/bench``), outside the repository.

Cases (each in fresh processes; a cluster case starts its own ``LocalCluster`` of 2 worker
processes, whose peak memory it reports beside the client's):

- PCA of 10M x 64 on the cluster, beside ``pca.run`` in one process;
- exact k = 100 neighbours of 10M x 64: shard build and query p50/p95 on the cluster,
  beside one ``knn.build`` index in one process;
- UMAP and t-SNE of 10M x 64 on the cluster (fit on 100,000 rows, every other row placed
  by ``transform``), end to end, with the 10-NN label agreement of the layout; beside the
  same sample + transform path in one process on the first 1,000,000 rows (its per-row
  rate, extrapolated to 10M in the note: running it on 10M would take hours here);
- t-SNE of 1,000,000 x 128 on one machine by sample + transform, with its 10-NN label
  agreement, beside the full t-SNE of 100,000 of those rows;
- the per-row cost of each stage at 768 dimensions in one process (:func:`rates_wide`),
  which docs/beyond-one-machine.md scales to 100M x 768 on a cluster.

10-NN label agreement: the 5-fold cross-validated accuracy of a 10-nearest-neighbour
classifier of the cluster labels on the 2-D layout (tests' ``knn_accuracy``), on 100,000
random rows of the layout.
"""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.measure import Case, Timed, measure

_MODULE = "benchmarks.bench_dask"
DATA_DIR = Path(
    os.environ.get(
        "EMBEDDING_PROJECTOR_BENCH_DATA", Path.home() / ".cache/embedding-projector/bench"
    )
)
WORKERS = 2
K = 100
#: Rows the layouts' 10-NN label agreement is measured on.
AGREEMENT_ROWS = 100_000


def dataset(n: int, dims: int = 64) -> tuple[Path, Path]:
    """``(vectors.npy, labels.npy)`` of ``n`` points of the large demo, written once."""
    from embedding_projector.demos import large

    folder = DATA_DIR / f"large-{n}x{dims}"
    vectors, labels = folder / "vectors.npy", folder / "labels.npy"
    if vectors.exists() and labels.exists():
        return vectors, labels
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / "vectors.partial.npy"
    out = np.lib.format.open_memmap(partial, mode="w+", dtype=np.float32, shape=(n, dims))
    cluster = np.empty(n, dtype=np.int16)
    # 64 -> 128 dimensions: a fixed orthonormal map, plus a little noise (full rank).
    rng = np.random.default_rng(128)
    lift = np.linalg.qr(rng.normal(size=(dims, 64)))[0].T if dims != 64 else None
    for chunk in large.chunks(n):
        block = chunk.vectors
        if lift is not None:
            block = block @ lift.astype(np.float32)
            block += rng.normal(0, 0.1, block.shape).astype(np.float32)
        out[chunk.rows] = block
        cluster[chunk.rows] = chunk.cluster
    out.flush()
    del out
    np.save(labels, cluster)
    partial.replace(vectors)
    return vectors, labels


def _connect() -> Any:
    from embedding_projector.compute.distributed import cluster

    return cluster.connect(f"local:{WORKERS}", cache_dir=Path.home() / ".cache/embedding-projector")


def _rows(path: str) -> Any:
    import embedding_projector

    (embedding,) = embedding_projector.open(path).embeddings
    return embedding.source.rows


def _peaks(connected: Any) -> dict[str, Any]:
    """Peak resident memory (MB) of each worker process and of this one, and the load."""

    def peak() -> float:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    workers = connected.client.run(peak)
    return {
        "worker_peak_mb": sorted(round(v) for v in workers.values()),
        "client_peak_mb": round(peak()),
        "load_end": round(os.getloadavg()[0], 1),
    }


def pca_cluster(path: str) -> Timed:
    from embedding_projector.compute.distributed import pca
    from embedding_projector.compute.distributed.blocks import Blocks
    from embedding_projector.compute.distributed.tracking import Tracker

    connected = _connect()
    try:
        blocks = Blocks.of(_rows(path))
        started = time.perf_counter()
        found = pca.run(Tracker(connected.client), blocks, "bench")
        seconds = time.perf_counter() - started
        assert found.coordinates.shape == (blocks.shape[0], 10)
        return Timed(seconds, {**_peaks(connected), "blocks": len(blocks.bounds)})
    finally:
        connected.close()


def pca_local(path: str) -> Timed:
    from embedding_projector.compute import pca

    X = np.load(path, mmap_mode="r")
    started = time.perf_counter()
    pca.run(X)
    return Timed(time.perf_counter() - started, {"load_end": round(os.getloadavg()[0], 1)})


def _latencies(query: Any, n: int, repeats: int) -> dict[str, float]:
    rows = np.random.default_rng(1).integers(0, n, repeats + 1)
    query(int(rows[0]))  # first call: numba's kernels are loaded
    times = []
    for row in rows[1:]:
        started = time.perf_counter()
        query(int(row))
        times.append(time.perf_counter() - started)
    p50, p95 = np.percentile(np.array(times) * 1e3, [50, 95])
    return {"p50_ms": round(float(p50), 1), "p95_ms": round(float(p95), 1)}


def knn_cluster(path: str, repeats: int) -> Timed:
    from embedding_projector.compute.distributed.blocks import Blocks
    from embedding_projector.compute.distributed.knn import ShardedIndex

    connected = _connect()
    try:
        blocks = Blocks.of(_rows(path))
        started = time.perf_counter()
        index = ShardedIndex(connected, blocks, "bench", spherize=False)
        build = time.perf_counter() - started
        latency = _latencies(lambda i: index.query(k=K, index=i), blocks.shape[0], repeats)
        extra = {**latency, "build_s": round(build, 1), "shards": len(index._shards)}
        return Timed(latency["p95_ms"] / 1e3, {**extra, **_peaks(connected)})
    finally:
        connected.close()


def knn_local(path: str, repeats: int) -> Timed:
    from embedding_projector.compute import knn

    X = np.load(path, mmap_mode="r")
    started = time.perf_counter()
    index = knn.build(X)
    build = time.perf_counter() - started
    latency = _latencies(lambda i: index.query(k=K, index=i), X.shape[0], repeats)
    extra = {**latency, "build_s": round(build, 1), "load_end": round(os.getloadavg()[0], 1)}
    return Timed(latency["p95_ms"] / 1e3, extra)


def agreement(layout: np.ndarray, labels: np.ndarray) -> float:
    """10-NN label agreement on :data:`AGREEMENT_ROWS` random rows of the layout."""
    from sklearn.model_selection import cross_val_score
    from sklearn.neighbors import KNeighborsClassifier

    n = layout.shape[0]
    rows = np.random.default_rng(0).choice(n, min(n, AGREEMENT_ROWS), replace=False)
    scores = cross_val_score(KNeighborsClassifier(10), layout[rows], labels[rows], cv=5)
    return round(float(scores.mean()), 4)


def embed_cluster(method: str, path: str, labels_path: str) -> Timed:
    """Sample 100,000 + transform of every row, on the cluster, end to end."""
    from embedding_projector.compute.distributed import embed
    from embedding_projector.compute.distributed.blocks import Blocks
    from embedding_projector.compute.distributed.tracking import Tracker
    from embedding_projector.compute.progress import Progress
    from embedding_projector.compute.sample import DEFAULT_SAMPLE, FIT_SHARE

    connected = _connect()
    stages: dict[str, float] = {}

    def note(progress: Progress) -> None:
        if progress.fraction >= FIT_SHARE and "fit_s" not in stages:
            stages["fit_s"] = round(time.perf_counter() - started, 1)

    try:
        blocks = Blocks.of(_rows(path))
        started = time.perf_counter()
        layout = embed.run(
            Tracker(connected.client, note), blocks, method=method, dims=2, seed=0, params={},
            size=DEFAULT_SAMPLE,
        )  # fmt: skip
        seconds = time.perf_counter() - started
        extra = {**stages, **_peaks(connected)}
        extra["agreement"] = agreement(layout, np.load(labels_path))
        return Timed(seconds, extra)
    finally:
        connected.close()


def embed_local(method: str, path: str, labels_path: str, n: int) -> Timed:
    """The same sample + transform path in this one process, on the first ``n`` rows."""
    from embedding_projector.compute import sample, tsne

    X = np.load(path, mmap_mode="r")[:n]
    started = time.perf_counter()
    layout = sample.run(
        method, X, size=sample.DEFAULT_SAMPLE, dims=2, seed=0, params={},
        n_jobs=tsne.threads_for(sample.DEFAULT_SAMPLE),
    )  # fmt: skip
    seconds = time.perf_counter() - started
    extra = {"agreement": agreement(layout, np.load(labels_path)[:n]),
             "load_end": round(os.getloadavg()[0], 1)}  # fmt: skip
    return Timed(seconds, extra)


def tsne_full(path: str, labels_path: str, n: int) -> Timed:
    """t-SNE of all of the first ``n`` rows, in one process."""
    from embedding_projector.compute import tsne

    X = np.ascontiguousarray(np.load(path, mmap_mode="r")[:n])
    started = time.perf_counter()
    layout = tsne.run(X, random_state=0, n_jobs=tsne.threads_for(n))
    seconds = time.perf_counter() - started
    extra = {"agreement": agreement(layout, np.load(labels_path)[:n]),
             "load_end": round(os.getloadavg()[0], 1)}  # fmt: skip
    return Timed(seconds, extra)


def rates_wide(dims: int, rows: int, sample_rows: int, placed: int) -> Timed:
    """Per-row costs of each stage at ``dims`` dimensions, in this one process (the
    rates the docs' 100M x 768 table scales): a block's PCA moments and projection, a
    neighbour-index build and a k = 100 query (its scan rate), and t-SNE / UMAP
    ``transform`` of ``placed`` rows into a layout fitted on ``sample_rows``.

    Each rate twice: wall time (``*_us``) and this process's CPU time (``*_cpu_us``, all
    its threads): on a machine shared with other work the wall time is stretched by the
    load, the CPU time much less, so the CPU time is what scales to a cluster's cores.
    """
    from embedding_projector.compute import knn, pca, sample

    X = np.random.default_rng(0).standard_normal((rows, dims)).astype(np.float32)
    X += np.repeat(np.random.default_rng(1).normal(0, 4, (20, dims)), rows // 20, axis=0)
    shift = X[:1000].mean(axis=0, dtype=np.float64)
    extra: dict[str, Any] = {}

    def clocks() -> tuple[float, float]:
        return time.perf_counter(), time.process_time()

    def per_row(name: str, started: tuple[float, float], count: int) -> None:
        wall, cpu = (now - then for now, then in zip(clocks(), started, strict=True))
        extra[f"{name}_us"] = round(wall / count * 1e6, 2)
        extra[f"{name}_cpu_us"] = round(cpu / count * 1e6, 2)

    started = clocks()
    total, scatter = pca.moments(X, shift)
    per_row("pca_moments", started, rows)
    basis = pca.basis_from_moments(total, scatter, shift, rows, pca.MAX_COMPONENTS)
    started = clocks()
    pca.project(X, basis)
    per_row("pca_project", started, rows)
    started = clocks()
    index = knn.build(X)
    per_row("knn_build", started, rows)
    latency = _latencies(lambda i: index.query(k=K, index=i), rows, 20)
    extra["knn_query_gb_per_s"] = round(rows * dims / (latency["p50_ms"] / 1e3) / 1e9, 2)
    for method in ("tsne", "umap"):
        params = {"n_iter": 250} if method == "tsne" else {"n_epochs": 50}
        started = clocks()
        model, _ = sample.fit(method, X[:sample_rows], dims=2, seed=0, params=params,
                              placing=placed)  # fmt: skip
        extra[f"{method}_fit_{sample_rows}_s"] = round(time.perf_counter() - started[0], 1)
        extra[f"{method}_fit_{sample_rows}_cpu_s"] = round(time.process_time() - started[1], 1)
        sample.transform(method, model, X[sample_rows : sample_rows + 1000])  # kernels loaded
        started = clocks()
        sample.transform(method, model, X[sample_rows : sample_rows + placed])
        per_row(f"{method}_transform", started, placed)
    extra["load_end"] = round(os.getloadavg()[0], 1)
    return Timed(0.0, extra)


def _row(case: str, size: str, ours: dict[str, Any], baseline: str, base: dict[str, Any] | None,
         note: str) -> dict[str, Any]:  # fmt: skip
    row = {
        "benchmark": "dask",
        "case": case,
        "size": size,
        "seconds": round(ours["seconds"], 3),
        "peak_mb": max([round(ours["peak_mb"]), *ours["extra"].get("worker_peak_mb", [])]),
        "baseline": baseline,
        "note": note,
        "ours_extra": ours["extra"],
        "load": ours["load"],
    }
    if base is not None:
        row.update(
            baseline_seconds=round(base["seconds"], 3),
            baseline_peak_mb=round(base["peak_mb"]),
            ratio=round(ours["seconds"] / base["seconds"], 3),
            baseline_extra=base["extra"],
            load=ours["load"] + base["load"],
        )
    return row


def run(smoke: bool) -> Iterator[dict[str, Any]]:
    """The rows of the table (see the module docstring); ``smoke``: PCA of 20,000 rows only
    (a ``LocalCluster`` takes seconds to start; the other cases take minutes at any size)."""
    n = 20_000 if smoke else 10_000_000
    vectors, labels = dataset(n)
    size = f"{n:,} x 64 float32 ({vectors.stat().st_size / 2**30:.2f} GiB .npy)"
    ours, base = measure(Case(f"{_MODULE}:pca_cluster", (str(vectors),)),
                         Case(f"{_MODULE}:pca_local", (str(vectors),)))  # fmt: skip
    yield _row("PCA (10 components), LocalCluster of 2 workers", size, ours,
               "pca.run in one process", base, "peak = largest process")  # fmt: skip
    if smoke:
        return
    repeats = 50
    ours, base = measure(Case(f"{_MODULE}:knn_cluster", (str(vectors), repeats)),
                         Case(f"{_MODULE}:knn_local", (str(vectors), repeats)))  # fmt: skip
    yield _row(f"exact kNN k={K}, query p95 (seconds column), sharded on 2 workers", size, ours,
               "knn.build index in one process, query p95", base,
               "p50/p95 and build times in ours_extra / baseline_extra")  # fmt: skip
    (rates,) = measure(Case(f"{_MODULE}:rates_wide", (768, 200_000, 20_000, 20_000)))
    yield _row("per-row costs at 768 dimensions, one process (the docs' 100M x 768 table)",
               "200,000 x 768 float32 (t-SNE / UMAP fitted on 20,000, 20,000 placed)", rates,
               "none (rates, not a comparison)", None, "rates in ours_extra")  # fmt: skip
    local_n = 1_000_000
    for method in ("umap", "tsne"):
        ours, base = measure(
            Case(f"{_MODULE}:embed_cluster", (method, str(vectors), str(labels))),
            Case(f"{_MODULE}:embed_local", (method, str(vectors), str(labels), local_n)),
        )
        rate = base["seconds"] / local_n
        yield _row(f"{method}: fit on 100,000, transform every row, LocalCluster of 2 workers",
                   size, ours, f"same path in one process on the first {local_n:,} rows", base,
                   f"one process extrapolated to {n:,} rows: {rate * n:,.0f} s")  # fmt: skip
    n128, full_n = 1_000_000, 100_000
    vectors128, labels128 = dataset(n128, 128)
    ours, base = measure(
        Case(f"{_MODULE}:embed_local", ("tsne", str(vectors128), str(labels128), n128)),
        Case(f"{_MODULE}:tsne_full", (str(vectors128), str(labels128), full_n)),
    )
    yield _row("t-SNE of every row by sample (100,000) + transform, one machine",
               f"{n128:,} x 128 float32", ours, f"full t-SNE of {full_n:,} of the rows", base,
               "agreement: ours_extra / baseline_extra")  # fmt: skip

"""Projections and neighbour search on a real Dask ``LocalCluster`` (2 worker processes).

One cluster for the module (starting one takes seconds); the data is 20,000 x 32
labelled blobs in a ``.npy`` that the workers read themselves.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import embedding_projector
from embedding_projector.compute import knn, pca
from embedding_projector.compute.cache import ResultCache
from embedding_projector.compute.distributed import cluster as clusters
from embedding_projector.compute.distributed import pca as distributed_pca
from embedding_projector.compute.distributed.blocks import Blocks
from embedding_projector.compute.distributed.jobs import ClusterJobs
from embedding_projector.compute.distributed.knn import ShardedIndex
from embedding_projector.compute.distributed.tracking import Tracker
from embedding_projector.compute.messages import Control, JobEvent, Progressed
from embedding_projector.compute.spec import parse_spec
from embedding_projector.errors import ChecksumError, ProjectorError
from embedding_projector.formats.rows import StoredRows
from tests.compute.conftest import knn_accuracy

N, D = 20_000, 32
#: Small blocks and shards, so that 20,000 rows make several of each.
BLOCK_BYTES = 320_000


@pytest.fixture(scope="module")
def blobs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray, np.ndarray]:
    """Labelled blobs with an offset (PCA must centre them), and a few exact duplicates."""
    from sklearn.datasets import make_blobs

    X, y = make_blobs(n_samples=N, n_features=D, centers=10, cluster_std=4.0, random_state=0)
    X = (X + 100).astype(np.float32)
    X[[15_000, 19_999]] = X[3]  # ties across shards: the lower row comes first
    path = tmp_path_factory.mktemp("blobs") / "blobs.npy"
    np.save(path, X)
    return path, X, y


@pytest.fixture(scope="module")
def cluster() -> Iterator[clusters.Cluster]:
    connected = clusters.connect("local:2")
    yield connected
    connected.close()


@pytest.fixture(scope="module")
def rows(blobs: tuple[Path, np.ndarray, np.ndarray]) -> StoredRows:
    (embedding,) = embedding_projector.open(blobs[0]).embeddings
    found = embedding.source.rows
    assert isinstance(found, StoredRows)
    return found


@pytest.fixture(scope="module")
def blocks(rows: StoredRows) -> Blocks:
    return Blocks.of(rows, BLOCK_BYTES)


def test_pca_equals_the_single_machine_pca(
    cluster: clusters.Cluster, blocks: Blocks, blobs: tuple[Path, np.ndarray, np.ndarray]
) -> None:
    _, X, _ = blobs
    assert len(blocks.bounds) > 5
    for spherize in (False, True):
        found = distributed_pca.run(Tracker(cluster.client), blocks, "k", spherize=spherize)
        expected = pca.run(_spherized(X) if spherize else X)
        # Signs follow one rule on both (largest loading positive); "up to sign" all the same.
        signs = np.sign((found.coordinates * expected.coordinates).sum(axis=0))
        np.testing.assert_allclose(
            found.coordinates * signs,
            expected.coordinates,
            atol=1e-5 * np.abs(expected.coordinates).max(),
        )
        np.testing.assert_allclose(
            found.explained_variance_ratio, expected.explained_variance_ratio, rtol=1e-6
        )


def _spherized(X: np.ndarray) -> np.ndarray:
    from embedding_projector.compute import preprocess

    return preprocess.spherize(X)


@pytest.mark.parametrize("spherize", [False, True])
def test_sharded_neighbours_equal_brute_force(
    cluster: clusters.Cluster,
    blocks: Blocks,
    blobs: tuple[Path, np.ndarray, np.ndarray],
    spherize: bool,
) -> None:
    _, X, _ = blobs
    index = ShardedIndex(cluster, blocks, "k", spherize=spherize, shard_bytes=BLOCK_BYTES)
    assert len(index._shards) >= 4
    space = _spherized(X).astype(np.float64) if spherize else X.astype(np.float64)
    targets: list[dict[str, Any]] = [
        {"index": 3},  # its duplicates, rows 15,000 and 19,999, come first, in that order
        {"index": 19_999},
        {"indices": [1, 2, 12_000, 19_000]},
        {"vector": X[77] + 0.5},
        {"vector": np.zeros(D)},
    ]
    for target in targets:
        for metric in ("cosine", "euclidean"):
            found = index.query(k=30, metric=metric, **target)
            expected = _brute_force(space, X, target, metric, 30, spherize)
            np.testing.assert_array_equal(found.indices, expected)
            local = knn.build(X, spherize=spherize).query(k=30, metric=metric, **target)
            np.testing.assert_array_equal(found.indices, local.indices)
            np.testing.assert_array_equal(found.distances, local.distances)
    assert index.query(k=2, index=3).indices.tolist() == [15_000, 19_999]
    index.close()


def _brute_force(
    space: np.ndarray, X: np.ndarray, target: dict[str, Any], metric: str, k: int, spherize: bool
) -> np.ndarray:
    """Float64 distances to every row; ties by the lower row."""
    from embedding_projector.compute import preprocess

    exclude = np.array(target.get("indices", [target.get("index")]) if "vector" not in target
                       else [], dtype=np.int64)  # fmt: skip
    if "vector" in target:
        raw = np.asarray(target["vector"], np.float32).reshape(1, -1)
        centre = preprocess.centroid(X)
        query = preprocess.spherize_rows(raw, centre)[0] if spherize else raw[0].astype(float)
    else:
        query = knn.centroid_query(space[exclude], metric)
    if metric == "euclidean":
        distance = np.sqrt(((space - query) ** 2).sum(axis=1))
    else:
        norms = np.sqrt((space * space).sum(axis=1)) * np.sqrt((query * query).sum())
        distance = np.where(
            norms > 0, 1 - (space * query).sum(axis=1) / np.where(norms > 0, norms, 1), 1.0
        )
    distance[exclude] = np.inf
    return np.lexsort((np.arange(len(space)), distance))[:k]


def run_job(jobs: ClusterJobs, key: str, request: dict[str, Any], *, on_progress: Any = None,
            timeout: float = 600) -> dict[str, Any]:  # fmt: skip
    """Run one job on the cluster as the job manager would; returns its messages by kind."""
    spec = parse_spec(request, N, D)
    messages: dict[str, Any] = {"progress": []}
    ended = threading.Event()

    def deliver(event: JobEvent) -> None:
        kind = type(event).__name__.lower()
        if isinstance(event, Progressed):
            messages["progress"].append(event)
            if on_progress is not None:
                on_progress(event)
        else:
            messages[kind] = event
        if kind in ("done", "failed", "cancelled"):
            ended.set()

    messages["handle"] = jobs.start("job", spec, key, f"result-{time.monotonic()}", deliver)
    assert ended.wait(timeout), f"the job did not end: {messages['progress'][-3:]}"
    return messages


@pytest.fixture(scope="module")
def jobs(
    cluster: clusters.Cluster, rows: StoredRows, tmp_path_factory: pytest.TempPathFactory
) -> tuple[ClusterJobs, str]:
    running = ClusterJobs(cluster, ResultCache(tmp_path_factory.mktemp("cache")))
    return running, running.register(rows)


# Each worker compiles UMAP's numba kernels at its first UMAP: minutes on shared cores.
@pytest.mark.timeout(900)
@pytest.mark.parametrize("method", ["tsne", "umap"])
def test_sample_and_transform_keeps_the_blobs_apart(
    jobs: tuple[ClusterJobs, str], blobs: tuple[Path, np.ndarray, np.ndarray], method: str
) -> None:
    _, _, y = blobs
    cluster_jobs, key = jobs
    shorter = {"tsne": {"n_iter": 250}, "umap": {"n_epochs": 100}}[method]
    request = {"method": method, "seed": 0, "params": {"sample": 2_000, **shorter}}
    messages = run_job(cluster_jobs, key, request)
    assert "done" in messages, messages.get("failed")
    layout = messages["done"].result
    assert layout.shape == (N, 2) and layout.dtype == np.float32
    assert np.isfinite(layout).all() and (np.abs(layout).sum(axis=1) > 0).all()
    assert knn_accuracy(layout, y) >= 0.9
    fractions = [p.fraction for p in messages["progress"]]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert any("placing rows" in p.message for p in messages["progress"])


def test_a_worker_killed_mid_job_is_survived(
    cluster: clusters.Cluster, jobs: tuple[ClusterJobs, str]
) -> None:
    """The fit's worker is killed: Dask runs the task again on a worker (the nanny restarts
    the dead one) and the job ends done, or it fails naming the worker."""
    cluster_jobs, key = jobs
    pids = cluster.client.run(os.getpid)
    killed: list[str] = []

    def kill_the_fitting_worker(progress: Progressed) -> None:
        if killed:
            return
        busy = [
            w
            for w, tasks in cluster.client.processing().items()
            if any("fit_sample" in str(t) for t in tasks)
        ]
        if busy:
            killed.append(busy[0])
            os.kill(pids[busy[0]], signal.SIGKILL)

    request = {"method": "tsne", "seed": 1, "params": {"sample": 1_000, "n_iter": 300}}
    messages = run_job(cluster_jobs, key, request, on_progress=kill_the_fitting_worker)
    assert killed, "no worker was seen fitting"
    if "failed" in messages:
        assert killed[0] in messages["failed"].error
    else:
        assert messages["done"].result.shape == (N, 2)
    cluster.client.wait_for_workers(2, timeout=120)
    assert len(cluster.workers()) == 2


def test_cancel_stops_the_job_and_its_tasks(
    cluster: clusters.Cluster, jobs: tuple[ClusterJobs, str]
) -> None:
    cluster_jobs, key = jobs
    stopped: list[bool] = []

    def stop_once() -> None:
        if not stopped:
            stopped.append(True)
            messages_holder["handle"].send(Control("job", "stop"))

    messages_holder: dict[str, Any] = {}
    request = {"method": "tsne", "seed": 2, "params": {"sample": 1_000, "n_iter": 5_000}}
    spec = parse_spec(request, N, D)
    ended = threading.Event()
    kinds: list[str] = []

    def deliver(event: JobEvent) -> None:
        kind = type(event).__name__.lower()
        kinds.append(kind)
        if kind == "progressed":
            stop_once()
        if kind in ("done", "failed", "cancelled"):
            ended.set()

    started = time.monotonic()
    messages_holder["handle"] = cluster_jobs.start("job", spec, key, "cancelled-result", deliver)
    assert ended.wait(120)
    assert kinds[-1] == "cancelled"
    assert time.monotonic() - started < 120
    # The fit, released but not interrupted, sees the stop and frees its worker (5,000
    # iterations would hold it for minutes on a loaded machine, and the tests after this).
    while any(cluster.client.run(_executing).values()):
        assert time.monotonic() - started < 120, "a stopped job's task still runs"
        time.sleep(0.5)


def _executing(dask_worker: Any) -> int:
    return len(dask_worker.state.executing)


def test_a_worker_that_cannot_see_the_file_names_itself_and_the_path(
    cluster: clusters.Cluster, rows: StoredRows, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere.npy"
    missing = StoredRows(dataclasses.replace(rows.stored, path=elsewhere, root=None))
    running = ClusterJobs(cluster, ResultCache(tmp_path / "cache"))
    with pytest.raises(ProjectorError) as caught:
        running.register(missing)
    message = str(caught.value)
    assert "Dask worker tcp://127.0.0.1:" in message
    assert f"{elsewhere}: file not found" in message
    assert "\n" not in message


def test_a_corrupt_checkpoint_fails_its_crc_on_the_workers(
    cluster: clusters.Cluster, tmp_path: Path
) -> None:
    from tests.support.tf_bundle_writer import BundleWriter

    vectors = np.random.default_rng(0).normal(size=(3_000, 16)).astype(np.float32)
    with BundleWriter(tmp_path / "ckpt") as writer:
        writer.add("emb", vectors)
    (embedding,) = embedding_projector.open(tmp_path / "ckpt").embeddings
    rows = embedding.source.rows
    assert isinstance(rows, StoredRows)
    running = ClusterJobs(cluster, ResultCache(tmp_path / "cache"))
    assert len(running.register(rows)) == 32
    data_file = rows.stored.path
    with data_file.open("r+b") as file:  # one bit of row 2,500, size and mtime kept
        info = os.stat(data_file)
        file.seek(rows.stored.offset + 4 * 16 * 2_500)
        byte = file.read(1)
        file.seek(-1, os.SEEK_CUR)
        file.write(bytes([byte[0] ^ 0x01]))
    os.utime(data_file, ns=(info.st_atime_ns, info.st_mtime_ns))
    with pytest.raises(ChecksumError, match="fails its CRC32C check"):
        running.register(rows)


def test_workers_of_another_version_are_refused(tmp_path: Path) -> None:
    """A worker whose environment has another embedding-projector is named, with both
    versions: a real ``dask worker`` process whose PYTHONPATH finds version 0.0.1 first."""
    import subprocess
    import sys
    from importlib import metadata

    from distributed import Client, LocalCluster

    fake = tmp_path / "site"
    info = fake / "embedding_projector-0.0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: embedding-projector\nVersion: 0.0.1\n"
    )
    env = {**os.environ, "PYTHONPATH": f"{fake}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    with LocalCluster(n_workers=0, dashboard_address=":0") as scheduler:
        worker = subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_worker", scheduler.scheduler_address,
             "--nthreads", "1", "--no-dashboard"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            with Client(scheduler) as watching:  # its start takes long on a loaded machine
                watching.wait_for_workers(1, timeout=240)
            with pytest.raises(ProjectorError) as caught:
                clusters.connect(scheduler.scheduler_address)
        finally:
            worker.terminate()
            worker.wait(timeout=60)
    message = str(caught.value)
    assert "runs embedding-projector 0.0.1" in message
    assert f"this server {metadata.version('embedding-projector')}" in message
    assert "Dask worker tcp://" in message


def test_a_lost_scheduler_fails_the_job_with_a_clear_message(
    blobs: tuple[Path, np.ndarray, np.ndarray], rows: StoredRows, tmp_path: Path
) -> None:
    lost = clusters.connect("local:1")
    running = ClusterJobs(lost, ResultCache(tmp_path / "cache"))
    key = running.register(rows)
    request = {"method": "tsne", "seed": 3, "params": {"sample": 1_000, "n_iter": 5_000}}
    closed: list[bool] = []

    def close_the_cluster(progress: Progressed) -> None:
        if not closed and progress.fraction > 0.05:
            closed.append(True)
            threading.Thread(target=lost.local.close).start()

    try:
        messages = run_job(running, key, request, on_progress=close_the_cluster, timeout=300)
    finally:
        lost.close()
    assert closed
    assert "lost the Dask scheduler at tcp://127.0.0.1:" in messages["failed"].error


def test_a_local_cluster_waits_for_a_starved_reader(cluster: clusters.Cluster) -> None:
    """The LocalCluster's connections, the client's and the workers', abort only after a
    peer has left data unread for 300 s, not distributed's 30 s (``TCP_USER_TIMEOUT``,
    in ms): a starved event loop on a loaded machine is not a dead process."""
    import socket

    user_timeout = 18  # TCP_USER_TIMEOUT, Linux
    expected = 300_000

    def of_the_scheduler_stream(dask_worker: Any) -> int:
        sock = dask_worker.batched_stream.comm.stream.socket
        return int(sock.getsockopt(socket.SOL_TCP, user_timeout))

    ours = cluster.client.scheduler_comm.comm.stream.socket.getsockopt(socket.SOL_TCP, user_timeout)
    assert ours == expected
    assert set(cluster.client.run(of_the_scheduler_stream).values()) == {expected}


def test_an_unreachable_scheduler_is_one_sentence() -> None:
    started = time.monotonic()
    with pytest.raises(
        ProjectorError, match=r"cannot reach the Dask scheduler at tcp://127\.0\.0\.1:9"
    ):
        clusters.connect("tcp://127.0.0.1:9")
    assert time.monotonic() - started < 60

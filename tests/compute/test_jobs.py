"""The job engine, with real worker processes (spawned once per module where possible)."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from embedding_projector.compute import jobs as jobs_module
from embedding_projector.compute import worker as worker_module
from embedding_projector.compute.jobs import (
    CANCEL_GRACE,
    MAX_FINISHED_JOBS,
    JobManager,
    JobNotReadyError,
)
from embedding_projector.compute.jobstate import JobExpiredError
from embedding_projector.errors import InvalidParameterError, NotFoundError


@pytest.fixture(scope="module")
def manager(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JobManager]:
    with JobManager(n_workers=2, cache_dir=tmp_path_factory.mktemp("jobs-cache")) as jobs:
        yield jobs


@pytest.fixture(scope="module")
def blobs() -> np.ndarray:
    """600 points in 4 well separated clusters of 16 dimensions."""
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((4, 16)) * 10
    return (centres[np.arange(600) % 4] + rng.standard_normal((600, 16))).astype(np.float32)


def wait_for(
    manager: JobManager, job: str, states: tuple[str, ...], timeout: float = 60
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while (status := manager.status(job))["state"] not in states:
        assert time.monotonic() < deadline, status
        time.sleep(0.02)
    return status


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_pca_job_and_components_from_the_cache(manager: JobManager, blobs: np.ndarray) -> None:
    key = manager.register(blobs)
    first = manager.submit(key, {"method": "pca", "dims": 3})
    status = wait_for(manager, first, ("done", "failed"))
    assert status["state"] == "done", status
    assert len(status["explained_variance_ratio"]) == 10
    assert manager.result(first).shape == (600, 3)

    other = manager.submit(key, {"method": "pca", "dims": 2, "params": {"components": [3, 1]}})
    status = manager.status(other)
    assert status["state"] == "done" and status["cached"]  # no recomputation
    full = manager.submit(key, {"method": "pca", "dims": 3, "params": {"components": [3, 1, 0]}})
    np.testing.assert_array_equal(manager.result(full)[:, 1:], manager.result(first)[:, [1, 0]])


def test_tsne_streams_progress_and_layouts(manager: JobManager, blobs: np.ndarray) -> None:
    job = manager.submit(blobs, {"method": "tsne", "params": {"n_iter": 200}, "seed": 1})

    async def collect() -> list[dict[str, Any]]:
        return [event async for event in manager.subscribe(job)]

    events = asyncio.run(collect())
    progress = [e["progress"] for e in events]
    assert progress == sorted(progress) and progress[-1] == 1.0
    assert events[-1]["state"] == "done"
    assert events[-1]["coordinates"].shape == (600, 2)
    assert any(e["coordinates"] is not None for e in events[:-1])  # intermediate layouts
    assert manager.result(job).dtype == np.float32


def test_an_overlap_streams_its_status_but_no_layout(
    manager: JobManager, blobs: np.ndarray
) -> None:
    """Per-point numbers (an overlap, an analysis) are fetched from the result, never
    streamed as a layout: a 1-D result made the stream's layout frame fail."""
    job = manager.submit_overlap(
        manager.register(blobs), manager.register(blobs[:, ::-1].copy()), {}
    )

    async def collect() -> list[dict[str, Any]]:
        return [event async for event in manager.subscribe(job)]

    events = asyncio.run(collect())
    assert events[-1]["state"] == "done"
    assert all(e["coordinates"] is None for e in events)
    assert manager.result(job).shape == (600, 1)


def test_pause_resume_perturb_and_cancel(manager: JobManager, blobs: np.ndarray) -> None:
    job = manager.submit(blobs, {"method": "tsne", "params": {"n_iter": 5000}, "seed": 2})
    wait_for(manager, job, ("running",))
    while (manager.status(job)["iteration"] or 0) < 30:
        time.sleep(0.02)
    manager.pause(job)
    deadline = time.monotonic() + 10
    while not manager.status(job)["paused"]:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    paused_at = manager.status(job)["iteration"]
    time.sleep(0.3)
    assert manager.status(job)["iteration"] == paused_at
    manager.perturb(job)
    manager.resume(job)
    while manager.status(job)["iteration"] == paused_at:
        time.sleep(0.02)
    started = time.monotonic()
    assert manager.cancel(job)["state"] == "cancelling"
    assert manager.status(job)["state"] in ("cancelling", "cancelled")
    with pytest.raises(JobNotReadyError):
        manager.pause(job)  # being stopped: no more control
    status = wait_for(manager, job, ("cancelled",), timeout=5)
    assert time.monotonic() - started < 1.0
    assert status["has_layout"]
    assert manager.result(job).shape == (600, 2)  # the partial layout
    with pytest.raises(JobNotReadyError):
        manager.pause(job)


def test_asking_again_while_a_job_is_cancelling_starts_a_new_one(
    manager: JobManager, blobs: np.ndarray
) -> None:
    spec = {"method": "tsne", "dims": 2, "seed": 21, "params": {"n_iter": 5000}}
    first = manager.submit(blobs, spec)
    wait_for(manager, first, ("running",))
    manager.cancel(first)
    again = manager.submit(blobs, spec)  # the page changed its mind back
    assert again != first
    assert manager.status(again)["state"] in ("queued", "running")
    manager.cancel(again)
    for job in (first, again):
        assert wait_for(manager, job, ("cancelled",), timeout=5)["state"] == "cancelled"


def test_a_job_that_does_not_stop_in_time_is_killed_and_its_worker_replaced(
    tmp_path: Path, blobs: np.ndarray
) -> None:
    with JobManager(n_workers=1, cache_dir=tmp_path) as jobs:
        # A cold worker imports umap and compiles its kernels for seconds after its
        # first report, deaf to a stop meanwhile.
        job = jobs.submit(blobs, {"method": "umap", "seed": 0})
        wait_for(jobs, job, ("running",))
        while jobs.status(job)["message"] != "finding nearest neighbours":
            time.sleep(0.01)
        (before,) = jobs._pool.workers
        started = time.monotonic()
        assert jobs.cancel(job)["state"] == "cancelling"
        status = wait_for(jobs, job, ("cancelled", "failed", "done"), timeout=5)
        assert status["state"] == "cancelled", status
        assert CANCEL_GRACE <= time.monotonic() - started < 1.0
        assert not status["has_layout"]  # it had none to keep
        with pytest.raises(JobNotReadyError):
            jobs.result(job)
        # A new worker takes the next job.
        after = jobs.submit(blobs, {"method": "pca"})
        assert wait_for(jobs, after, ("done", "failed"))["state"] == "done"
        (replacement,) = jobs._pool.workers
        assert replacement is not before and not alive(before.process.pid)


def test_a_failing_job_reports_its_error(manager: JobManager, tmp_path: Path) -> None:
    X = np.random.default_rng(5).standard_normal((100, 4)).astype(np.float32)
    key = manager.register(X)
    manager.cache.vectors_path(key).write_bytes(b"not an npy file")  # damaged behind our back
    job = manager.submit(key, {"method": "pca"})
    status = wait_for(manager, job, ("done", "failed"))
    assert status["state"] == "failed"
    assert status["error"]
    with pytest.raises(JobNotReadyError):
        manager.result(job)
    # The manager and its workers carry on.
    again = manager.submit(X * 2, {"method": "pca"})
    assert wait_for(manager, again, ("done", "failed"))["state"] == "done"


def test_a_crashed_worker_fails_its_job_and_is_replaced(
    manager: JobManager, blobs: np.ndarray
) -> None:
    job = manager.submit(blobs, {"method": "tsne", "params": {"n_iter": 5000}, "seed": 3})
    wait_for(manager, job, ("running",))
    worker = next(w for w, running in manager._running.items() if running.id == job)
    os.kill(worker.process.pid, 9)
    status = wait_for(manager, job, ("done", "failed", "cancelled"))
    assert status["state"] == "failed"
    assert "worker process died" in status["error"]
    after = manager.submit(blobs + 1, {"method": "pca"})
    assert wait_for(manager, after, ("done", "failed"))["state"] == "done"


def test_invalid_specs_are_rejected_at_once(manager: JobManager, blobs: np.ndarray) -> None:
    key = manager.register(blobs)
    cases = [
        ({"method": "lda"}, "`method` must be one of"),
        (
            {"method": "tsne", "params": {"perplexity": 300}},
            "`perplexity` must be >= 2 and <= 100, got 300",
        ),
        ({"method": "tsne", "params": {"perplexity": 2.0, "foo": 1}}, "unknown parameter `foo`"),
        ({"method": "umap", "dims": 4}, "`dims` must be one of 2, 3"),
        ({"method": "pca", "params": {"components": [0, 10]}}, "`components` must be between"),
        ({"method": "pca", "seed": -1}, "`random_state` must be between"),
    ]
    for spec, message in cases:
        with pytest.raises(InvalidParameterError, match=message):
            manager.submit(key, spec)
    small = manager.register(blobs[:30])
    with pytest.raises(
        InvalidParameterError, match=r"`perplexity` must be < \(n_samples - 1\) / 3"
    ):
        manager.submit(small, {"method": "tsne", "params": {"perplexity": 30}})
    with pytest.raises(NotFoundError):
        manager.submit("0" * 32, {"method": "pca"})
    with pytest.raises(NotFoundError):
        manager.status("no-such-job")


class _ClusterStandIn:
    """Where vectors registered elsewhere are: all a refusal asks before anything would start.

    A job on it would fail the test (``start`` is not defined): the refusal must come first.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def location(self, key: str) -> str:
        return str(self.path)


def test_timelines_analyses_and_overlaps_of_vectors_on_a_cluster_are_refused(
    manager: JobManager, blobs: np.ndarray, tmp_path: Path
) -> None:
    here = manager.register(blobs)
    elsewhere = "c" * 32
    manager.register_elsewhere(elsewhere, blobs.shape, _ClusterStandIn(tmp_path / "rows.npy"))
    for steps in ([here, elsewhere], [elsewhere, here]):
        with pytest.raises(
            InvalidParameterError,
            match="timelines and drift are computed on this machine only, and these vectors "
            "are on the Dask cluster",
        ):
            manager.submit_timeline(steps, {"method": "pca"})
    with pytest.raises(InvalidParameterError, match="faithfulness and clusters are computed"):
        manager.submit_analysis(elsewhere, lambda n: pytest.fail("no analysis is built"))
    for a, b in ((here, elsewhere), (elsewhere, here)):
        with pytest.raises(InvalidParameterError, match="overlaps are computed on this machine"):
            manager.submit_overlap(a, b, {"k": 5})
    # The same steps on this machine make a timeline.
    job = manager.submit_timeline([here, manager.register(blobs[::-1].copy())], {"method": "pca"})
    assert wait_for(manager, job, ("done", "failed"))["state"] == "done"


def test_cache_hit_across_managers(tmp_path: Path, blobs: np.ndarray) -> None:
    spec = {"method": "tsne", "params": {"n_iter": 60, "perplexity": 10}, "seed": 0}
    with JobManager(n_workers=1, cache_dir=tmp_path) as first:
        job = first.submit(blobs, spec)
        assert wait_for(first, job, ("done", "failed"))["state"] == "done"
        expected = first.result(job).tobytes()
        pids = [w.process.pid for w in first._pool.workers]
    assert not any(alive(pid) for pid in pids)  # close() leaves no process behind
    with JobManager(n_workers=1, cache_dir=tmp_path) as second:
        started = time.monotonic()
        job = second.submit(blobs, spec)
        status = second.status(job)
        assert status["state"] == "done" and status["cached"]
        assert second.result(job).tobytes() == expected
        assert time.monotonic() - started < 1.0


def test_warm_up_leaves_a_worker_free(tmp_path: Path, blobs: np.ndarray) -> None:
    with JobManager(n_workers=2, cache_dir=tmp_path) as jobs:
        jobs.warm_up_umap()
        job = jobs.submit(blobs, {"method": "pca", "dims": 2})
        # A UMAP compile takes a worker for up to a minute; the PCA must not wait for it.
        assert wait_for(jobs, job, ("done", "failed"), timeout=30)["state"] == "done"


def test_warm_up_waits_for_the_first_job_to_end(tmp_path: Path, blobs: np.ndarray) -> None:
    # The first paint's projection has the cores to itself: no compile competes with it.
    with JobManager(n_workers=2, cache_dir=tmp_path) as jobs:
        jobs.warm_up_umap()
        time.sleep(1.0)
        assert not jobs._warming and not jobs._warm
        job = jobs.submit(blobs, {"method": "pca", "dims": 2})
        assert wait_for(jobs, job, ("done", "failed"), timeout=30)["state"] == "done"
        deadline = time.monotonic() + 10
        while not (jobs._warming or jobs._warm) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert jobs._warming or jobs._warm


def test_umap_job_after_warm_up(manager: JobManager, blobs: np.ndarray) -> None:
    manager.warm_up_umap()
    job = manager.submit(blobs, {"method": "umap", "dims": 3, "params": {"n_epochs": 50}})
    status = wait_for(manager, job, ("done", "failed"), timeout=600)
    assert status["state"] == "done", status
    assert manager.result(job).shape == (600, 3)


def test_the_same_projection_asked_twice_while_running_is_one_job(
    manager: JobManager, blobs: np.ndarray
) -> None:
    spec = {"method": "tsne", "dims": 2, "seed": 11, "params": {"n_iter": 3000}}
    first = manager.submit(blobs, spec)
    assert manager.submit(blobs, spec) == first  # a reloaded page follows the running job
    other = manager.submit(blobs, {**spec, "seed": 12})
    assert other != first
    for job in (first, other):
        manager.cancel(job)


def test_finished_jobs_are_forgotten_beyond_a_count_and_say_so(
    manager: JobManager, blobs: np.ndarray
) -> None:
    key = manager.register(blobs)
    first = manager.submit(key, {"method": "pca", "dims": 2})
    wait_for(manager, first, ("done",))
    components = [[0, 1], [1, 2], [2, 3], [3, 4]]
    ids = [
        manager.submit(key, {"method": "pca", "params": {"components": components[i % 4]}})
        for i in range(1_000)
    ]
    assert len(manager._jobs) <= MAX_FINISHED_JOBS
    assert len(manager._finished) <= MAX_FINISHED_JOBS
    for recent in ids[-MAX_FINISHED_JOBS:]:
        assert manager.status(recent)["state"] == "done"
    np.testing.assert_array_equal(manager.result(ids[-1]), manager.result(ids[-5]))
    for gone in (first, ids[0]):
        with pytest.raises(JobExpiredError, match="ask for the projection again") as expired:
            manager.status(gone)
        assert expired.value.status == 404 and expired.value.code == "job_expired"
        with pytest.raises(JobExpiredError):
            manager.result(gone)
    # Asking again is a cache hit, under a new id.
    again = manager.submit(key, {"method": "pca", "dims": 2})
    assert manager.status(again)["cached"]
    # An id that was never ours is not "expired".
    with pytest.raises(NotFoundError, match="no job") as unknown:
        manager.status("no-such-job")
    assert not isinstance(unknown.value, JobExpiredError)


def test_finished_jobs_are_forgotten_beyond_a_size(
    manager: JobManager, blobs: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = manager.register(blobs)
    wait_for(manager, manager.submit(key, {"method": "pca"}), ("done",))
    one = manager._jobs[manager.submit(key, {"method": "pca"})].nbytes
    assert one == 600 * 10 * 4  # all ten components are held
    monkeypatch.setattr(jobs_module, "MAX_HELD_BYTES", 3 * one)
    ids = [manager.submit(key, {"method": "pca"}) for _ in range(20)]
    assert manager._held_bytes <= 3 * one
    assert manager._held_bytes == sum(job.nbytes for job in manager._finished.values())
    assert [manager.status(job)["state"] for job in ids[-3:]] == ["done"] * 3
    with pytest.raises(JobExpiredError):
        manager.status(ids[-4])
    # The newest job is kept whatever its size: its page is about to read it.
    monkeypatch.setattr(jobs_module, "MAX_HELD_BYTES", 1)
    newest = manager.submit(key, {"method": "pca"})
    assert list(manager._finished) == [newest]
    assert manager.result(newest).shape == (600, 2)


def test_a_worker_computes_at_full_priority_then_steps_down_for_long_jobs(
    tmp_path: Path, blobs: np.ndarray
) -> None:
    """A first PCA runs at the server's priority; a long t-SNE puts the worker below it."""
    with JobManager(n_workers=1, cache_dir=tmp_path) as jobs:
        (worker,) = jobs._pool.workers
        short = jobs.submit(blobs, {"method": "pca", "dims": 2})
        assert wait_for(jobs, short, ("done", "failed"))["state"] == "done"
        assert os.getpriority(os.PRIO_PROCESS, worker.process.pid) == 0
        long = jobs.submit(blobs, {"method": "tsne", "params": {"n_iter": 5000}, "seed": 3})
        wait_for(jobs, long, ("running",))
        deadline = time.monotonic() + 30
        while os.getpriority(os.PRIO_PROCESS, worker.process.pid) == 0:
            assert time.monotonic() < deadline, "the worker never stepped down"
            time.sleep(0.1)
        assert (
            os.getpriority(os.PRIO_PROCESS, worker.process.pid) == worker_module.BACKGROUND_NICENESS
        )
        jobs.cancel(long)

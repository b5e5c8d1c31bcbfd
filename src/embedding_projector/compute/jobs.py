"""The job engine: projections in worker processes, with progress, control and a cache.

One :class:`JobManager` per server. It queues jobs and schedules them on a
:class:`.pool.WorkerPool` of ``n_workers`` spawned processes kept alive between
jobs (a spawned worker takes about a second to import numpy and our modules,
and UMAP's numba kernels are compiled once per process), shares the vectors
with them through a content-addressed ``.npy`` that they memory-map, and
applies what they report (:mod:`.messages`) to the jobs (:mod:`.jobstate`).

Finished jobs are kept for a while, so that their page can read the result,
then forgotten: the newest :data:`MAX_FINISHED_JOBS`, within
:data:`MAX_HELD_BYTES` of results. Their results stay in the disk cache, so
asking again is a cache hit; asking about a forgotten job is a 404 that says so
(:class:`.jobstate.JobExpiredError`).

From an event loop: :meth:`JobManager.register` and :meth:`JobManager.submit`
take time that grows with the data (hashing and writing the vectors once;
validating labels and reading a cached result), so the server calls them through
``asyncio.to_thread``. Every other method returns at once (a dictionary update
under a lock that is never held for long, and at most a small message down a
pipe). :meth:`JobManager.subscribe` is an async iterator that never blocks the
loop: the reader thread wakes it with ``loop.call_soon_threadsafe``.

Typical use from FastAPI::

    manager = JobManager()                       # at startup
    manager.warm_up_umap()
    key = await asyncio.to_thread(manager.register, vectors)
    job = await asyncio.to_thread(manager.submit, key, body)   # 400 on InvalidParameterError
    manager.status(job); manager.cancel(job)
    async for event in manager.subscribe(job):   # in a WebSocket handler
        await ws.send_json({k: v for k, v in event.items() if k != "coordinates"})
        if event["coordinates"] is not None:
            await ws.send_bytes(event["coordinates"].tobytes())
    manager.close()                              # at shutdown
"""

from __future__ import annotations

import asyncio
import itertools
import os
import threading
import uuid
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from embedding_projector.compute.analyses import AnalysisSpec
from embedding_projector.compute.cache import DEFAULT_MAX_BYTES, ResultCache, result_key
from embedding_projector.compute.jobstate import (
    ON_A_WORKER,
    TERMINAL,
    Job,
    JobExpiredError,
    JobNotReadyError,
    TimelineJob,
    Watcher,
)
from embedding_projector.compute.messages import (
    Action,
    Control,
    Event,
    JobEvent,
    Ready,
    Warmed,
    WarmUp,
)
from embedding_projector.compute.pool import WorkerPool, WorkerProcess
from embedding_projector.compute.spec import AnySpec, JobSpec, overlap_spec, parse_spec
from embedding_projector.compute.validation import check_vectors
from embedding_projector.errors import InvalidParameterError, NotFoundError

#: Seconds a job asked to stop has to stop by itself before its worker is killed
#: (docs/decisions.md has the measurements behind it).
CANCEL_GRACE = 0.5
#: Finished jobs kept in memory (the newest), for their status and result.
MAX_FINISHED_JOBS = 128
#: Bytes of results and layouts that finished jobs may hold together (the newest is
#: always kept, whatever its size).
MAX_HELD_BYTES = 256 * 2**20


class JobManager:
    """Runs projection jobs in worker processes; see the module docstring.

    Parameters
    ----------
    n_workers
        Worker processes; default: the number of cores.
    cache_dir
        Cache directory (default :func:`.cache.default_cache_dir`).
    max_cache_bytes
        Size cap of the cache directory.
    """

    def __init__(
        self,
        *,
        n_workers: int | None = None,
        cache_dir: str | Path | None = None,
        max_cache_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self.cache = ResultCache(cache_dir, max_bytes=max_cache_bytes)
        self._lock = threading.RLock()
        self._cache_reads = threading.Lock()
        self._jobs: dict[str, Job] = {}
        self._queue: deque[Job] = deque()
        # Ended jobs, oldest first, and the bytes they hold.
        self._finished: OrderedDict[str, Job] = OrderedDict()
        self._held_bytes = 0
        # Job ids are "<this manager>-<n>": an id of ours that is gone has expired.
        self._id_prefix = uuid.uuid4().hex[:16]
        self._counter = itertools.count()
        self._vectors: dict[str, tuple[Path, tuple[int, int]]] = {}
        self._elsewhere: dict[str, tuple[tuple[int, int], Any]] = {}
        # Scheduling: which worker runs which job, which are (being) warmed for UMAP.
        self._running: dict[WorkerProcess, Job] = {}
        self._warm: set[WorkerProcess] = set()
        self._warming: set[WorkerProcess] = set()
        self._warm_wanted = False
        self._closed = False
        count = n_workers if n_workers is not None else os.cpu_count() or 1
        self._pool = WorkerPool(count, self.cache, self)
        self._pool.start()  # its reader thread calls us back: everything above is set

    def __enter__(self) -> JobManager:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- submitting ----------------------------------------------------------

    def register(self, vectors: np.ndarray) -> str:
        """Store ``vectors`` for the workers (once per content); returns their key.

        Blocking: hashes the data and, the first time, writes it to the cache
        directory (about a second for 1M x 128). Call it from a thread.
        """
        X = check_vectors(vectors)
        key, path = self.cache.store_vectors(X)
        with self._lock:
            self._vectors[key] = (path, X.shape)
            in_use = [registered for registered, _ in self._vectors.values()]
        self.cache.evict(keep_vectors=in_use)
        return key

    def register_elsewhere(self, key: str, shape: tuple[int, int], runner: Any) -> None:
        """Vectors whose jobs run elsewhere (a Dask cluster), under their content ``key``.

        ``runner.start(job_id, spec, key, cache_key, deliver)`` starts a job and returns
        its handle, which the manager controls as a worker (``send(Control(...))``; a
        handle with ``controls = False`` takes stop only); ``deliver(event)`` takes the
        messages a worker sends about a job (:mod:`.messages`). ``runner.location(key)``
        says where the vectors are.
        """
        with self._lock:
            self._elsewhere[key] = (shape, runner)

    def submit(self, vectors: str | np.ndarray, spec: dict[str, Any]) -> str:
        """Queue a projection of ``vectors`` (a key from :meth:`register`, or an array).

        Blocking for up to tens of milliseconds (a cache hit reads the result;
        t-SNE labels are validated): call it from a thread. ``spec`` is
        ``{"method", "dims", "spherize", "params", "seed"}`` (see :mod:`.spec`).
        A result already in the cache makes the job ``done`` at once. Returns
        the job id.

        Raises
        ------
        InvalidParameterError
            For an invalid spec; nothing is queued.
        NotFoundError
            For an unknown vectors key.
        """
        key = vectors if isinstance(vectors, str) else self.register(vectors)
        path, shape, runner = self._registered(key)
        return self._enqueue(key, path, parse_spec(spec, *shape), runner)

    def submit_overlap(self, vectors: str, compared: str, params: dict[str, Any]) -> str:
        """Queue the overlap of two embeddings' k-NN sets (:mod:`.overlap`); returns the job id.

        ``vectors`` and ``compared`` are keys from :meth:`register` of vectors with the
        same number of rows, row ``i`` of both the same item; ``params`` is
        ``{"k", "metric"}``. Blocking like :meth:`submit`; a cached result makes the job
        ``done`` at once. Its result is ``(N, 1)`` float32.

        Raises
        ------
        InvalidParameterError
            For invalid parameters, different numbers of rows, or vectors on the Dask
            cluster (overlaps run on this machine only); nothing is queued.
        NotFoundError
            For an unknown vectors key.
        """
        path, shape, runner = self._registered(vectors)
        compared_path, compared_shape, compared_runner = self._registered(compared)
        _here_only(runner or compared_runner, "overlaps are")
        if shape[0] != compared_shape[0]:
            raise InvalidParameterError(
                f"the overlap needs the same rows on both sides, got {shape[0]} and "
                f"{compared_shape[0]}"
            )
        parsed = overlap_spec(compared, params, shape[0])
        return self._enqueue(vectors, path, parsed, compared_path=compared_path)

    def submit_analysis(self, vectors: str, analysis: Callable[[int], AnalysisSpec]) -> str:
        """Queue a reading of a layout of the vectors registered under ``vectors``.

        ``analysis(n)`` builds the validated :class:`.analyses.AnalysisSpec` for ``n``
        points (it raises :class:`InvalidParameterError` for a bad request). Blocking
        as :meth:`submit` is; returns the job id, ``done`` at once on a cache hit.
        """
        path, shape, runner = self._registered(vectors)
        _here_only(runner, "faithfulness and clusters are")
        return self._enqueue(vectors, path, analysis(shape[0]))

    def vectors_of(self, job_id: str) -> str:
        """The key of the vectors a job computes on (for an analysis of its layout)."""
        with self._lock:
            path = self._job(job_id).vectors_path
            here = (key for key, (p, _) in self._vectors.items() if p == path)
            elsewhere = (
                key for key, (_, runner) in self._elsewhere.items()
                if Path(runner.location(key)) == path
            )  # fmt: skip
            return next(itertools.chain(here, elsewhere))

    def _registered(self, key: str) -> tuple[Path, tuple[int, int], Any]:
        """Where the vectors of ``key`` are, their shape, and the runner of vectors elsewhere."""
        with self._lock:
            shape, runner = self._elsewhere.get(key, ((0, 0), None))
            if runner is not None:
                path = Path(runner.location(key))
            elif key in self._vectors:
                path, shape = self._vectors[key]
            else:
                raise NotFoundError(f"no vectors registered under `{key}`")
        return path, shape, runner

    def _enqueue(
        self,
        key: str,
        path: Path,
        parsed: AnySpec,
        runner: Any = None,
        *,
        compared_path: Path | None = None,
    ) -> str:
        """A job for ``parsed``: done at once from the cache, the running twin, or queued
        (or started by ``runner``, for vectors registered elsewhere); an overlap also has
        the vectors it compares with (``compared_path``)."""
        cache_key = result_key(parsed.cache_parts(key))
        # One read at a time: np.load parses the header with ast.literal_eval, which
        # CPython < 3.11.8 / 3.12.2 may fail with a SystemError when two threads do it
        # at once (python/cpython#106905); concurrent page loads did, 1 in ~1,000.
        with self._cache_reads:
            cached = self.cache.get(cache_key)
        with self._lock:
            self._check_open()
            twin = self._unfinished_twin(cache_key, parsed.components)
            if twin is not None:
                return twin.id  # the same projection is under way: follow that one
            job = Job(
                self._new_id(),
                parsed,
                cache_key,
                path,
                on_end=self._retire,
                compared_path=compared_path,
            )
            self._jobs[job.id] = job
            if cached is not None:
                job.finish_cached(*cached)
            elif runner is not None:
                job.start(runner.start(job.id, job.spec, key, job.cache_key, self._deliver))
            else:
                self._queue.append(job)
                self._dispatch()
                self._fail_queue_if_no_worker()
        return job.id

    def submit_timeline(self, steps: Sequence[str], spec: dict[str, Any]) -> str:
        """Queue a timeline job over ``steps`` (keys from :meth:`register`, oldest first, all
        of one shape): ``spec`` as for :meth:`submit`, or a drift's (see
        :func:`.timeline_job.parse_timeline`). Blocking like :meth:`submit`. Every step in the
        cache makes it ``done`` at once. Returns the job id.

        Raises
        ------
        InvalidParameterError
            For an invalid spec, fewer than two steps, steps of different shapes, or
            steps on the Dask cluster (timelines run on this machine only).
        NotFoundError
            For an unknown vectors key.
        """
        from embedding_projector.compute import timeline_job

        registered = [self._registered(key) for key in steps]
        for _, _, runner in registered:
            _here_only(runner, "timelines and drift are")
        shapes = {shape for _, shape, _ in registered}
        if len(steps) < timeline_job.MIN_STEPS or len(shapes) != 1:
            raise InvalidParameterError(
                f"a timeline needs at least {timeline_job.MIN_STEPS} steps of one shape, got "
                f"{len(steps)} of shapes {sorted(shapes)}"
            )
        parsed = timeline_job.parse_timeline(spec, *registered[0][1])
        keys = tuple(timeline_job.step_keys(parsed, list(steps)))
        with self._cache_reads:  # one read at a time: see submit()
            found = [self.cache.get(key) for key in keys]
        with self._lock:
            self._check_open()
            cache_key = result_key({"timeline": list(keys)})
            twin = self._unfinished_twin(cache_key, parsed.components)
            if twin is not None:
                return twin.id
            paths = tuple(path for path, _, _ in registered)
            job = TimelineJob(self._new_id(), parsed, cache_key, paths, keys, on_end=self._retire)
            self._jobs[job.id] = job
            if all(hit is not None for hit in found):
                job.finish_steps_cached([hit for hit in found if hit is not None])
            else:
                self._queue.append(job)
                self._dispatch()
                self._fail_queue_if_no_worker()
        return job.id

    def step_result(self, job_id: str, step: int) -> np.ndarray:
        """A timeline's step as shown, ``(N, dims)`` float32 (``(N, 2)`` for drift).

        Raises
        ------
        JobNotReadyError
            When the step has no layout (yet), or the job is no timeline.
        """
        with self._lock:
            job = self._job(job_id)
            if not isinstance(job, TimelineJob):
                raise JobNotReadyError(f"job {job_id} is a {job.spec.method} job, not a timeline")
            layout = job.step_layout(step)
        if layout is None:
            raise JobNotReadyError(f"step {step} of job {job_id} has no result yet ({job.state})")
        return layout

    def warm_up_umap(self) -> None:
        """Compile UMAP's kernels in the background, in all workers but one, once a job ended.

        A compile takes 20-70 s of a worker; one worker stays free so that a PCA or
        t-SNE asked for meanwhile starts at once (UMAP jobs prefer a warm worker). It waits
        for the end of the first job (the page's first projection): started with the server,
        its seconds of CPU would compete with the first paint for the machine's cores.
        """
        with self._lock:
            self._warm_wanted = True
            self._dispatch()

    # -- inspecting ----------------------------------------------------------

    def status(self, job_id: str) -> dict[str, Any]:
        """The job's state as a JSON-able dict (see :meth:`.jobstate.Job.status`)."""
        with self._lock:
            return self._job(job_id).status()

    def result(self, job_id: str) -> np.ndarray:
        """The finished layout, ``(N, dims)`` float32; a cancelled job's partial one.

        Raises
        ------
        JobNotReadyError
            When the job has no layout (yet).
        """
        with self._lock:
            job = self._job(job_id)
            layout = job.final_layout()
        if layout is None:
            raise JobNotReadyError(f"job {job_id} is {job.state} and has no result")
        return layout

    def subscribe(self, job_id: str) -> AsyncIterator[dict[str, Any]]:
        """Events of a job, for a WebSocket: an async iterator of dicts.

        Each event is the job's :meth:`status` plus ``"coordinates"``: the
        newest layout as ``(N, dims)`` float32 when it changed since the
        previous event, else None. The first event comes at once; the last
        has a terminal ``state`` (with the final or partial coordinates).
        Intermediate events are coalesced: a slow consumer gets the newest
        state, never a backlog.
        """
        with self._lock:
            job = self._job(job_id)
        return self._events(job)

    async def _events(self, job: Job) -> AsyncIterator[dict[str, Any]]:
        watcher = Watcher(asyncio.get_running_loop())
        with self._lock:
            job.watchers.add(watcher)
        try:
            while True:
                with self._lock:
                    events = job.events(watcher)
                for event in events:
                    yield event
                if events[-1]["state"] in TERMINAL:
                    return
                await watcher.wait()
        finally:
            with self._lock:
                job.watchers.discard(watcher)

    # -- controlling ---------------------------------------------------------

    def cancel(self, job_id: str) -> dict[str, Any]:
        """Stop a job; a running one keeps its partial layout. Returns its status.

        A queued job is ``cancelled`` at once; a running one is ``cancelling``
        until its worker stops it (at its next progress report), and is
        ``cancelled`` :data:`CANCEL_GRACE` seconds later at the latest, with the
        last layout it streamed: its worker is then killed (and replaced).
        """
        with self._lock:
            job = self._job(job_id)
            if job.state == "queued":
                self._queue.remove(job)
                job.end("cancelled", message="cancelled before it started")
            elif job.state == "running" and job.worker is not None:
                job.stop()
                job.worker.send(Control(job.id, "stop"))
                deadline = threading.Timer(CANCEL_GRACE, self._stop_by_force, (job,))
                deadline.daemon = True
                deadline.start()
            return job.status()

    def pause(self, job_id: str) -> dict[str, Any]:
        """Pause a running t-SNE at its next iteration report."""
        return self._control(job_id, "pause")

    def resume(self, job_id: str) -> dict[str, Any]:
        """Resume a paused t-SNE."""
        return self._control(job_id, "resume")

    def perturb(self, job_id: str) -> dict[str, Any]:
        """Shake a running t-SNE's layout (TensorBoard's "Perturb") and keep optimising."""
        return self._control(job_id, "perturb")

    def _control(self, job_id: str, action: Action) -> dict[str, Any]:
        with self._lock:
            job = self._job(job_id)
            if job.spec.method != "tsne":
                raise InvalidParameterError(f"`{action}` applies to t-SNE jobs only")
            if job.state != "running" or job.worker is None:
                raise JobNotReadyError(f"job {job_id} is {job.state}, not running")
            if not getattr(job.worker, "controls", True):
                raise JobNotReadyError(
                    f"job {job_id} runs on the Dask cluster, where only cancel applies"
                )
            job.worker.send(Control(job.id, action))
            return job.status()

    # -- shutting down -------------------------------------------------------

    def close(self) -> None:
        """Stop every worker and cancel unfinished jobs. Idempotent; no process survives it."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for job in list(self._jobs.values()):
                if job.state not in TERMINAL:
                    job.end("cancelled", message="the server is shutting down")
            self._queue.clear()
        self._pool.close()  # without the lock: the pool's reader thread may be waiting for it

    # -- what the pool reports (from its reader thread) ----------------------

    def received(self, worker: WorkerProcess, event: Event) -> None:
        """Apply a worker's message, then give idle workers work."""
        with self._lock:
            match event:
                case Ready():
                    pass
                case Warmed():
                    self._warming.discard(worker)
                    self._warm.add(worker)
                case _:
                    job = self._running.get(worker)
                    if job is not None and job.id == event.job_id:
                        job.apply(event)
                        if job.state in TERMINAL:
                            self._release(worker, job)
            self._dispatch()

    def lost(self, worker: WorkerProcess) -> None:
        """A worker died: its job fails (or is cancelled, if it was being stopped)."""
        with self._lock:
            self._warm.discard(worker)
            self._warming.discard(worker)
            job = self._running.pop(worker, None)
            if job is not None and not self._closed and job.state in ON_A_WORKER:
                if job.state == "cancelling":
                    job.end("cancelled", message="cancelled")
                else:
                    code = worker.process.exitcode
                    job.end("failed", error=f"the worker process died (exit code {code})")
            self._fail_queue_if_no_worker()

    def joined(self, worker: WorkerProcess) -> None:
        """A replacement worker started: give it work."""
        with self._lock:
            self._dispatch()

    def _stop_by_force(self, job: Job) -> None:
        """The grace is over: a job still cancelling ends now, and its worker is killed."""
        with self._lock:
            if job.state != "cancelling" or self._closed:
                return  # it stopped by itself (or ended otherwise) in time
            worker = job.worker
            job.end("cancelled", message="cancelled")
            if worker in self._running:  # not a job on the cluster (its tasks are cancelled)
                del self._running[worker]
                self._pool.kill(worker)  # replaced once its process is gone (joined())

    # -- internals (called with the lock held) -------------------------------

    def _new_id(self) -> str:
        return f"{self._id_prefix}-{next(self._counter)}"

    def _job(self, job_id: str) -> Job:
        job = self._jobs.get(job_id)
        if job is not None:
            return job
        prefix, _, number = job_id.partition("-")
        if prefix == self._id_prefix and number.isdecimal():
            raise JobExpiredError(
                f"job `{job_id}` ended a while ago and was dropped from memory (the server "
                f"keeps its {MAX_FINISHED_JOBS} newest finished jobs); ask for the projection "
                "again: a finished one comes from the cache at once"
            )
        raise NotFoundError(f"no job `{job_id}` (jobs do not outlive the server that ran them)")

    def _unfinished_twin(self, cache_key: str, components: tuple[int, ...]) -> Job | None:
        """A queued or running job computing exactly this (a reloaded page asks again).

        A job being cancelled is no twin: asking again after a cancel starts afresh.
        """
        for other in self._jobs.values():
            same = (other.cache_key, other.spec.components) == (cache_key, components)
            if same and other.state in ("queued", "running"):
                return other
        return None

    def _retire(self, job: Job) -> None:
        """A job ended: keep it among the newest finished ones, forget the oldest beyond that."""
        self._finished[job.id] = job
        self._held_bytes += job.nbytes
        while len(self._finished) > 1 and (
            len(self._finished) > MAX_FINISHED_JOBS or self._held_bytes > MAX_HELD_BYTES
        ):
            _, oldest = self._finished.popitem(last=False)
            self._held_bytes -= oldest.nbytes
            self._jobs.pop(oldest.id, None)

    def _release(self, worker: WorkerProcess, job: Job) -> None:
        """``job`` ended on ``worker``, which is free again."""
        del self._running[worker]
        if job.spec.method == "umap":
            self._warm.add(worker)  # it compiled UMAP's kernels

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("the JobManager is closed")

    def _dispatch(self) -> None:
        """Give queued jobs, then wanted warm-ups, to idle workers."""
        if self._closed:
            return
        workers = self._pool.workers
        idle = [w for w in workers if w not in self._running and w not in self._warming]
        while self._queue and idle:
            job = self._queue.popleft()
            # A UMAP job prefers a worker whose numba kernels are already compiled.
            warm = [w for w in idle if w in self._warm] if job.spec.method == "umap" else []
            chosen = (warm or idle)[0]
            idle.remove(chosen)
            self._running[chosen] = job
            job.start(chosen)
            chosen.send(job.command())
        if self._warm_wanted and self._finished:
            warmed = sum(w in self._warm or w in self._warming for w in workers)
            for candidate in idle:
                if warmed >= max(1, len(workers) - 1):
                    break
                if candidate not in self._warm:
                    self._warming.add(candidate)
                    candidate.send(WarmUp())
                    warmed += 1

    def _deliver(self, event: JobEvent) -> None:
        """A message about a job that runs elsewhere, as a worker process would send it."""
        with self._lock:
            job = self._jobs.get(event.job_id)
            if job is not None and job.state in ON_A_WORKER:
                job.apply(event)

    def _fail_queue_if_no_worker(self) -> None:
        """Workers that die before they start (a broken install) must not be respawned forever."""
        if not self._pool.exhausted:
            return
        while self._queue:
            self._queue.popleft().end("failed", error="worker processes fail to start")


def _here_only(runner: Any, what: str) -> None:
    """Refuse work done on this machine only (``what`` it is) for vectors on the Dask cluster."""
    if runner is not None:
        raise InvalidParameterError(
            f"{what} computed on this machine only, and these vectors are on the Dask cluster"
        )


__all__ = [
    "CANCEL_GRACE",
    "MAX_FINISHED_JOBS",
    "MAX_HELD_BYTES",
    "JobExpiredError",
    "JobManager",
    "JobNotReadyError",
    "JobSpec",
]

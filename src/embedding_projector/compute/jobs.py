"""The job engine: projections in worker processes, with progress, control and a cache.

One :class:`JobManager` per server. It keeps ``n_workers`` spawned worker
processes alive between jobs (a spawned worker takes about a second to import
numpy and our modules, and UMAP's numba kernels are compiled once per process),
shares the vectors with them through a content-addressed ``.npy`` that they
memory-map, and follows them from one reader thread.

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
import contextlib
import logging
import multiprocessing
import os
import queue
import threading
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

import numpy as np

from embedding_projector.compute import worker as worker_module
from embedding_projector.compute.cache import DEFAULT_MAX_BYTES, ResultCache, result_key
from embedding_projector.compute.jobstate import TERMINAL, Job, JobNotReadyError, Watcher
from embedding_projector.compute.spec import JobSpec, parse_spec
from embedding_projector.compute.validation import check_vectors
from embedding_projector.errors import InvalidParameterError, NotFoundError

log = logging.getLogger(__name__)

#: Seconds a running job has to honour a cancel before its worker is killed.
CANCEL_GRACE = 2.0
#: Workers dying before they report ready, in a row, after which none is respawned.
_MAX_START_FAILURES = 3
#: Tells a worker's sender thread to stop.
_CLOSED = object()


class _Worker:
    """A worker process and the two pipes to it."""

    def __init__(self, context: Any, cache: ResultCache) -> None:
        command_recv, self.commands = context.Pipe(duplex=False)
        self.events, event_send = context.Pipe(duplex=False)
        args = (command_recv, event_send, str(cache.directory), cache.max_bytes)
        self.process = context.Process(target=worker_module.main, args=args, daemon=True)
        self.process.start()
        command_recv.close()
        event_send.close()
        # Messages go out from a thread of their own: pickling a task (t-SNE labels
        # of a million points) must not happen under the manager's lock.
        self._outbox: queue.SimpleQueue[Any] = queue.SimpleQueue()
        threading.Thread(target=self._send_loop, name="jobs-sender", daemon=True).start()
        self.job: Job | None = None
        self.warming = False
        self.warm = False
        self.ready = False
        self.dead = False
        self.kill_at: float | None = None

    @property
    def idle(self) -> bool:
        return self.job is None and not self.warming and not self.dead

    def send(self, message: Any) -> None:
        """Queue a message for the worker; returns at once."""
        self._outbox.put(message)

    def _send_loop(self) -> None:
        while (message := self._outbox.get()) is not _CLOSED:
            # A dead worker's pipe is broken: the reader thread notices and cleans up.
            with contextlib.suppress(OSError):
                self.commands.send(message)

    def kill(self) -> None:
        self._outbox.put(_CLOSED)
        self.process.kill()
        self.process.join(timeout=5)
        self.commands.close()
        self.events.close()


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
        # A spawned (not forked) worker starts clean even though the server has threads.
        self._context = multiprocessing.get_context("spawn")
        self._lock = threading.RLock()
        self._jobs: dict[str, Job] = {}
        self._queue: deque[Job] = deque()
        self._vectors: dict[str, tuple[Path, tuple[int, int]]] = {}
        self._elsewhere: dict[str, tuple[tuple[int, int], Any]] = {}
        self._warm_wanted = False
        self._closed = False
        self._start_failures = 0
        count = n_workers if n_workers is not None else os.cpu_count() or 1
        self._workers = [_Worker(self._context, self.cache) for _ in range(max(1, count))]
        self._reader = threading.Thread(target=self._read_events, name="jobs-reader", daemon=True)
        self._reader.start()

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
        its handle, which the manager stops as a worker (``send(("stop", job_id))``);
        ``deliver(job_id, kind, *payload)`` takes a worker's messages about the job
        (:mod:`.worker`). ``runner.location(key)`` says where the vectors are.
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
        with self._lock:
            shape, runner = self._elsewhere.get(key, ((0, 0), None))
            if runner is not None:
                path = Path(runner.location(key))
            elif key in self._vectors:
                path, shape = self._vectors[key]
            else:
                raise NotFoundError(f"no vectors registered under `{key}`")
        parsed = parse_spec(spec, *shape)
        job = Job(uuid.uuid4().hex, parsed, result_key(parsed.cache_parts(key)), path)
        cached = self.cache.get(job.cache_key)
        with self._lock:
            self._check_open()
            twin = self._unfinished_twin(job)
            if twin is not None:
                return twin.id  # the same projection is under way: follow that one
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

    def warm_up_umap(self) -> None:
        """Compile UMAP's kernels in the background, in all workers but one.

        A compile takes 20-70 s of a worker; one worker stays free so that a PCA or
        t-SNE asked for meanwhile starts at once (UMAP jobs prefer a warm worker).
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
            self._job(job_id)
        return self._events(job_id)

    async def _events(self, job_id: str) -> AsyncIterator[dict[str, Any]]:
        watcher = Watcher(asyncio.get_running_loop())
        with self._lock:
            job = self._job(job_id)
            job.watchers.add(watcher)
        try:
            while True:
                with self._lock:
                    event = job.event(watcher)
                yield event
                if event["state"] in TERMINAL:
                    return
                await watcher.wait()
        finally:
            with self._lock:
                job.watchers.discard(watcher)

    # -- controlling ---------------------------------------------------------

    def cancel(self, job_id: str) -> dict[str, Any]:
        """Stop a job; a running one keeps its partial layout. Returns its status."""
        with self._lock:
            job = self._job(job_id)
            if job.state == "queued":
                self._queue.remove(job)
                job.end("cancelled", message="cancelled before it started")
            elif job.state == "running" and job.worker is not None:
                worker = job.worker
                if worker.kill_at is None:
                    worker.kill_at = time.monotonic() + CANCEL_GRACE
                    job.message = "cancelling"
                    job.touch()
                    worker.send(("stop", job.id))
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

    def _control(self, job_id: str, command: str) -> dict[str, Any]:
        with self._lock:
            job = self._job(job_id)
            if job.spec.method != "tsne":
                raise InvalidParameterError(f"`{command}` applies to t-SNE jobs only")
            if job.state != "running" or job.worker is None:
                raise JobNotReadyError(f"job {job_id} is {job.state}, not running")
            if not getattr(job.worker, "controls", True):
                raise JobNotReadyError(
                    f"job {job_id} runs on the Dask cluster, where only cancel applies"
                )
            job.worker.send((command, job.id))
            return job.status()

    # -- shutting down -------------------------------------------------------

    def close(self) -> None:
        """Stop every worker and cancel unfinished jobs. Idempotent; no process survives it."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for job in self._jobs.values():
                if job.state not in TERMINAL:
                    job.end("cancelled", message="the server is shutting down")
            self._queue.clear()
            workers = list(self._workers)
        for worker in workers:
            worker.send(None)
        self._reader.join(timeout=5)  # it stops within one wait() round; then close the pipes
        deadline = time.monotonic() + 2.0
        for worker in workers:
            worker.process.join(timeout=max(0.0, deadline - time.monotonic()))
            worker.kill()

    # -- internals (called with the lock held) -------------------------------

    def _job(self, job_id: str) -> Job:
        try:
            return self._jobs[job_id]
        except KeyError:
            raise NotFoundError(f"no job `{job_id}`") from None

    def _unfinished_twin(self, job: Job) -> Job | None:
        """A queued or running job computing exactly what ``job`` asks for (a reloaded page)."""
        for other in self._jobs.values():
            same = (other.cache_key, other.spec.components) == (job.cache_key, job.spec.components)
            if same and other.state not in TERMINAL:
                return other
        return None

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("the JobManager is closed")

    def _dispatch(self) -> None:
        """Give queued jobs, then wanted warm-ups, to idle workers."""
        while self._queue:
            idle = [w for w in self._workers if w.idle]
            if not idle:
                return
            job = self._queue.popleft()
            # A UMAP job prefers a worker whose numba kernels are already compiled.
            warm = [w for w in idle if w.warm] if job.spec.method == "umap" else []
            chosen = (warm or idle)[0]
            chosen.job = job
            job.start(chosen)
            chosen.send(
                ("run", worker_module.Task(job.id, job.spec, job.vectors_path, job.cache_key))
            )
        if self._warm_wanted:
            warmed = sum(w.warm or w.warming for w in self._workers)
            for candidate in self._workers:
                if warmed >= max(1, len(self._workers) - 1):
                    break
                if candidate.idle and not candidate.warm:
                    candidate.warming = True
                    candidate.send(("warm",))
                    warmed += 1

    def _read_events(self) -> None:
        """The reader thread: applies worker messages, notices dead workers, enforces cancels."""
        while True:
            with self._lock:
                if self._closed:
                    return
                workers = list(self._workers)
            by_conn = {w.events: w for w in workers}
            by_sentinel = {w.process.sentinel: w for w in workers}
            try:
                for item in wait([*by_conn, *by_sentinel], timeout=0.2):
                    if isinstance(item, Connection) and item in by_conn:
                        self._receive(by_conn[item])
                    elif item in by_sentinel:
                        self._worker_died(by_sentinel[item])
                self._enforce_cancels()
            except Exception:  # a bug here must not leave every job hanging
                log.exception("job manager reader thread")

    def _receive(self, worker: _Worker) -> bool:
        """Apply one message from ``worker``; False at the end of its pipe."""
        try:
            message = worker.events.recv()
        except (EOFError, OSError):
            return False  # the sentinel reports the death
        with self._lock:
            kind = message[0]
            if kind == "ready":
                worker.ready = True
                self._start_failures = 0
            elif kind == "warmed":
                worker.warming, worker.warm = False, True
            else:
                job = self._jobs.get(message[1])
                if job is not None and job.state == "running":
                    job.apply(kind, message[2:])
                    if job.state in TERMINAL:
                        worker.job, worker.kill_at = None, None
                        if job.spec.method == "umap":
                            worker.warm = True
            self._dispatch()
        return True

    def _worker_died(self, dead: _Worker) -> None:
        dead.process.join(timeout=1)  # reap it: its sentinel fired, so this is immediate
        with self._lock:
            dead.dead = True  # never dispatch to it, even while its last words are read
            # Apply whatever the worker said before it died.
            # (A closed pipe polls as readable: stop at its end.)
            while not dead.events.closed and _poll(dead.events) and self._receive(dead):
                pass
            if self._closed or dead not in self._workers:
                return
            job = dead.job
            if job is not None and job.state not in TERMINAL:
                if dead.kill_at is not None:
                    job.end("cancelled", message="cancelled")
                else:
                    code = dead.process.exitcode
                    job.end("failed", error=f"the worker process died (exit code {code})")
            dead.kill()
            if not dead.ready:
                self._start_failures += 1
            if self._start_failures >= _MAX_START_FAILURES:
                self._workers.remove(dead)
                self._fail_queue_if_no_worker()
                return
            self._workers[self._workers.index(dead)] = _Worker(self._context, self.cache)
            self._dispatch()

    def _deliver(self, job_id: str, kind: str, *payload: Any) -> None:
        """A message about a job that runs elsewhere, as a worker process would send it."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is not None and job.state == "running":
                job.apply(kind, payload)

    def _fail_queue_if_no_worker(self) -> None:
        """Workers that die before they start (a broken install) must not be respawned forever."""
        if self._workers:
            return
        while self._queue:
            self._queue.popleft().end("failed", error="worker processes fail to start")

    def _enforce_cancels(self) -> None:
        now = time.monotonic()
        with self._lock:
            late = [w for w in self._workers if w.kill_at is not None and now >= w.kill_at]
        for worker in late:
            worker.process.kill()  # the sentinel fires next and _worker_died finishes up


def _poll(conn: Connection) -> bool:
    try:
        return conn.poll()
    except (EOFError, OSError):
        return False


__all__ = ["CANCEL_GRACE", "JobManager", "JobNotReadyError", "JobSpec"]

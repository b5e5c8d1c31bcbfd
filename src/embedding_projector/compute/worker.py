"""The worker process of :mod:`.jobs`: runs one job at a time, for as long as the server lives.

It reads :data:`.messages.Command` s from its ``commands`` pipe and answers with
:data:`.messages.Event` s on its ``events`` pipe (see :mod:`.messages`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time
from collections.abc import Iterator
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np

from embedding_projector.compute.messages import (
    Cancelled,
    Control,
    Done,
    Exit,
    Failed,
    Layout,
    Progressed,
    Ready,
    Run,
    RunTimeline,
    StepDone,
    Warmed,
    WarmUp,
)
from embedding_projector.compute.methods import run_job
from embedding_projector.compute.progress import Progress, Stopped
from embedding_projector.compute.spec import AnySpec, JobSpec
from embedding_projector.compute.threads import limit_blas_threads
from embedding_projector.errors import ProjectorError

log = logging.getLogger(__name__)

#: Minimum seconds between two progress messages.
PROGRESS_INTERVAL = 0.1
#: Minimum seconds between two intermediate layouts (more for big ones: ``_layout_interval``).
LAYOUT_INTERVAL = 0.25
#: Bytes per second of layouts we are willing to stream.
_LAYOUT_BANDWIDTH = 20e6
#: CPU seconds a job computes at the server's priority before its worker steps below it
#: (see _stepping_down), and how often that is checked.
FULL_PRIORITY_S = 1.0
_STEP_DOWN_POLL_S = 0.05
#: The niceness a worker steps down to.
BACKGROUND_NICENESS = 10


def main(commands: Connection, events: Connection, cache_dir: str, max_bytes: int) -> None:
    """Entry point of a worker process (``multiprocessing`` spawn target)."""
    from embedding_projector.compute.cache import ResultCache

    # Ctrl-C in the server's terminal reaches the whole process group: the
    # manager stops the workers itself, so they must not die half-way on SIGINT.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ.setdefault("NUMBA_CACHE_DIR", str(Path(cache_dir) / "numba"))
    # Once for the life of the process: PCA's threads each run one-thread BLAS.
    limit_blas_threads()
    _exit_with_parent()
    cache = ResultCache(cache_dir, max_bytes=max_bytes)
    events.send(Ready(os.getpid()))
    while True:
        try:
            command = commands.recv()
        except (EOFError, OSError):
            return
        match command:
            case Exit():
                return
            case Run() | RunTimeline():
                with _stepping_down():
                    going_on = _run(command, commands, events, cache)
                if not going_on:
                    return
            case WarmUp():
                from embedding_projector.compute import umap

                _step_down()  # background work from the start: the page waits for none of it
                umap.warm_up()
                events.send(Warmed())
            # Anything else is a control message for a job that has already ended.


def _exit_with_parent() -> None:
    """Exit when the manager's process dies, even in the middle of a long computation."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="parent-watch").start()


def _run(task: Run | RunTimeline, commands: Connection, events: Connection, cache: Any) -> bool:
    """Run one job and report how it ended; False if the manager asked the worker to exit."""
    controller = _Controller(task.job_id, commands, events)
    try:
        if isinstance(task, RunTimeline):
            _run_timeline(task, cache, controller)
            done = Done(task.job_id, None, {})
        else:
            vectors = np.load(task.vectors_path, mmap_mode="r")
            if task.compared_path is not None:
                result, meta = compare(task.spec, vectors, task.compared_path, controller)
            else:
                result, meta = execute(task.spec, vectors, controller)
            _store(cache, task.cache_key, result, meta)
            done = Done(task.job_id, result, meta)
    except Stopped as stop:
        events.send(Cancelled(task.job_id, stop.partial))
        return not controller.exit_requested
    except ProjectorError as error:
        events.send(Failed(task.job_id, str(error)))
        return True
    except Exception as error:  # a job's failure must never take the worker down
        log.exception("job %s failed", task.job_id)
        events.send(Failed(task.job_id, f"{type(error).__name__}: {error}"))
        return True
    events.send(done)
    return True


@contextlib.contextmanager
def _stepping_down() -> Iterator[None]:
    """Step below the server once the work inside has used :data:`FULL_PRIORITY_S` of CPU.

    A short job (the first PCA the page waits for) runs at the server's priority: on a busy
    machine a niced worker gets a sliver of a core and the first paint waits seconds. A long
    one (a t-SNE) steps the worker down for good (an unprivileged process cannot step back
    up), so that the page stays responsive while every core computes. CPU time, not wall
    time: on a loaded machine a short job's wall time is mostly waiting for a core.
    """
    ended = threading.Event()
    started = time.process_time()

    def watch() -> None:
        while not ended.wait(_STEP_DOWN_POLL_S):
            if time.process_time() - started >= FULL_PRIORITY_S:
                _step_down()
                return

    threading.Thread(target=watch, daemon=True, name="step-down").start()
    try:
        yield
    finally:
        ended.set()


def _step_down() -> None:
    """Lower this process below the server in the scheduler: every thread of it, as Linux
    keeps a niceness per thread (the computing ones were started at the server's)."""
    tasks = Path("/proc/self/task")
    for thread in [int(t) for t in os.listdir(tasks)] if tasks.is_dir() else [0]:
        with contextlib.suppress(ProcessLookupError):  # a thread that has just ended
            if os.getpriority(os.PRIO_PROCESS, thread) < BACKGROUND_NICENESS:
                os.setpriority(os.PRIO_PROCESS, thread, BACKGROUND_NICENESS)


def execute(spec: AnySpec, X: np.ndarray, callback: Any) -> tuple[np.ndarray, dict[str, Any]]:
    """Run a job's computation (a projection or an analysis); the array to cache, its meta."""
    if not isinstance(spec, JobSpec):
        from embedding_projector.compute import analyses

        return analyses.run(X, spec, callback)
    return run_job(spec, X, callback)


def _run_timeline(task: RunTimeline, cache: Any, controller: _Controller) -> None:
    """Every step of a timeline, each cached and sent as soon as it is done."""
    from embedding_projector.compute import timeline_job

    def keep(step: int, result: np.ndarray, meta: dict[str, Any]) -> None:
        _store(cache, task.cache_keys[step], result, meta)
        controller.events.send(StepDone(task.job_id, step, result, meta))

    def on_step(step: int) -> None:
        controller.step = step

    steps = [np.load(path, mmap_mode="r") for path in task.vectors_paths]
    timeline_job.run(
        task.spec, steps, task.cache_keys,
        cached=cache.get, keep=keep, callback=controller, on_step=on_step,
    )  # fmt: skip


def _store(cache: Any, key: str, result: np.ndarray, meta: dict[str, Any]) -> None:
    try:
        cache.put(key, result, meta)
    except OSError as error:  # a full disk costs the cache, not the result
        log.warning("could not cache result %s: %s", key, error)


def compare(
    spec: AnySpec, X: np.ndarray, compared_path: Path, callback: Any
) -> tuple[np.ndarray, dict[str, Any]]:
    """Run an overlap job: ``(N, 1)`` float32 Jaccard indices of the two spaces' k-NN sets."""
    from embedding_projector.compute.overlap import overlap

    assert isinstance(spec, JobSpec), "an overlap is a JobSpec (spec.overlap_spec)"

    Y = np.load(compared_path, mmap_mode="r")
    return overlap(X, Y, callback=callback, **spec.params)[:, None], {}


class _Controller:
    """The progress callback of a running job: applies control messages, streams progress."""

    def __init__(self, job_id: str, commands: Connection, events: Connection) -> None:
        self.job_id = job_id
        self.commands = commands
        self.events = events
        self.last_progress = 0.0
        self.last_layout = 0.0
        self.exit_requested = False
        #: The timeline step being computed (its layouts are tagged with it), or None.
        self.step: int | None = None

    def __call__(self, progress: Progress) -> bool:
        if self._stop_requested(progress):
            return True
        now = time.monotonic()
        if now - self.last_progress >= PROGRESS_INTERVAL or progress.fraction >= 1:
            self._send_progress(progress, paused=False)
            self.last_progress = now
        layout = progress.embedding
        if layout is not None and now - self.last_layout >= _layout_interval(layout):
            self.events.send(Layout(self.job_id, np.array(layout, dtype=np.float32), self.step))
            self.last_layout = now
        return False

    def _send_progress(self, progress: Progress, *, paused: bool) -> None:
        self.events.send(
            Progressed(self.job_id, progress.fraction, progress.iteration, progress.message, paused)
        )

    def _stop_requested(self, progress: Progress) -> bool:
        """Apply pending control messages; while paused, wait for resume or stop."""
        paused = False
        while paused or self.commands.poll():
            try:
                command = self.commands.recv()
            except (EOFError, OSError):  # the manager is gone
                command = Exit()
            if isinstance(command, Exit):
                self.exit_requested = True
                return True
            if not isinstance(command, Control) or command.job_id != self.job_id:
                continue  # meant for a job that has ended
            if command.action == "stop":
                return True
            if command.action in ("pause", "resume"):
                paused = command.action == "pause"
                self._send_progress(progress, paused=paused)
            elif command.action == "perturb" and progress.embedding is not None:
                from embedding_projector.compute import tsne

                tsne.perturb(progress.embedding)
                coordinates = np.array(progress.embedding, np.float32)
                self.events.send(Layout(self.job_id, coordinates, self.step))
        return False


def _layout_interval(layout: np.ndarray) -> float:
    """Seconds between two intermediate layouts: a few per second, fewer for huge ones."""
    return max(LAYOUT_INTERVAL, layout.nbytes / _LAYOUT_BANDWIDTH)

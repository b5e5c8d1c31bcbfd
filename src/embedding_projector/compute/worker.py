"""The worker process of :mod:`.jobs`: runs one job at a time, for as long as the server lives.

Messages from the manager (``commands`` pipe): ``("run", Task)``, ``("warm",)``,
``("stop" | "pause" | "resume" | "perturb", job_id)`` and ``None`` to exit.
Messages to the manager (``events`` pipe)::

    ("ready", pid)                      once started
    ("progress", job_id, fraction, iteration, message, paused)
    ("layout", job_id, float32 array)   intermediate layout, throttled
    ("done", job_id, result, meta)
    ("cancelled", job_id, partial or None)
    ("failed", job_id, message)
    ("warmed",)                          UMAP's kernels are compiled in this process
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np

from embedding_projector.compute.progress import Progress, Stopped
from embedding_projector.compute.spec import JobSpec
from embedding_projector.errors import ProjectorError

log = logging.getLogger(__name__)

#: Minimum seconds between two progress messages.
PROGRESS_INTERVAL = 0.1
#: Minimum seconds between two intermediate layouts (more for big ones: ``_layout_interval``).
LAYOUT_INTERVAL = 0.25
#: Bytes per second of layouts we are willing to stream.
_LAYOUT_BANDWIDTH = 20e6


@dataclass(frozen=True)
class Task:
    """One job for a worker: the spec, where the vectors are, where to cache the result."""

    job_id: str
    spec: JobSpec
    vectors_path: Path
    cache_key: str


def main(commands: Connection, events: Connection, cache_dir: str, max_bytes: int) -> None:
    """Entry point of a worker process (``multiprocessing`` spawn target)."""
    from embedding_projector.compute.cache import ResultCache

    # Ctrl-C in the server's terminal reaches the whole process group: the
    # manager stops the workers itself, so they must not die half-way on SIGINT.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Below the server in the scheduler: the page stays responsive while every core computes.
    os.nice(10)
    os.environ.setdefault("NUMBA_CACHE_DIR", str(Path(cache_dir) / "numba"))
    _exit_with_parent()
    cache = ResultCache(cache_dir, max_bytes=max_bytes)
    events.send(("ready", os.getpid()))
    while True:
        try:
            message = commands.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        if message[0] == "run" and not _run(message[1], commands, events, cache):
            return
        elif message[0] == "warm":
            from embedding_projector.compute import umap

            umap.warm_up()
            events.send(("warmed",))
        # Anything else is a control message for a job that has already ended.


def _exit_with_parent() -> None:
    """Exit when the manager's process dies, even in the middle of a long computation."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="parent-watch").start()


def _run(task: Task, commands: Connection, events: Connection, cache: Any) -> bool:
    """Run one job and report how it ended; False if the manager asked the worker to exit."""
    controller = _Controller(task.job_id, commands, events)
    try:
        result, meta = execute(task.spec, np.load(task.vectors_path, mmap_mode="r"), controller)
    except Stopped as stop:
        events.send(("cancelled", task.job_id, stop.partial))
        return not controller.exit_requested
    except ProjectorError as error:
        events.send(("failed", task.job_id, str(error)))
        return True
    except Exception as error:  # a job's failure must never take the worker down
        log.exception("job %s failed", task.job_id)
        events.send(("failed", task.job_id, f"{type(error).__name__}: {error}"))
        return True
    try:
        cache.put(task.cache_key, result, meta)
    except OSError as error:  # a full disk costs the cache, not the result
        log.warning("could not cache job %s: %s", task.job_id, error)
    events.send(("done", task.job_id, result, meta))
    return True


def execute(spec: JobSpec, X: np.ndarray, callback: Any) -> tuple[np.ndarray, dict[str, Any]]:
    """Run a job's computation; returns the array to cache and its metadata."""
    from embedding_projector.compute import pca, preprocess, sample, tsne, umap

    if spec.spherize:
        X = preprocess.spherize(X)
    if spec.method == "pca":
        found = pca.run(X, callback=callback)
        ratio = [float(r) for r in found.explained_variance_ratio]
        return found.coordinates, {"explained_variance_ratio": ratio}
    params = dict(spec.params)
    size = params.pop("sample", None)
    if size is not None:
        layout = sample.run(
            spec.method, X, size=size, dims=spec.dims, seed=spec.seed, params=params,
            labels=spec.labels, n_jobs=tsne.threads_for(size), callback=callback,
        )  # fmt: skip
    elif spec.method == "tsne":
        layout = tsne.run(
            X,
            n_components=spec.dims,
            random_state=spec.seed,
            labels=spec.labels,
            n_jobs=tsne.threads_for(X.shape[0]),
            callback=callback,
            **params,
        )
    else:
        layout = umap.run(
            X, n_components=spec.dims, random_state=spec.seed, callback=callback, **params
        )
    return layout, {}


class _Controller:
    """The progress callback of a running job: applies control messages, streams progress."""

    def __init__(self, job_id: str, commands: Connection, events: Connection) -> None:
        self.job_id = job_id
        self.commands = commands
        self.events = events
        self.last_progress = 0.0
        self.last_layout = 0.0
        self.exit_requested = False

    def __call__(self, progress: Progress) -> bool:
        if self._stop_requested(progress):
            return True
        now = time.monotonic()
        if now - self.last_progress >= PROGRESS_INTERVAL or progress.fraction >= 1:
            self._send_progress(progress, paused=False)
            self.last_progress = now
        layout = progress.embedding
        if layout is not None and now - self.last_layout >= _layout_interval(layout):
            self.events.send(("layout", self.job_id, np.array(layout, dtype=np.float32)))
            self.last_layout = now
        return False

    def _send_progress(self, progress: Progress, *, paused: bool) -> None:
        message = ("progress", self.job_id, progress.fraction, progress.iteration)
        self.events.send((*message, progress.message, paused))

    def _stop_requested(self, progress: Progress) -> bool:
        """Apply pending control messages; while paused, wait for resume or stop."""
        paused = False
        while paused or self.commands.poll():
            try:
                message = self.commands.recv()
            except (EOFError, OSError):  # the manager is gone
                message = None
            if message is None:
                self.exit_requested = True
                return True
            command, job_id = message
            if job_id != self.job_id:  # meant for a job that has ended
                continue
            if command == "stop":
                return True
            if command in ("pause", "resume"):
                paused = command == "pause"
                self._send_progress(progress, paused=paused)
            elif command == "perturb" and progress.embedding is not None:
                from embedding_projector.compute import tsne

                tsne.perturb(progress.embedding)
                self.events.send(("layout", self.job_id, np.array(progress.embedding, np.float32)))
        return False


def _layout_interval(layout: np.ndarray) -> float:
    """Seconds between two intermediate layouts: a few per second, fewer for huge ones."""
    return max(LAYOUT_INTERVAL, layout.nbytes / _LAYOUT_BANDWIDTH)

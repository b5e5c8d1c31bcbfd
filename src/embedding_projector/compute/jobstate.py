"""The state of one job as the manager sees it, and the async watchers of its events.

Everything here runs with the :class:`.jobs.JobManager` lock held; :class:`Watcher`
is the only bridge to an event loop and it only ever schedules ``Event.set``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from embedding_projector.compute.messages import (
    Cancelled,
    Done,
    Failed,
    JobEvent,
    Layout,
    Progressed,
)
from embedding_projector.compute.spec import JobSpec
from embedding_projector.errors import NotFoundError, ProjectorError

#: A job is "queued", then "running" ("cancelling" once asked to stop), then ends in
#: one of these states.
TERMINAL = frozenset({"done", "failed", "cancelled"})
#: The states in which a worker is computing the job.
ON_A_WORKER = frozenset({"running", "cancelling"})


class JobNotReadyError(ProjectorError):
    """The job has no result (yet), or is not in a state that allows the action."""

    status = 409
    code = "job_not_ready"


class JobExpiredError(NotFoundError):
    """The job ended a while ago and was dropped from memory; its result is in the cache."""

    code = "job_expired"


class Watcher:
    """One subscriber: an :class:`asyncio.Event` set from the reader thread."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.event = asyncio.Event()
        self.layout_seen = 0

    def notify(self) -> None:
        """Wake the subscriber (from any thread)."""
        with contextlib.suppress(RuntimeError):  # its loop is closed: nobody listens
            self.loop.call_soon_threadsafe(self.event.set)

    async def wait(self) -> None:
        """Wait until something changed."""
        await self.event.wait()
        self.event.clear()


class Job:
    """A job's state, its latest layout and its watchers."""

    def __init__(
        self,
        job_id: str,
        spec: JobSpec,
        cache_key: str,
        vectors_path: Path,
        *,
        on_end: Callable[[Job], None],
    ) -> None:
        self.id = job_id
        self.spec = spec
        self.cache_key = cache_key
        self.vectors_path = vectors_path
        self.state = "queued"
        self.progress = 0.0
        self.iteration: int | None = None
        self.message: str | None = "queued"
        self.error: str | None = None
        self.paused = False
        self.cached = False
        self.result: np.ndarray | None = None
        self.meta: dict[str, Any] = {}
        self.layout: np.ndarray | None = None
        self.layout_version = 0
        self.watchers: set[Watcher] = set()
        self.worker: Any = None
        self.created = time.time()
        self.started: float | None = None
        self.finished: float | None = None
        self._on_end = on_end

    # -- transitions ---------------------------------------------------------

    def start(self, worker: Any) -> None:
        self.state, self.worker, self.started = "running", worker, time.time()
        self.message = "starting"
        self.touch()

    def finish_cached(self, result: np.ndarray, meta: dict[str, Any]) -> None:
        self.result, self.meta, self.cached = result, meta, True
        self.end("done", message="from the cache")

    def stop(self) -> None:
        """Asked to stop while a worker computes it: ``cancelling`` until the worker stops."""
        self.state, self.message, self.paused = "cancelling", "cancelling", False
        self.touch()

    def apply(self, event: JobEvent) -> None:
        """Apply a worker's message about this job (running or cancelling)."""
        match event:
            case Progressed():
                self.progress, self.iteration = event.fraction, event.iteration
                if self.state == "running":  # "cancelling" stays what the user sees
                    self.message, self.paused = event.message, event.paused
            case Layout():
                self.set_layout(event.coordinates)
            case Done():
                # Finished before it saw a stop: the whole result beats a partial one.
                self.result, self.meta = event.result, event.meta
                self.end("done", message="done")
            case Cancelled():
                if event.partial is not None:
                    self.set_layout(event.partial)
                self.end("cancelled", message="cancelled")
            case Failed():
                self.end("failed", error=event.error)
        if self.state not in TERMINAL:
            self.touch()

    def set_layout(self, layout: np.ndarray) -> None:
        self.layout = np.asarray(layout, dtype=np.float32)
        self.layout_version += 1

    def end(self, state: str, *, message: str | None = None, error: str | None = None) -> None:
        self.state, self.message, self.error = state, message, error
        self.paused, self.worker, self.finished = False, None, time.time()
        if state == "done":
            self.progress = 1.0
            self.layout_version += 1
        # An ended job keeps only what it shows: the result, or a cancelled job's partial
        # layout. Supervision labels (a Python object per point) are not needed any more.
        if state != "cancelled":
            self.layout = None
        self.spec = dataclasses.replace(self.spec, labels=None)
        self.touch()
        self._on_end(self)

    @property
    def nbytes(self) -> int:
        """Bytes of the arrays it holds (its result and its latest layout)."""
        return sum(a.nbytes for a in (self.result, self.layout) if a is not None)

    def touch(self) -> None:
        """Tell the watchers that something changed."""
        for watcher in self.watchers:
            watcher.notify()

    # -- views ---------------------------------------------------------------

    def final_layout(self) -> np.ndarray | None:
        """The result as shown (PCA: the chosen components), or a cancelled job's partial layout."""
        if self.state == "done" and self.result is not None:
            if self.spec.method == "pca":
                return np.ascontiguousarray(self.result[:, list(self.spec.components)])
            return self.result
        if self.state == "cancelled":
            return self.layout
        return None

    def status(self) -> dict[str, Any]:
        """JSON-able state: what ``GET /api/jobs/{job}`` returns."""
        status: dict[str, Any] = {
            "id": self.id,
            "method": self.spec.method,
            "dims": self.spec.dims,
            "state": self.state,
            "progress": round(float(self.progress), 4),
            "iteration": self.iteration,
            "message": self.message,
            "error": self.error,
            "paused": self.paused,
            "cached": self.cached,
            "has_layout": self.layout is not None or self.result is not None,
            "elapsed": _elapsed(self.started, self.finished),
        }
        if self.spec.method == "pca":
            status["components"] = list(self.spec.components)
            status["explained_variance_ratio"] = self.meta.get("explained_variance_ratio")
        return status

    def event(self, watcher: Watcher) -> dict[str, Any]:
        """The next event for ``watcher``: status plus the layout if it is new to them."""
        event = self.status()
        event["coordinates"] = None
        if watcher.layout_seen != self.layout_version:
            watcher.layout_seen = self.layout_version
            final = self.final_layout()
            event["coordinates"] = final if final is not None else self.layout
        return event


def _elapsed(started: float | None, finished: float | None) -> float | None:
    if started is None:
        return None
    return round((finished or time.time()) - started, 3)

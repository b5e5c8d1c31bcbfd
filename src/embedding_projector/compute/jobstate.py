"""The state of one job as the manager sees it, and the async watchers of its events.

Everything here runs with the :class:`.jobs.JobManager` lock held; :class:`Watcher`
is the only bridge to an event loop and it only ever schedules ``Event.set``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from embedding_projector.compute.analyses import AnalysisSpec
from embedding_projector.compute.messages import (
    Cancelled,
    Done,
    Failed,
    JobEvent,
    Layout,
    Progressed,
    Run,
    RunTimeline,
    StepDone,
)
from embedding_projector.compute.spec import OVERLAP, AnySpec, JobSpec
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
        #: Timelines: the version of each step's layout last sent.
        self.steps_seen: dict[int, int] = {}

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
        spec: AnySpec,
        cache_key: str,
        vectors_path: Path,
        *,
        on_end: Callable[[Job], None],
        compared_path: Path | None = None,
    ) -> None:
        self.id = job_id
        self.spec = spec
        self.cache_key = cache_key
        self.vectors_path = vectors_path
        self.compared_path = compared_path
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

    def command(self) -> Run | RunTimeline:
        """The message that has a worker run it."""
        return Run(self.id, self.spec, self.vectors_path, self.cache_key, self.compared_path)

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
            case StepDone():
                pass  # only timelines have steps
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
        # layout. Its per-point inputs (labels, an analysed layout) are not needed any more.
        if state != "cancelled":
            self.layout = None
        self.spec = self.spec.released()
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
        if isinstance(self.spec, AnalysisSpec):
            status["summary"] = self.meta or None
        if self.spec.method == "pca":
            status["components"] = list(self.spec.components)
            status["explained_variance_ratio"] = self.meta.get("explained_variance_ratio")
        return status

    def events(self, watcher: Watcher) -> list[dict[str, Any]]:
        """The next events for ``watcher``: status plus the layout if it is new to them
        (``"step"`` None; a timeline sends one per step whose layout is new)."""
        event = self.status() | {"coordinates": None, "step": None}
        # An analysis's or an overlap's result is per-point numbers, not a layout: fetched
        # from /result, never streamed as one (a 1-D array is no layout frame).
        per_point = isinstance(self.spec, AnalysisSpec) or self.spec.method == OVERLAP
        if watcher.layout_seen != self.layout_version and not per_point:
            watcher.layout_seen = self.layout_version
            final = self.final_layout()
            event["coordinates"] = final if final is not None else self.layout
        return [event]


class TimelineJob(Job):
    """A job over the steps of a timeline (:mod:`.timeline_job`): one result per step.

    ``result`` stays None; ``step_results[s]`` holds step ``s``'s once it is done, and
    ``layout`` the live layout of ``live_step`` (t-SNE, UMAP) while it is computed.
    """

    def __init__(
        self,
        job_id: str,
        spec: JobSpec,
        cache_key: str,
        vectors_paths: tuple[Path, ...],
        step_keys: tuple[str, ...],
        *,
        on_end: Callable[[Job], None],
    ) -> None:
        super().__init__(job_id, spec, cache_key, vectors_paths[-1], on_end=on_end)
        self.spec: JobSpec = spec
        self.vectors_paths = vectors_paths
        self.step_keys = step_keys
        self.step_results: list[np.ndarray | None] = [None] * len(step_keys)
        self.step_versions = [0] * len(step_keys)
        self.live_step: int | None = None

    def command(self) -> RunTimeline:
        return RunTimeline(self.id, self.spec, self.vectors_paths, self.step_keys)

    def finish_steps_cached(self, found: list[tuple[np.ndarray, dict[str, Any]]]) -> None:
        """Every step was in the cache: done at once."""
        for s, (result, meta) in enumerate(found):
            self._step_done(s, result, meta)
        self.cached = True
        self.end("done", message="from the cache")

    def apply(self, event: JobEvent) -> None:
        match event:
            case StepDone():
                self._step_done(event.step, event.result, event.meta)
                self.message = f"step {event.step + 1} of {len(self.step_keys)} done"
                self.touch()
            case Layout() if event.step is not None:
                self.live_step = event.step
                self.set_layout(event.coordinates)
                self.step_versions[event.step] += 1
                self.touch()
            case _:
                super().apply(event)

    def _step_done(self, step: int, result: np.ndarray, meta: dict[str, Any]) -> None:
        self.step_results[step] = result
        self.step_versions[step] += 1
        self.meta = meta or self.meta

    def end(self, state: str, *, message: str | None = None, error: str | None = None) -> None:
        self.live_step = None
        super().end(state, message=message, error=error)

    @property
    def nbytes(self) -> int:
        held = sum(r.nbytes for r in self.step_results if r is not None)
        return held + (self.layout.nbytes if self.layout is not None else 0)

    def step_layout(self, step: int) -> np.ndarray | None:
        """Step ``step`` as shown (PCA: the chosen components; a live layout while it is
        computed), or None while it has none."""
        if not 0 <= step < len(self.step_results):
            count = len(self.step_results)
            raise NotFoundError(f"job {self.id} has {count} steps (0..{count - 1}), not {step}")
        result = self.step_results[step]
        if result is None:
            return self.layout if step == self.live_step else None
        if self.spec.method == "pca":
            return np.ascontiguousarray(result[:, list(self.spec.components)])
        return result

    def final_layout(self) -> np.ndarray | None:
        """The newest step that has a layout (``GET .../result`` without a step)."""
        done = [s for s, r in enumerate(self.step_results) if r is not None]
        return self.step_layout(done[-1]) if done else None

    def status(self) -> dict[str, Any]:
        status = super().status()
        status["steps"] = len(self.step_results)
        status["steps_done"] = [s for s, r in enumerate(self.step_results) if r is not None]
        status["has_layout"] = bool(status["steps_done"]) or self.layout is not None
        return status

    def events(self, watcher: Watcher) -> list[dict[str, Any]]:
        status = self.status()
        events = []
        for s, version in enumerate(self.step_versions):
            if watcher.steps_seen.get(s, 0) != version:
                watcher.steps_seen[s] = version
                layout = self.step_layout(s)
                if layout is not None:
                    events.append(status | {"coordinates": layout, "step": s})
        return events or [status | {"coordinates": None, "step": None}]


def _elapsed(started: float | None, finished: float | None) -> float | None:
    if started is None:
        return None
    return round((finished or time.time()) - started, 3)

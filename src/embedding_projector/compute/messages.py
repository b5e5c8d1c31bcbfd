"""The messages between the job manager and its worker processes: one class per message.

Both ends import these classes, so a message has one definition, with named fields,
instead of a positional tuple that each side must unpack the same way. They cross
the pipes pickled (arrays included; the vectors themselves never do, see
:mod:`.jobs`).

Manager to worker (:data:`Command`): :class:`Run`, :class:`RunTimeline`,
:class:`WarmUp`, :class:`Control` and :class:`Exit`. Worker to manager
(:data:`Event`): :class:`Ready` once, :class:`Warmed`, and per job
:class:`Progressed` and :class:`Layout` while it runs (a timeline also
:class:`StepDone` per step), then one of :class:`Done`, :class:`Cancelled`,
:class:`Failed`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from embedding_projector.compute.spec import AnySpec, JobSpec

# -- manager to worker ---------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """Run a job: its spec, where the vectors are, where to cache the result.

    An overlap job also has the vectors it compares with (``compared_path``).
    """

    job_id: str
    spec: AnySpec
    vectors_path: Path
    cache_key: str
    compared_path: Path | None = None


@dataclass(frozen=True)
class RunTimeline:
    """Run a timeline job (:mod:`.timeline_job`): one result per step, each cached."""

    job_id: str
    spec: JobSpec
    vectors_paths: tuple[Path, ...]
    cache_keys: tuple[str, ...]


@dataclass(frozen=True)
class WarmUp:
    """Compile UMAP's numba kernels in this process (answered by :class:`Warmed`)."""


Action = Literal["stop", "pause", "resume", "perturb"]


@dataclass(frozen=True)
class Control:
    """Stop, pause, resume or perturb the running job (ignored if it is another job)."""

    job_id: str
    action: Action


@dataclass(frozen=True)
class Exit:
    """Leave the worker process (a running job stops first)."""


Command = Run | RunTimeline | WarmUp | Control | Exit

# -- worker to manager ---------------------------------------------------------


@dataclass(frozen=True)
class Ready:
    """The worker has started and waits for commands."""

    pid: int


@dataclass(frozen=True)
class Warmed:
    """UMAP's kernels are compiled in this worker."""


@dataclass(frozen=True)
class Progressed:
    """How far the job got; ``paused`` while a t-SNE waits for resume."""

    job_id: str
    fraction: float
    iteration: int | None
    message: str
    paused: bool


@dataclass(frozen=True)
class Layout:
    """An intermediate layout, float32 ``(N, dims)`` (throttled by the worker); in a
    timeline, of the step being computed."""

    job_id: str
    coordinates: np.ndarray
    step: int | None = None


@dataclass(frozen=True)
class StepDone:
    """A timeline's step is finished (and cached): its result and metadata."""

    job_id: str
    step: int
    result: np.ndarray
    meta: dict[str, Any]


@dataclass(frozen=True)
class Done:
    """The job finished: the array that was cached and its metadata (a timeline's
    results came step by step: ``None``)."""

    job_id: str
    result: np.ndarray | None
    meta: dict[str, Any]


@dataclass(frozen=True)
class Cancelled:
    """The job stopped when asked; ``partial`` is its layout so far, if it had one."""

    job_id: str
    partial: np.ndarray | None


@dataclass(frozen=True)
class Failed:
    """The job raised; ``error`` says why, for people."""

    job_id: str
    error: str


JobEvent = Progressed | Layout | StepDone | Done | Cancelled | Failed
Event = Ready | Warmed | JobEvent

"""Following one job's work on the cluster: progress, stopping, and a long task's reports.

The client side (:class:`Tracker`, in a thread of the server) submits the job's
tasks, waits for them while reporting the share done (aggregated from the
futures), and releases them all on a stop. A long single task (a t-SNE or UMAP fit
on one worker) reports through a :class:`Channel`: a few small Dask ``Variable``
updates per second through the scheduler (progress; an intermediate layout at most
every second and 4 MB/s), and it stops when the job's Dask ``Event`` is set.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from embedding_projector.compute.progress import Progress, Stopped

#: Seconds between two looks at the futures and the channel.
POLL = 0.25
#: Seconds between two reports of a long task (each one message to the scheduler).
REPORT_EVERY = 0.25
#: Bytes per second of intermediate layouts a long task sends through the scheduler.
LAYOUT_BANDWIDTH = 4e6
#: Seconds between two intermediate layouts at least.
LAYOUT_EVERY = 1.0

Report = Callable[[Progress], None]


@dataclass(frozen=True)
class Channel:
    """The worker side of a long task's reports: a progress callback (see :mod:`..progress`).

    Pickled into the task; on the worker, calling it with a :class:`Progress` publishes
    it (throttled) and returns True once the job is asked to stop.
    """

    name: str

    def __call__(self, progress: Progress) -> bool:
        return _channel_state(self.name).publish(progress)

    def close(self) -> None:
        """The long task ends (on the worker): forget its reports here, and its job's stop
        on the scheduler (:meth:`Tracker.close` leaves a stop for the task to see)."""
        from distributed import Event, get_client

        with _states_lock:
            state = _states.pop(self.name, None)
        stop = state.stop if state is not None else Event(f"{self.name}-stop", get_client())
        stop.clear()


class _ChannelState:
    """What a channel remembers between two reports, in the worker process."""

    def __init__(self, name: str) -> None:
        from distributed import Event, Variable, get_client

        client = get_client()
        self.progress = Variable(f"{name}-progress", client=client)
        self.layout = Variable(f"{name}-layout", client=client)
        self.stop = Event(f"{name}-stop", client=client)
        self.last_report = 0.0
        self.last_layout = 0.0
        self.layout_version = 0

    def publish(self, progress: Progress) -> bool:
        now = time.monotonic()
        if now - self.last_report < REPORT_EVERY and progress.fraction < 1:
            return False
        self.last_report = now
        layout = progress.embedding
        if layout is not None and now - self.last_layout >= _layout_every(layout):
            array = np.ascontiguousarray(layout, dtype=np.float32)
            self.layout.set({"shape": list(array.shape), "data": array.tobytes()})
            self.last_layout, self.layout_version = now, self.layout_version + 1
        self.progress.set(
            {
                "fraction": float(progress.fraction),
                "message": progress.message,
                "iteration": progress.iteration,
                "layout": self.layout_version,
            }
        )
        return bool(self.stop.is_set())


_states: dict[str, _ChannelState] = {}
_states_lock = threading.Lock()


def _channel_state(name: str) -> _ChannelState:
    with _states_lock:
        if name not in _states:
            _states[name] = _ChannelState(name)
        return _states[name]


def _release(futures: Iterable[Any]) -> None:
    """Tell the scheduler this client no longer wants these results."""
    for future in futures:
        future.release()


def _layout_every(layout: np.ndarray) -> float:
    return max(LAYOUT_EVERY, layout.nbytes / LAYOUT_BANDWIDTH)


class Tracker:
    """The client side of one job: its futures, its progress, its stop.

    Parameters
    ----------
    client
        ``distributed.Client``.
    report
        Receives the job's progress (fraction of the whole job, message, and the
        intermediate layouts of a long task); None ignores it.
    """

    def __init__(self, client: Any, report: Report | None = None) -> None:
        self.client = client
        self.name = f"embedding-projector-{uuid.uuid4().hex}"
        self._report = report
        self._futures: list[Any] = []
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self._layout_seen = 0
        self._channel_seen: dict[str, Any] | None = None
        self._stage = (0.0, 1.0)

    @property
    def channel(self) -> Channel:
        """The channel a long task of this job reports through (opened on first use)."""
        from distributed import Variable

        if self._channel_seen is None:
            # Set before the task reports, so that polling never waits for a variable.
            self._channel_seen = {"fraction": 0.0, "message": "", "iteration": None, "layout": 0}
            Variable(f"{self.name}-progress", client=self.client).set(self._channel_seen)
        return Channel(self.name)

    def submit(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``client.submit``, remembered so that :meth:`stop` cancels it."""
        future = self.client.submit(function, *args, pure=False, **kwargs)
        self._keep([future])
        return future

    def persist(self, array: Any) -> Any:
        """``client.persist`` of a dask collection, its futures remembered."""
        from distributed import futures_of

        persisted = self.client.persist(array)
        self._keep(futures_of(persisted))
        return persisted

    def compute(self, collection: Any) -> Any:
        """``client.compute`` of a dask collection: one future, remembered."""
        future = self.client.compute(collection)
        self._keep([future])
        return future

    def result(self, future: Any) -> Any:
        """The future's result, waiting with the job's stop in mind (no progress reported)."""
        start, stop = self._stage
        self.wait([future], stop, stop, "")
        self._stage = (start, stop)
        return future.result()

    def wait(self, futures: Iterable[Any], start: float, stop: float, message: str) -> None:
        """Wait for ``futures``, reporting ``start..stop`` of the job as they finish.

        A long task's own reports (through :attr:`channel`) fill the same range.

        Raises
        ------
        Stopped
            The job was stopped (:meth:`stop`).
        Exception
            The first task's error (a worker's message, ``KilledWorker``, ...).
        """
        from distributed import wait

        pending = set(futures)
        total = max(1, len(pending))
        self._stage = (start, stop)
        while pending:
            self.check()
            try:
                done, pending = wait(pending, timeout=POLL, return_when="FIRST_COMPLETED")
            except TimeoutError:
                done = set()
            for future in done:
                if future.status != "finished":
                    self.check()
                    future.result()  # raises the task's error
            if done and message:
                fraction = start + (stop - start) * (total - len(pending)) / total
                self.report(Progress(fraction, f"{message}: {total - len(pending)}/{total}"))
            self._poll_channel()
        self.check()

    def report(self, progress: Progress) -> None:
        """Pass progress on to the job."""
        if self._report is not None:
            self._report(progress)

    def stop(self) -> None:
        """Stop the job: release its futures, tell its long task to stop. Returns at once.

        Released, not cancelled: the scheduler forgets the tasks no one wants any more
        (those not started never run; a running one finishes its block), while
        ``Client.cancel`` asserts on intermediate tasks no client holds (distributed
        2026.8: ``assert ts.who_wants``), which drops the client's connection.
        """
        self._stopped.set()
        threading.Thread(target=self._cancel, name="dask-cancel", daemon=True).start()

    @property
    def stopped(self) -> bool:
        """Whether :meth:`stop` was called."""
        return self._stopped.is_set()

    def check(self) -> None:
        """Raise :class:`Stopped` if the job was stopped."""
        if self._stopped.is_set():
            raise Stopped(None)

    def close(self) -> None:
        """Release the job's futures and its channel on the scheduler."""
        from distributed import Event, Variable

        with self._lock:
            futures, self._futures = self._futures, []
        if self.client.status != "running":
            return
        _release(futures)
        if self._channel_seen is not None:
            for suffix in ("progress", "layout"):
                Variable(f"{self.name}-{suffix}", client=self.client).delete()
            # A stopped job's long task may still be running, released but not interrupted:
            # its stop stays set until it sees it (the task clears it as it ends,
            # :meth:`Channel.close`). Cleared here, it would run to its last iteration,
            # holding its worker (a cancelled 5,000-iteration t-SNE held one for minutes).
            if not self._stopped.is_set():
                Event(f"{self.name}-stop", client=self.client).clear()

    def _keep(self, futures: list[Any]) -> None:
        with self._lock:
            self._futures.extend(futures)
        if self._stopped.is_set():
            _release(futures)

    def _cancel(self) -> None:
        from distributed import Event

        with self._lock:
            futures, self._futures = self._futures, []
        if self.client.status == "running":
            if self._channel_seen is not None:  # a long task may be listening
                Event(f"{self.name}-stop", client=self.client).set()
            _release(futures)

    def _poll_channel(self) -> None:
        """Forward a long task's newest report (and layout), if it sent one."""
        from distributed import Variable

        if self._channel_seen is None:
            return
        state = Variable(f"{self.name}-progress", client=self.client).get()
        if state == self._channel_seen:
            return
        self._channel_seen = state
        layout = None
        if state["layout"] != self._layout_seen:
            sent = Variable(f"{self.name}-layout", client=self.client).get(timeout=0)
            layout = np.frombuffer(sent["data"], dtype=np.float32).reshape(sent["shape"])
            self._layout_seen = state["layout"]
        start, stop = self._stage
        fraction = start + (stop - start) * state["fraction"]
        self.report(Progress(fraction, state["message"], state["iteration"], layout))

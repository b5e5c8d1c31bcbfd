"""The worker processes of the job engine: spawning, respawning, liveness.

A :class:`WorkerPool` keeps ``size`` spawned worker processes (:mod:`.worker`) alive and
follows them from one reader thread, which waits on every worker's event pipe and
process sentinel at once. It knows nothing about jobs: it hands each message it reads,
and each worker that dies, to its :class:`PoolListener` (the :class:`.jobs.JobManager`),
and replaces the dead worker itself, from the reader thread with no lock held: starting
a process takes milliseconds, and the new interpreter's imports (about a second) happen
in the child before it reports :class:`.messages.Ready`, so a status call never waits
for a respawn. :meth:`WorkerPool.kill` ends
a worker at once (a job that does not stop when asked); its death then reaches the
listener like any other.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from multiprocessing.connection import Connection, wait
from typing import Any, Protocol

from embedding_projector.compute import worker as worker_module
from embedding_projector.compute.cache import ResultCache
from embedding_projector.compute.messages import Command, Event, Exit, Ready

log = logging.getLogger(__name__)

#: Workers dying before they report ready, in a row, after which none is respawned.
MAX_START_FAILURES = 3
#: Longest sleep of the reader thread: how soon it notices that the pool was closed.
_TICK = 0.5
#: Tells a worker's sender thread to stop.
_CLOSED = object()


class WorkerProcess:
    """One worker process, its two pipes, and the thread that sends it commands."""

    def __init__(self, context: Any, cache: ResultCache) -> None:
        command_recv, self._commands = context.Pipe(duplex=False)
        self.events, event_send = context.Pipe(duplex=False)
        args = (command_recv, event_send, str(cache.directory), cache.max_bytes)
        self.process = context.Process(target=worker_module.main, args=args, daemon=True)
        self.process.start()
        command_recv.close()
        event_send.close()
        # Commands go out from a thread of their own: pickling a job (t-SNE labels of
        # a million points) must not happen under the caller's lock.
        self._outbox: queue.SimpleQueue[Any] = queue.SimpleQueue()
        threading.Thread(target=self._send_loop, name="jobs-sender", daemon=True).start()
        self.ready = False
        """It has started (sent :class:`.messages.Ready`)."""
        self.dead = False
        """Its process has ended (the reader thread saw it); never give it work."""

    def send(self, command: Command) -> None:
        """Queue a command for the worker; returns at once."""
        self._outbox.put(command)

    def _send_loop(self) -> None:
        while (command := self._outbox.get()) is not _CLOSED:
            # A dead worker's pipe is broken: the reader thread notices and cleans up.
            with contextlib.suppress(OSError):
                self._commands.send(command)

    def close(self, *, timeout: float = 0.0) -> None:
        """Wait up to ``timeout`` for the process to exit, kill it, release its pipes."""
        self._outbox.put(_CLOSED)
        self.process.join(timeout=timeout)
        self.process.kill()
        self.process.join(timeout=5)
        self._commands.close()
        self.events.close()


class PoolListener(Protocol):
    """What the pool tells its owner. Called from the reader thread, no pool lock held."""

    def received(self, worker: WorkerProcess, event: Event) -> None:
        """``worker`` sent ``event``."""

    def lost(self, worker: WorkerProcess) -> None:
        """``worker`` died (its last messages were delivered first).

        A replacement follows (:meth:`joined`) unless workers keep dying at start,
        when the pool gives up on it (see :attr:`WorkerPool.exhausted`).
        """

    def joined(self, worker: WorkerProcess) -> None:
        """``worker`` was spawned to replace a dead one; it can take work."""


class WorkerPool:
    """``size`` worker processes, replaced when they die; see the module docstring."""

    def __init__(self, size: int, cache: ResultCache, listener: PoolListener) -> None:
        # A spawned (not forked) worker starts clean even though the server has threads.
        import multiprocessing

        self._context = multiprocessing.get_context("spawn")
        self._cache = cache
        self._listener = listener
        self._lock = threading.Lock()
        self._workers = [WorkerProcess(self._context, cache) for _ in range(max(1, size))]
        self._start_failures = 0
        self._closed = False
        self._reader = threading.Thread(target=self._read, name="jobs-reader", daemon=True)

    def start(self) -> None:
        """Start following the workers (the listener hears from them from now on)."""
        self._reader.start()

    @property
    def workers(self) -> list[WorkerProcess]:
        """The live workers, in a stable order."""
        with self._lock:
            return [w for w in self._workers if not w.dead]

    @property
    def exhausted(self) -> bool:
        """No worker is left, nor coming: they died at start too often (a broken install)."""
        with self._lock:
            return not self._workers

    def kill(self, worker: WorkerProcess) -> None:
        """Kill ``worker`` now; it gets no more work, and is replaced once its process is gone."""
        worker.dead = True
        worker.process.kill()  # its sentinel fires as soon as the kernel has ended it

    def close(self) -> None:
        """Ask every worker to exit, kill those that do not within 2 s. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        # The reader stops within a tick (after a spawn under way): then no worker is added.
        self._reader.join(timeout=5)
        with self._lock:
            workers = list(self._workers)
        for worker in workers:
            worker.send(Exit())
        deadline = time.monotonic() + 2.0
        for worker in workers:
            worker.close(timeout=max(0.0, deadline - time.monotonic()))

    # -- the reader thread ---------------------------------------------------

    def _read(self) -> None:
        while True:
            with self._lock:
                if self._closed:
                    return
                workers = list(self._workers)
            by_pipe = {w.events: w for w in workers}
            by_sentinel = {w.process.sentinel: w for w in workers}
            try:
                for item in wait([*by_pipe, *by_sentinel], timeout=_TICK):
                    if isinstance(item, Connection) and item in by_pipe:
                        self._receive(by_pipe[item])
                    elif item in by_sentinel:
                        self._bury(by_sentinel[item])
            except Exception:  # a bug here must not leave every job hanging
                log.exception("job pool reader thread")

    def _receive(self, worker: WorkerProcess) -> bool:
        """Deliver one message of ``worker``; False at the end of its pipe."""
        try:
            event = worker.events.recv()
        except (EOFError, OSError):
            return False  # the sentinel reports the death
        if isinstance(event, Ready):
            worker.ready = True
            with self._lock:
                self._start_failures = 0
        self._listener.received(worker, event)
        return True

    def _bury(self, dead: WorkerProcess) -> None:
        """A worker's process ended: deliver its last words, tell the listener, replace it."""
        dead.dead = True
        dead.process.join(timeout=1)  # its sentinel fired: this reaps it at once
        # (A closed pipe polls as readable: stop at its end.)
        while _poll(dead.events) and self._receive(dead):
            pass
        with self._lock:
            if not dead.ready:
                self._start_failures += 1
            respawn = not self._closed and self._start_failures < MAX_START_FAILURES
            if not respawn:
                self._workers.remove(dead)
        self._listener.lost(dead)
        dead.close()
        if not respawn:
            return
        # No lock is held while the process starts: the manager keeps answering.
        replacement = WorkerProcess(self._context, self._cache)
        with self._lock:
            self._workers[self._workers.index(dead)] = replacement
        self._listener.joined(replacement)


def _poll(conn: Connection) -> bool:
    try:
        return not conn.closed and conn.poll()
    except (EOFError, OSError):
        return False

"""Projection jobs on the cluster, run from threads of the server, for :mod:`..jobs`.

:meth:`ClusterJobs.register` reads an input's fingerprint on the workers (its content
key); :class:`~embedding_projector.compute.jobs.JobManager` then sends the jobs of that
key here instead of to its worker processes. :meth:`ClusterJobs.start` runs one in a
thread of its own, which drives the cluster (:mod:`.pca`, :mod:`.embed`) and delivers
the same messages a worker process sends (:class:`~..messages.Progressed`,
:class:`~..messages.Layout`, then :class:`~..messages.Done`,
:class:`~..messages.Cancelled` or :class:`~..messages.Failed`); the result goes to the
same cache.

Faults (:func:`.cluster.explain`): a worker that dies mid-task has its task retried by
Dask on another worker; a task that killed several workers fails the job with a message
naming the last one; a lost scheduler fails the running jobs with a message naming its
address. The server keeps serving in both cases.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from embedding_projector.compute.cache import ResultCache
from embedding_projector.compute.distributed import embed
from embedding_projector.compute.distributed import pca as distributed_pca
from embedding_projector.compute.distributed.blocks import Blocks, combine_prints, print_block
from embedding_projector.compute.distributed.cluster import Cluster, explain
from embedding_projector.compute.distributed.knn import ShardedIndex
from embedding_projector.compute.distributed.tracking import Tracker
from embedding_projector.compute.messages import (
    Cancelled,
    Command,
    Control,
    Done,
    Failed,
    JobEvent,
    Layout,
    Progressed,
)
from embedding_projector.compute.progress import Progress, Stopped
from embedding_projector.compute.spec import JobSpec
from embedding_projector.formats.rows import RowFile

log = logging.getLogger(__name__)

#: Takes a worker process's message about a job.
Deliver = Callable[[JobEvent], None]


class ClusterJobs:
    """Runs jobs on a Dask cluster; one per server, beside the local worker processes.

    Parameters
    ----------
    cluster
        The connected cluster.
    cache
        The result cache the local workers use too.
    """

    def __init__(self, cluster: Cluster, cache: ResultCache) -> None:
        self.cluster = cluster
        self.cache = cache
        self._blocks: dict[str, Blocks] = {}
        self._runs: set[ClusterRun] = set()
        self._lock = threading.Lock()

    def register(self, rows: RowFile) -> str:
        """Read the input's fingerprint on the workers; returns its content key.

        Blocking (one parallel read of every block). Raises the first worker's error
        (one that cannot see the file names itself and the path), a
        :class:`~embedding_projector.errors.ChecksumError` for a corrupt checkpoint, or
        an error for NaN or infinite values.
        """
        blocks = Blocks.of(rows)
        tracker = Tracker(self.cluster.client)
        try:
            futures = [tracker.submit(print_block, rows, a, b) for a, b in blocks.bounds]
            tracker.wait(futures, 0.0, 1.0, "")
            key = combine_prints(blocks, tracker.client.gather(futures, direct=True))
        except Exception as error:
            raise explain(self.cluster, error) from None
        finally:
            tracker.close()
        with self._lock:
            self._blocks[key] = blocks
        return key

    def blocks(self, key: str) -> Blocks:
        """The registered input of ``key``."""
        with self._lock:
            return self._blocks[key]

    def location(self, key: str) -> str:
        """Where the registered input of ``key`` is stored."""
        return self.blocks(key).rows.location

    def neighbor_index(self, key: str, *, spherize: bool) -> ShardedIndex:
        """Build the sharded exact neighbour index of a registered input (blocking)."""
        return ShardedIndex(self.cluster, self.blocks(key), key, spherize=spherize)

    def start(self, job_id: str, spec: JobSpec, key: str, cache_key: str, deliver: Deliver) -> Any:
        """Run a job in a thread of its own; returns its handle (``send(Control(id, "stop"))``)."""
        run = ClusterRun(self, job_id, spec, key, cache_key, deliver)
        with self._lock:
            self._runs.add(run)
        threading.Thread(target=run, name=f"dask-job-{job_id[:8]}", daemon=True).start()
        return run

    def close(self) -> None:
        """Stop the running jobs and disconnect (stopping a ``LocalCluster`` we started)."""
        with self._lock:
            runs = list(self._runs)
        for run in runs:
            run.tracker.stop()
        self.cluster.close()

    def finished(self, run: ClusterRun) -> None:
        with self._lock:
            self._runs.discard(run)


class ClusterRun:
    """One job on the cluster: the thread that drives it, and its handle for the manager.

    The manager stops it as it stops a worker process: ``send(Control(job_id, "stop"))``.
    """

    #: Pause, resume and perturb are for t-SNE in a local worker only.
    controls = False

    def __init__(
        self,
        jobs: ClusterJobs,
        job_id: str,
        spec: JobSpec,
        key: str,
        cache_key: str,
        deliver: Deliver,
    ) -> None:
        self.jobs = jobs
        self.job_id = job_id
        self.spec = spec
        self.key = key
        self.blocks = jobs.blocks(key)
        self.cache_key = cache_key
        self.deliver = deliver
        self.tracker = Tracker(jobs.cluster.client, self._progress)

    def send(self, message: Command) -> None:
        """A command from the manager: only stop applies."""
        if isinstance(message, Control) and message.action == "stop":
            self.tracker.stop()

    def __call__(self) -> None:
        try:
            result, meta = self._execute()
        except Exception as error:
            explained = explain(self.jobs.cluster, error)
            if isinstance(explained, Stopped) or self.tracker.stopped:
                self.deliver(Cancelled(self.job_id, None))
            else:
                log.info("job %s failed on the cluster: %s", self.job_id, explained)
                self.deliver(Failed(self.job_id, str(explained)))
            return
        finally:
            self._close()
        try:
            self.jobs.cache.put(self.cache_key, result, meta)
        except OSError as error:  # a full disk costs the cache, not the result
            log.warning("could not cache job %s: %s", self.job_id, error)
        self.deliver(Done(self.job_id, result, meta))

    def _execute(self) -> tuple[np.ndarray, dict[str, Any]]:
        spec, key = self.spec, self.key
        if spec.method == "pca":
            found = distributed_pca.run(self.tracker, self.blocks, key, spherize=spec.spherize)
            ratio = [float(r) for r in found.explained_variance_ratio]
            return found.coordinates, {"explained_variance_ratio": ratio}
        params = dict(spec.params)
        size = params.pop("sample", None)
        prepare = None
        if spec.spherize:
            centre = distributed_pca.centroid(self.tracker, self.blocks, key, stop=0.0)
            prepare = functools.partial(distributed_pca.spherized, centre=centre)
        layout = embed.run(
            self.tracker, self.blocks, method=spec.method, dims=spec.dims, seed=spec.seed,
            params=params, size=size, labels=spec.labels, prepare=prepare,
        )  # fmt: skip
        return layout, {}

    def _progress(self, progress: Progress) -> None:
        if progress.embedding is not None:
            self.deliver(Layout(self.job_id, progress.embedding))
        self.deliver(Progressed(self.job_id, progress.fraction, progress.iteration,
                                progress.message, paused=False))  # fmt: skip

    def _close(self) -> None:
        try:
            self.tracker.close()
        except Exception:  # a lost scheduler: nothing left to release
            log.debug("releasing job %s on the cluster", self.job_id, exc_info=True)
        self.jobs.finished(self)

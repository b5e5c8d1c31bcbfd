"""The server's compute: the job engine, and per-embedding vectors keys and kNN indexes.

Everything slow (hashing the vectors for the workers, building a neighbour index)
runs in a thread, once per embedding, behind a per-key lock: the event loop never
waits on it, and concurrent first requests share one build.

With a Dask cluster, an embedding whose file the workers can read in row ranges
(``Embedding.source.rows``) is computed there: its key is the fingerprint the workers
read, its jobs run on the cluster (:class:`.distributed.jobs.ClusterJobs`) and its
neighbour index is sharded over their memory; this process never reads its vectors.
Other inputs (TSV, ``.npz``, ``.pt``, partitioned checkpoint tensors) stay on this machine.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from embedding_projector.compute import knn
from embedding_projector.compute.jobs import JobManager
from embedding_projector.dataset.model import Embedding
from embedding_projector.formats.rows import RowFile

T = TypeVar("T")


class ComputeEngine:
    """One per server: owns the worker processes and what is built per embedding."""

    def __init__(self, *, cache_dir: Path, n_workers: int, cluster: Any = None) -> None:
        self.jobs = JobManager(n_workers=n_workers, cache_dir=cache_dir)
        self.cluster_jobs: Any = None
        if cluster is not None:
            from embedding_projector.compute.distributed.jobs import ClusterJobs

            self.cluster_jobs = ClusterJobs(cluster, self.jobs.cache)
        self._built: dict[tuple[str, ...], Any] = {}
        self._background: set[asyncio.Task[Any]] = set()
        self._locks: defaultdict[tuple[str, ...], asyncio.Lock] = defaultdict(asyncio.Lock)

    def start(self) -> None:
        """Compile UMAP's kernels in the background, so that a first UMAP is not slow."""
        self.jobs.warm_up_umap()

    def close(self) -> None:
        """Stop every worker (Ctrl-C, or the end of a test), and leave the cluster."""
        self.jobs.close()
        if self.cluster_jobs is not None:
            self.cluster_jobs.close()

    async def vectors_key(self, emb_id: str, embedding: Embedding) -> str:
        """The workers' key for these vectors (hashed and shared once)."""
        rows = self._on_cluster(embedding)
        if rows is not None:
            return await self._once(("vectors", emb_id), lambda: self._register_elsewhere(rows))
        return await self._once(("vectors", emb_id), lambda: self.jobs.register(embedding.vectors))

    async def neighbor_index(self, emb_id: str, embedding: Embedding, *, spherize: bool) -> Any:
        """The exact kNN index of these vectors (built once per space)."""
        key = ("knn", emb_id, str(spherize))
        if self._on_cluster(embedding) is not None:
            vectors = await self.vectors_key(emb_id, embedding)
            return await self._once(
                key, lambda: self.cluster_jobs.neighbor_index(vectors, spherize=spherize)
            )
        return await self._once(key, lambda: knn.build(embedding.vectors, spherize=spherize))

    def _on_cluster(self, embedding: Embedding) -> RowFile | None:
        """The row file the cluster reads, when there is a cluster and the format allows."""
        return None if self.cluster_jobs is None else embedding.source.rows

    def _register_elsewhere(self, rows: RowFile) -> str:
        key: str = self.cluster_jobs.register(rows)
        self.jobs.register_elsewhere(key, rows.shape, self.cluster_jobs)
        return key

    def prefetch_neighbor_index(self, emb_id: str, embedding: Embedding) -> None:
        """Start building the (unspherized) kNN index now, so the first click finds it ready.

        Called when the page loads an embedding's vectors: at 1M points the build takes
        seconds, which the user would otherwise wait for on their first neighbour query.
        """
        task = asyncio.create_task(self.neighbor_index(emb_id, embedding, spherize=False))
        self._background.add(task)  # a reference, or the task may be collected mid-way
        task.add_done_callback(self._background.discard)

    async def _once(self, key: tuple[str, ...], build: Callable[[], T]) -> T:
        async with self._locks[key]:
            if key not in self._built:
                self._built[key] = await asyncio.to_thread(build)
            built: T = self._built[key]
            return built

"""The server's compute: the job engine, and per-embedding vectors, keys and kNN indexes.

Everything slow (copying the vectors, hashing them for the workers, building a
neighbour index) runs in a thread, once per embedding, behind a per-key lock: the event
loop never waits on it, and concurrent first requests share one build. The keys name
embeddings the server serves (routes look the id up first), so what is kept here is
bounded by the workspace, not by the number of requests: at most one vectors key and
two indexes (plain and spherized) per embedding.

The server never memory-maps a user's file. A file cut short under a map (a user
re-running their ``np.save`` script, a truncated checkpoint shard) kills the process
with ``SIGBUS`` on the next touch, and Python cannot catch that. The vectors are read
once with ``pread`` (a short read is a :class:`FileChangedError` for that request) into
the content-addressed copy the workers map anyway, in the cache dir, and the server maps
that copy: it is only ever replaced whole, never changed in place.

With a Dask cluster, an embedding whose file the workers can read in row ranges
(``Embedding.source.rows``) is computed there: its key is the fingerprint the workers
read, its jobs run on the cluster (:class:`.distributed.jobs.ClusterJobs`) and its
neighbour index is sharded over their memory; this process reads its vectors only if
the page asks for them. Other inputs (TSV, ``.npz``, ``.pt``, partitioned checkpoint
tensors) stay on this machine.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from embedding_projector.compute import knn
from embedding_projector.compute.cache import ResultCache
from embedding_projector.compute.jobs import JobManager
from embedding_projector.dataset.model import Embedding, TensorSource
from embedding_projector.dataset.steps import Step
from embedding_projector.errors import NotFoundError
from embedding_projector.formats.rows import RowFile
from embedding_projector.server.settings import Settings

T = TypeVar("T")
log = logging.getLogger(__name__)


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

    @classmethod
    def of(cls, settings: Settings) -> ComputeEngine:
        """The engine ``settings`` ask for, its worker processes starting."""
        return cls(
            cache_dir=settings.cache_dir, n_workers=settings.workers, cluster=settings.cluster
        )

    def start(self) -> None:
        """Compile UMAP's kernels in the background (after the first job), so that a first
        UMAP is not slow."""
        self.jobs.warm_up_umap()

    def close(self) -> None:
        """Stop every worker (Ctrl-C, or the end of a test), and leave the cluster."""
        self.jobs.close()
        if self.cluster_jobs is not None:
            self.cluster_jobs.close()

    async def vectors(self, emb_id: str, embedding: Embedding) -> np.ndarray:
        """The vectors, as the server reads them: a map of our own copy (see the module)."""
        cache = self.jobs.cache
        return await self._once(("vectors", emb_id), lambda: read_vectors(cache, embedding.source))

    async def step_vectors(self, emb_id: str, embedding: Embedding, index: int) -> np.ndarray:
        """The vectors of one step of the embedding, read as :meth:`vectors` reads them."""
        step = _step(emb_id, embedding, index)
        if step.default:  # the embedding's own vectors
            return await self.vectors(emb_id, embedding)
        cache = self.jobs.cache
        return await self._once(
            ("step", emb_id, str(index)),
            lambda: step.read_with(lambda source: read_vectors(cache, source)),
        )

    async def vectors_key(self, emb_id: str, embedding: Embedding) -> str:
        """The workers' key for these vectors (hashed and shared once)."""
        rows = self._on_cluster(embedding)
        if rows is not None:
            return await self._once(("key", emb_id), lambda: self._register_elsewhere(rows))
        vectors = await self.vectors(emb_id, embedding)
        return await self._once(("key", emb_id), lambda: self.jobs.register(vectors))

    async def step_key(self, emb_id: str, embedding: Embedding, index: int) -> str:
        """The workers' key for the vectors of one step (read, hashed and shared once)."""
        if _step(emb_id, embedding, index).default:
            return await self.vectors_key(emb_id, embedding)
        vectors = await self.step_vectors(emb_id, embedding, index)
        return await self._once(("key", emb_id, str(index)), lambda: self.jobs.register(vectors))

    async def registered(self, name: tuple[str, ...], vectors: Callable[[], np.ndarray]) -> str:
        """The workers' key for the vectors ``vectors()`` gives, made once per ``name``.

        For vectors that are not an embedding's own: a step's, or an embedding's rows
        put in another's order (a comparison).
        """
        return await self._once(("key", *name), lambda: self.jobs.register(vectors()))

    async def once(self, name: tuple[str, ...], build: Callable[[], T]) -> T:
        """``build()`` in a thread, the first time ``name`` is asked for; then its result.

        For what is derived from the workspace's embeddings (so bounded by it), never
        from free request values.
        """
        return await self._once(("derived", *name), build)

    async def neighbor_index(
        self, emb_id: str, embedding: Embedding, *, spherize: bool, step: int | None = None
    ) -> Any:
        """The exact kNN index of these vectors, or of step ``step``'s (built once per space)."""
        if step is not None and not _step(emb_id, embedding, step).default:
            vectors = await self.step_vectors(emb_id, embedding, step)
            return await self._once(
                ("knn", emb_id, str(spherize), str(step)),
                lambda: knn.build(vectors, spherize=spherize),
            )
        key = ("knn", emb_id, str(spherize))
        if self._on_cluster(embedding) is not None:
            content = await self.vectors_key(emb_id, embedding)
            return await self._once(
                key, lambda: self.cluster_jobs.neighbor_index(content, spherize=spherize)
            )
        vectors = await self.vectors(emb_id, embedding)
        return await self._once(key, lambda: knn.build(vectors, spherize=spherize))

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

    def _copy(self, embedding: Embedding) -> np.ndarray:
        source = embedding.source
        try:
            _, path = self.jobs.cache.store_vector_blocks(source.shape, source.blocks)
        except OSError as exc:  # the cache dir is full or read-only: keep them in memory
            log.warning(
                "cannot copy the vectors to the cache dir (%s); reading them into memory", exc
            )
            return np.concatenate(list(source.blocks()))
        copy: np.ndarray = np.load(path, mmap_mode="r")
        return copy

    async def _once(self, key: tuple[str, ...], build: Callable[[], T]) -> T:
        async with self._locks[key]:
            if key not in self._built:
                self._built[key] = await asyncio.to_thread(build)
            built: T = self._built[key]
            return built


def _step(emb_id: str, embedding: Embedding, index: int) -> Step:
    """The embedding's step ``index``; a 404 that lists the steps for another index."""
    steps = embedding.steps
    if not 0 <= index < len(steps):
        raise NotFoundError(
            f"embedding {emb_id!r} has {len(steps)} steps (0..{len(steps) - 1}), not "
            f"{index}; GET /api/embeddings/{emb_id}/steps lists them"
        )
    return steps[index]


def read_vectors(cache: ResultCache, source: TensorSource) -> np.ndarray:
    """The vectors read with ``pread`` into their copy in ``cache``, and that copy mapped.

    When the cache dir cannot take the copy (full, read-only), they are read into memory.
    """
    try:
        _, path = cache.store_vector_blocks(source.shape, source.blocks)
    except OSError as exc:
        log.warning("cannot copy the vectors into the cache dir (%s); reading them", exc)
        return _in_memory(source)
    copy: np.ndarray = np.load(path, mmap_mode="r")
    return copy


def _in_memory(source: TensorSource) -> np.ndarray:
    """The vectors read block by block into memory (no map of the user's file)."""
    out = np.empty(source.shape, np.float32)
    row = 0
    for block in source.blocks():
        out[row : row + len(block)] = block
        row += len(block)
    return out

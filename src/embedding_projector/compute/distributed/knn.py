"""Exact nearest neighbours on the cluster: index shards kept in the workers' memory.

The rows are cut into shards (a multiple of the number of workers, each at most
:data:`SHARD_BYTES` of float32); each shard's exact index
(:func:`embedding_projector.compute.knn.build`, on the rows its worker reads itself) is
a persisted Dask future that stays in that worker's memory. A query is turned into a
vector of the searched space on the client, sent to every shard (the task runs where
the shard is), and each shard returns its own k nearest rows; the client keeps the k
best of those by (distance, row), which is the exact answer of one index over all rows:
distances are computed row by row from the same float32 rows (spherized around the
centroid of all rows), so equal rows tie the same way.

A worker that dies takes its shards with it; Dask rebuilds them on the others from the
file when a query needs them.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from embedding_projector.compute import knn, preprocess
from embedding_projector.compute.distributed import pca as distributed_pca
from embedding_projector.compute.distributed.blocks import Blocks, on_worker
from embedding_projector.compute.distributed.cluster import Cluster, explain
from embedding_projector.compute.distributed.tracking import Tracker
from embedding_projector.compute.validation import check_choice, check_int
from embedding_projector.errors import InvalidParameterError

#: Float32 bytes of rows per shard, at most: 2 GiB (its index adds ~1/4 to 1/2 of that).
SHARD_BYTES = 2 * 2**30


def shard_bounds(
    shape: tuple[int, int], n_workers: int, shard_bytes: int = SHARD_BYTES
) -> list[tuple[int, int]]:
    """Row ranges of the shards: as many per worker, each at most ``shard_bytes``."""
    n, d = shape
    per_worker = max(1, math.ceil(n * d * 4 / (max(1, n_workers) * shard_bytes)))
    count = max(1, min(n // 2, max(1, n_workers) * per_worker))  # an index needs 2 rows
    edges = np.linspace(0, n, count + 1).astype(np.int64)
    return [(int(a), int(b)) for a, b in itertools.pairwise(edges) if b > a]


class ShardedIndex:
    """Exact k-nearest-neighbour queries over shards on the cluster; as :class:`.knn.NeighborIndex`.

    Building blocks until every shard is built.

    Parameters
    ----------
    cluster
        The cluster (its client stays connected while the index is used).
    blocks
        The input.
    key
        Its content key (names the tasks).
    spherize
        Search in the spherized space, around the centroid of all rows.
    shard_bytes
        Float32 bytes of rows per shard, at most.
    """

    def __init__(
        self,
        cluster: Cluster,
        blocks: Blocks,
        key: str,
        *,
        spherize: bool,
        shard_bytes: int = SHARD_BYTES,
    ) -> None:
        self.n_samples, self.n_features = blocks.shape
        self.spherize = spherize
        self._cluster = cluster
        self._client = cluster.client
        try:
            self._build(blocks, key, shard_bytes)
        except Exception as error:
            raise explain(cluster, error) from None

    def _build(self, blocks: Blocks, key: str, shard_bytes: int) -> None:
        tracker = Tracker(self._client)
        spherize = self.spherize
        self._centre = (
            distributed_pca.centroid(tracker, blocks, key, stop=0.5) if spherize else None
        )
        bounds = shard_bounds(blocks.shape, len(self._cluster.workers()), shard_bytes)
        self._starts = np.array([start for start, _ in bounds], dtype=np.int64)
        self._stops = np.array([stop for _, stop in bounds], dtype=np.int64)
        self._shards = [
            self._client.submit(
                _build, blocks, start, stop, spherize, self._centre,
                key=f"knn-shard-{key}-{int(spherize)}-{start}-{stop}",
            )
            for start, stop in bounds
        ]  # fmt: skip
        try:
            tracker.wait(self._shards, 0.5 if spherize else 0.0, 1.0, "building the index shards")
        finally:
            tracker.close()  # the centroid's futures; the shards stay, held here

    def query(
        self,
        *,
        k: int,
        metric: str = "cosine",
        index: int | None = None,
        indices: Sequence[int] | np.ndarray | None = None,
        vector: Any = None,
    ) -> knn.Neighbors:
        """The ``k`` nearest rows to one target; see :meth:`.knn.NeighborIndex.query`."""
        try:
            return self._query(k=k, metric=metric, index=index, indices=indices, vector=vector)
        except Exception as error:
            raise explain(self._cluster, error) from None

    def _query(
        self, *, k: int, metric: str, index: Any, indices: Any, vector: Any
    ) -> knn.Neighbors:
        metric = check_choice("metric", metric, knn.METRICS)
        query, exclude = self._target(index, indices, vector, metric)
        k = check_int("k", k, low=1, high=self.n_samples - len(exclude))
        futures = []
        for shard, start, stop in zip(self._shards, self._starts, self._stops, strict=True):
            own = exclude[(exclude >= start) & (exclude < stop)] - start
            wanted = min(k, int(stop - start) - own.size)
            if wanted > 0:
                task = (_search, shard, query, metric, wanted, own, int(start))
                futures.append(self._client.submit(*task, pure=False))
        found = self._client.gather(futures, direct=True)
        indices_found = np.concatenate([f.indices for f in found])
        distances = np.concatenate([f.distances for f in found])
        best = np.lexsort((indices_found, distances))[:k]
        return knn.Neighbors(indices_found[best], distances[best])

    def close(self) -> None:
        """Release the shards (the workers free their memory)."""
        if self._client.status == "running":
            for shard in self._shards:
                shard.release()

    def _target(
        self, index: Any, indices: Any, vector: Any, metric: str
    ) -> tuple[np.ndarray, np.ndarray]:
        """The query in the searched space, and the rows to exclude (as one index does)."""
        if sum(target is not None for target in (index, indices, vector)) != 1:
            raise InvalidParameterError("give exactly one of `index`, `indices` or `vector`")
        if index is not None:
            row = check_int("index", index, low=0, high=self.n_samples - 1)
            members = np.array([row], dtype=np.int64)
            return self._searched_rows(members)[0], members
        if indices is not None:
            members = knn.check_indices(indices, self.n_samples)
            return knn.centroid_query(self._searched_rows(members), metric), members
        raw = knn.check_query_vector(vector, self.n_features).reshape(1, -1)
        centre = self._centre
        query = raw[0] if centre is None else preprocess.spherize_rows(raw, centre)[0]
        return np.asarray(query, dtype=np.float64), np.empty(0, dtype=np.int64)

    def _searched_rows(self, members: np.ndarray) -> np.ndarray:
        """Rows in the searched space, from the shards that hold them, in ``members``' order."""
        owner = np.searchsorted(self._starts, members, side="right") - 1
        futures = [
            self._client.submit(
                _rows, self._shards[s], members[owner == s] - self._starts[s], pure=False
            )
            for s in np.unique(owner).tolist()
        ]
        return np.concatenate(self._client.gather(futures, direct=True))


def _build(
    blocks: Blocks, start: int, stop: int, spherize: bool, centre: np.ndarray | None
) -> knn.NeighborIndex:
    rows = on_worker(lambda: blocks.rows.read(start, stop))
    return knn.build(rows, spherize=spherize, centre=centre)


def _search(
    shard: knn.NeighborIndex,
    query: np.ndarray,
    metric: str,
    k: int,
    exclude: np.ndarray,
    offset: int,
) -> knn.Neighbors:
    found = shard.search(query, metric=metric, k=k, exclude=exclude)
    return knn.Neighbors(found.indices + offset, found.distances)


def _rows(shard: knn.NeighborIndex, positions: np.ndarray) -> np.ndarray:
    return shard.searched(positions)

"""Projections and neighbour search on a Dask cluster, for inputs past one machine.

Optional: needs the ``dask`` extra (``pip install 'embedding-projector[dask]'``); nothing
here is imported unless a cluster is asked for (``projector --dask``, ``serve(dask=...)``
or ``EMBEDDING_PROJECTOR_DASK``).

- :mod:`.cluster`: connecting (a scheduler's address, or ``local[:N]`` for a
  ``LocalCluster``), and refusing workers that run another version of this package.
- :mod:`.blocks`: the row blocks of an input; each worker reads its own blocks from
  storage it can see (:mod:`embedding_projector.formats.rows`), so vectors never pass
  through the scheduler or the web server; the fingerprint pass (content key, CRCs).
- :mod:`.pca`: mean and scatter matrix by blockwise reductions, ``eigh`` on the client,
  every row projected by ``map_blocks``.
- :mod:`.knn`: exact neighbours, sharded: each worker keeps index shards in memory, a
  query goes to every shard, the client merges their top k.
- :mod:`.embed`: t-SNE and UMAP: fitted on one worker (on a sample above a size
  threshold, :mod:`..sample`), every other block placed by ``transform`` on the workers.
- :mod:`.jobs`: runs a job of :mod:`..jobs` on the cluster from a thread of the server:
  progress aggregated from the futures, cancel, cache.
"""

"""Projections and neighbour search on all points, and the job engine that runs them.

Each numeric module is a set of plain functions over float32 arrays that import
their heavy library (scikit-learn, openTSNE, umap-learn, numba) lazily:
:mod:`.pca`, :mod:`.tsne`, :mod:`.umap`, :mod:`.knn`, :mod:`.custom`,
:mod:`.preprocess`; reading a map: :mod:`.knn_graph` (the exact neighbours of
every point), :mod:`.faithfulness`, :mod:`.clusters` and :mod:`.cluster_names`.
:mod:`.jobs` runs projections in worker processes with progress, cancellation
and streamed layouts; :mod:`.cache` keeps results on disk.
"""

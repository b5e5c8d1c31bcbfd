"""The ``large`` demo: a million synthetic points with structure at several scales.

``projector demo large --rows 10000000`` builds the same mixture at another size (the same
clusters, in the same proportions, with the same columns), to see the page at ten million.

36 clusters of very different sizes in 64 dimensions, gathered in 8 groups: 22
Gaussian blobs (each stretched along a direction), 8 blobs made of 2 to 4 sub-clusters,
and 6 curves (helices, arcs and spirals: 1-D manifolds, which t-SNE and UMAP should
draw as lines). Points of all clusters are interleaved, so any prefix of the file
(what TensorBoard loads) shows every cluster.

Metadata: ``name`` (a unique made-up word, to search), ``group`` (``g0``–``g7``, which
the page colours by at first), ``cluster`` (``c00``–``c35``, categorical), ``score``
(0–1: the position along a curve, or along a blob's long axis, a gradient to colour by)
and ``size`` (the number of points in the cluster).

The vectors are generated in chunks and written straight to the raw float32 file,
never all in memory; the metadata is written in blocks too. A million points take 250 MB
to build, the file 256 MB; ten million take about as much memory and 2.6 GB of disk.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv

from embedding_projector.formats.protos import EmbeddingInfo, ProjectorConfig
from embedding_projector.projector import METADATA_NAME, TENSOR_BYTES_NAME, visualize_embeddings

N_POINTS = 1_000_000
DIMENSIONS = 64
SEED = 64
EMBEDDING_NAME = "large"
_CHUNK_ROWS = 1 << 16
_GROUPS = 8
_PLAIN_BLOBS = 22
_SPLIT_BLOBS = 8
_CURVES = 6
# Scales (standard deviations per dimension) of the hierarchy. In 64 dimensions a
# blob of spread 1 has points 11 apart, sub-clusters ~25, clusters of one group ~40
# and groups ~90.
_GROUP_SCALE = 8.0
_CLUSTER_SCALE = 3.5
_SUB_CLUSTER_SCALE = 2.2
_LONG_AXIS_STRETCH = 2.5
_CURVE_NOISE = 0.3
_CURVE_KINDS = 3  # helix, arc, spiral: see _curve_points
# Made-up names: 4 syllables of 32, one name for each of 32**4 = 1,048,576 points; a fifth
# syllable beyond that (up to 32**5 = 33,554,432 points).
_SYLLABLES = [c + v for c in "bdfgklmn" for v in "aeio"]
_SYLLABLE_BITS = 5
_MIN_SYLLABLES = 4
MAX_POINTS = 2 ** (_SYLLABLE_BITS * (_MIN_SYLLABLES + 1))
_METADATA_BLOCK_ROWS = 1 << 20


@dataclass(frozen=True)
class _Components:
    """The mixture: one component per blob, sub-cluster or curve, ``K`` in all."""

    cluster: np.ndarray
    """``K`` cluster numbers (sub-clusters share their blob's)."""
    group: np.ndarray
    """``K`` group numbers (the clusters of a group lie near each other)."""
    weight: np.ndarray
    """``K`` probabilities."""
    centre: np.ndarray
    """``K x D``."""
    scale: np.ndarray
    """``K x D`` standard deviations."""
    long_axis: np.ndarray
    """``K x D``: the direction (and extra length) along which a blob is stretched."""
    curve: np.ndarray
    """``K`` curve kind: -1 for a blob, else an index into :func:`_curve_points`."""
    basis: np.ndarray
    """``K x 3 x D``: the orthonormal 3-D subspace a curve lies in."""


def write_large(logdir: Path, progress: Callable[[str], None], *, n_points: int = N_POINTS) -> None:
    """Write the ``large`` log dir.

    Parameters
    ----------
    logdir
        An empty folder: receives ``projector_config.pbtxt`` and ``large/`` (raw
        float32 ``tensor.bytes`` and ``metadata.tsv``).
    progress
        Called with a line of text at each step.
    n_points
        The number of points: the demo's million, ten million, or a smaller instance for
        tests; at most :data:`MAX_POINTS` (the names must stay unique).
    """
    if not 1 <= n_points <= MAX_POINTS:
        raise ValueError(f"n_points must be within 1..{MAX_POINTS:,}, got {n_points:,}")
    folder = logdir / EMBEDDING_NAME
    folder.mkdir()
    progress(f"large: generating {n_points:,} × {DIMENSIONS} vectors")
    score = np.empty(n_points, dtype=np.float32)
    group = np.empty(n_points, dtype=np.int64)
    cluster = np.empty(n_points, dtype=np.int64)
    with (folder / TENSOR_BYTES_NAME).open("wb") as file:
        for chunk in chunks(n_points):
            file.write(chunk.vectors.astype("<f4", copy=False).data)
            score[chunk.rows], group[chunk.rows], cluster[chunk.rows] = (
                chunk.score,
                chunk.group,
                chunk.cluster,
            )
    progress("large: writing the metadata")
    _write_metadata(folder / METADATA_NAME, group, cluster, score)
    entry = EmbeddingInfo(
        tensor_name=EMBEDDING_NAME,
        tensor_shape=[n_points, DIMENSIONS],
        tensor_path=f"{EMBEDDING_NAME}/{TENSOR_BYTES_NAME}",
        metadata_path=f"{EMBEDDING_NAME}/{METADATA_NAME}",
    )
    visualize_embeddings(logdir, ProjectorConfig(embeddings=[entry]))


@dataclass(frozen=True)
class Chunk:
    """Consecutive points of the demo: ``rows`` of the whole, and what they are."""

    rows: slice
    vectors: np.ndarray
    """``(len, dimensions)`` float32."""
    score: np.ndarray
    group: np.ndarray
    cluster: np.ndarray
    """The cluster of each point (0–35): a label to check layouts against."""


def chunks(n_points: int = N_POINTS, *, dimensions: int = DIMENSIONS) -> Iterator[Chunk]:
    """The demo's ``n_points`` points, 65,536 at a time: never all in memory (benchmarks
    draw 10M of them). With more ``dimensions`` than the default, the same recipe in more
    dimensions: every scale is per dimension, so the structure keeps its proportions."""
    rng = np.random.default_rng(SEED)
    components = _mixture(rng, dimensions)
    component = rng.choice(len(components.weight), size=n_points, p=components.weight)
    for start in range(0, n_points, _CHUNK_ROWS):
        rows = slice(start, min(start + _CHUNK_ROWS, n_points))
        vectors, score = _generate(rng, components, component[rows])
        kind = component[rows]
        yield Chunk(rows, vectors, score, components.group[kind], components.cluster[kind])


def generate(n_points: int, *, dimensions: int = DIMENSIONS) -> tuple[np.ndarray, np.ndarray]:
    """The demo's vectors and cluster numbers, in memory (for benchmarks and tests).

    Parameters
    ----------
    n_points
        How many points.
    dimensions
        With the default, exactly the vectors :func:`write_large` writes; see :func:`chunks`.

    Returns
    -------
    tuple of numpy.ndarray
        ``(n_points, dimensions)`` float32 vectors and ``(n_points,)`` cluster numbers.
    """
    vectors = np.empty((n_points, dimensions), dtype=np.float32)
    cluster = np.empty(n_points, dtype=np.int64)
    for chunk in chunks(n_points, dimensions=dimensions):
        vectors[chunk.rows], cluster[chunk.rows] = chunk.vectors, chunk.cluster
    return vectors, cluster


def _mixture(rng: np.random.Generator, dimensions: int) -> _Components:
    """Draw the clusters: their place in the hierarchy, size, spread and shape."""
    n_clusters = _PLAIN_BLOBS + _SPLIT_BLOBS + _CURVES
    groups = rng.normal(0, _GROUP_SCALE, (_GROUPS, dimensions))
    group_of_cluster = rng.integers(0, _GROUPS, n_clusters)
    centres = groups[group_of_cluster]
    centres += rng.normal(0, _CLUSTER_SCALE, (n_clusters, dimensions))
    # Zipf-like sizes, shuffled: the largest cluster is ~20 times the smallest.
    sizes = 1.0 / (rng.permutation(n_clusters) + 2.0)
    spreads = rng.uniform(0.5, 1.4, n_clusters)
    parts = np.ones(n_clusters, dtype=np.int64)
    parts[_PLAIN_BLOBS : _PLAIN_BLOBS + _SPLIT_BLOBS] = rng.integers(2, 5, _SPLIT_BLOBS)
    cluster = np.repeat(np.arange(n_clusters), parts)
    k = len(cluster)
    centre = (
        centres[cluster]
        + rng.normal(0, _SUB_CLUSTER_SCALE, (k, dimensions)) * (parts[cluster] > 1)[:, np.newaxis]
    )
    spread = spreads[cluster, np.newaxis]
    scale = spread * np.exp(rng.normal(0, 0.2, (k, dimensions)))
    # Each blob is stretched along a direction of its own: a gradient to colour by.
    direction = rng.normal(size=(k, dimensions))
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    long_axis = direction * spread * _LONG_AXIS_STRETCH
    curve = np.where(cluster >= _PLAIN_BLOBS + _SPLIT_BLOBS, np.arange(k) % _CURVE_KINDS, -1)
    scale[curve >= 0] = _CURVE_NOISE
    long_axis[curve >= 0] = 0
    basis = np.linalg.qr(rng.normal(size=(k, dimensions, 3)))[0].transpose(0, 2, 1)
    weight = sizes[cluster] / parts[cluster]
    return _Components(
        cluster=cluster,
        group=group_of_cluster[cluster],
        weight=weight / weight.sum(),
        centre=centre.astype(np.float32),
        scale=scale.astype(np.float32),
        long_axis=long_axis.astype(np.float32),
        curve=curve,
        basis=basis.astype(np.float32),
    )


def _generate(
    rng: np.random.Generator, components: _Components, component: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The vectors (float32) and scores of points drawn from the given components."""
    vectors = rng.standard_normal((len(component), components.centre.shape[1]), dtype=np.float32)
    vectors *= components.scale[component]
    vectors += components.centre[component]
    along = rng.standard_normal(len(component), dtype=np.float32)
    vectors += along[:, np.newaxis] * components.long_axis[component]
    # A blob point's score: where it lies along the blob's long axis, squashed to 0–1.
    score = 1 / (1 + np.exp(-1.7 * along))
    on_curve = np.flatnonzero(components.curve[component] >= 0)
    position = rng.random(len(on_curve), dtype=np.float32)
    score[on_curve] = position
    kinds = components.curve[component[on_curve]]
    for kind in range(_CURVE_KINDS):
        points = on_curve[kinds == kind]
        along = _curve_points(kind, position[kinds == kind])
        vectors[points] += np.einsum("ij,ijd->id", along, components.basis[component[points]])
    return vectors, score


def _curve_points(kind: int, t: np.ndarray) -> np.ndarray:
    """Points at positions ``t`` (0–1) of a helix, an arc or a spiral, in 3-D (``n x 3``)."""
    turn = 2 * np.pi * t
    if kind == 0:  # a helix: one and a half turns around a rising axis
        coordinates = [9 * np.cos(1.5 * turn), 9 * np.sin(1.5 * turn), 30 * t]
    elif kind == 1:  # a half circle
        coordinates = [20 * np.cos(turn / 2), 20 * np.sin(turn / 2), np.zeros_like(t)]
    else:  # a flat spiral, widening over two turns
        radius = 4 + 14 * t
        coordinates = [radius * np.cos(2 * turn), radius * np.sin(2 * turn), np.zeros_like(t)]
    return np.stack(coordinates, axis=1).astype(np.float32)


def _write_metadata(path: Path, group: np.ndarray, cluster: np.ndarray, score: np.ndarray) -> None:
    """Write ``name``, ``group``, ``cluster``, ``score`` and ``size`` as TensorBoard's
    metadata TSV, a block of rows at a time."""
    sizes = np.bincount(cluster)
    cluster_names = pa.array([f"c{c:02d}" for c in range(len(sizes))])
    group_names = pa.array([f"g{g}" for g in range(_GROUPS)])
    n = len(cluster)
    with path.open("wb") as file:
        # Written by hand: pyarrow quotes header names, which TensorBoard would keep.
        file.write(b"name\tgroup\tcluster\tscore\tsize\n")
        for start in range(0, n, _METADATA_BLOCK_ROWS):
            rows = slice(start, min(start + _METADATA_BLOCK_ROWS, n))
            block = cluster[rows]
            table = pa.table(
                {
                    "name": names(n, rows),
                    "group": group_names.take(pa.array(group[rows])),
                    "cluster": cluster_names.take(pa.array(block)),
                    "score": np.round(score[rows].astype(np.float64), 3),
                    "size": sizes[block],
                }
            )
            pyarrow.csv.write_csv(
                table,
                file,
                pyarrow.csv.WriteOptions(
                    include_header=False, delimiter="\t", quoting_style="none"
                ),
            )


def names(n: int, rows: slice | None = None) -> pa.Array:
    """The made-up names of ``n`` points (``"kobedina"``), or of the rows ``rows`` of them.

    Point ``i`` gets the syllables of ``(i · m) mod 32^k`` in base 32, for an odd ``m`` and
    the fewest syllables ``k`` (at least 4) that number ``n`` points: a bijection, so the
    names are unique, in a shuffled order.
    """
    syllables_per_name = max(_MIN_SYLLABLES, math.ceil(math.log2(max(n, 2)) / _SYLLABLE_BITS))
    bits = _SYLLABLE_BITS * syllables_per_name
    first, stop, _ = (rows or slice(0, n)).indices(n)
    index = np.arange(first, stop, dtype=np.uint64)
    code = (index * np.uint64(0x9E3779B1)) % np.uint64(1 << bits)
    syllables = np.frombuffer("".join(_SYLLABLES).encode(), dtype="S2")
    digits = [
        (code >> np.uint64(_SYLLABLE_BITS * place)) & np.uint64(31)
        for place in range(syllables_per_name)
    ]
    letters = np.stack([syllables[d.astype(np.intp)] for d in digits], axis=1)
    # Built from its buffers: numpy's bytes strings would pass through Python objects.
    width = 2 * syllables_per_name
    offsets = np.arange(0, width * len(index) + 1, width, dtype=np.int32)
    return pa.StringArray.from_buffers(len(index), pa.py_buffer(offsets), pa.py_buffer(letters))

"""Opening a 1,000,000 x 128 float32 checkpoint and reading every vector, against ``np.load``.

Both files are written to a temporary folder, then each side is measured in fresh
interpreters (``benchmarks.measure``), twice: with the files in the page cache (as just
written, or read recently) and evicted from it (read from the disk). Goal (issue 2): time
within 1.5x of ``np.load`` of the same array from ``.npy``, peak memory within 1.2x of the
array's size.

Then the server's own read (issue 8): never a memory map of the user's file, but
``pread`` into its copy in the cache dir (hashed; written the first time, checked against
its hash when found there), and a map of that copy; beside what the server did before for
a page load: the memory-mapped read above, then the hash and (the first time) the copy
that the first projection made for the workers.
"""

from __future__ import annotations

import functools
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from tests.support.tf_bundle_writer import BundleWriter

from benchmarks.measure import Case, comparison, evict, measure
from embedding_projector.compute.cache import ResultCache
from embedding_projector.compute.hashing import content_hash
from embedding_projector.dataset.opening import open_path
from embedding_projector.formats.tf_checkpoint import CheckpointReader
from embedding_projector.server.engine import read_vectors

NAME = "embedding/.ATTRIBUTES/VARIABLE_VALUE"
FULL, SMOKE = (1_000_000, 128), (2_000, 16)
REPEAT = 5


def read_checkpoint(prefix: str) -> np.ndarray:
    """The case measured: open the checkpoint, read the vectors as float32 (CRC checked)."""
    return CheckpointReader(prefix).read_float32(NAME)


def load_npy(path: str) -> np.ndarray:
    """The baseline: numpy's own format."""
    return np.load(path)


def server_read(prefix: str, cache_dir: str) -> np.ndarray:
    """What the server does on the first request for the vectors (``ComputeEngine.vectors``)."""
    (embedding,) = open_path(prefix).embeddings
    return read_vectors(ResultCache(cache_dir), embedding.source)


def previous_server_read(prefix: str, cache_dir: str) -> np.ndarray:
    """The baseline: before issue 8, a page load mapped the user's file (CRC checked), then
    its first projection hashed the vectors and, the first time, saved them for the workers."""
    (embedding,) = open_path(prefix).embeddings
    vectors = embedding.vectors
    path = Path(cache_dir) / f"{content_hash(vectors)}.npy"
    if not path.exists():
        Path(cache_dir).mkdir(parents=True, exist_ok=True)
        np.save(path, vectors)
    return vectors


def _row(
    cache: str,
    size: str,
    array_mb: float,
    repeat: int,
    ours: dict[str, float],
    base: dict[str, float],
) -> dict[str, Any]:
    """One table row: our reader beside ``np.load``, same array, same run."""
    return {
        "benchmark": "checkpoint",
        "case": f"CheckpointReader(prefix).read_float32, CRC32C checked ({cache} page cache)",
        "size": size,
        "seconds": ours["seconds"],
        "peak_mb": ours["peak_mb"],
        "anon_mb": ours["anon_mb"],
        "file_mb": ours["file_mb"],
        "baseline": "np.load(.npy)",
        "baseline_seconds": base["seconds"],
        "baseline_peak_mb": base["peak_mb"],
        "baseline_anon_mb": base["anon_mb"],
        "ratio": ours["seconds"] / base["seconds"],
        "array_mb": array_mb,
        "note": (
            f"peak {ours['peak_mb'] / array_mb:.2f}x array (anon {ours['anon_mb']:.0f} MB, "
            f"mapped {ours['file_mb']:.0f} MB) vs {base['peak_mb'] / array_mb:.2f}x "
            f"(anon {base['anon_mb']:.0f} MB); median of {repeat} fresh processes, taking turns"
        ),
    }


def run(smoke: bool) -> list[dict[str, Any]]:
    """Measure both sides on the same array, with a warm then a cold page cache."""
    shape = SMOKE if smoke else FULL
    vectors = np.random.default_rng(0).standard_normal(shape, dtype=np.float32)
    array_mb = vectors.nbytes / 2**20
    size = f"{shape[0]:,} x {shape[1]} float32 ({array_mb:.0f} MiB)"
    repeat = 1 if smoke else REPEAT
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench_checkpoint_") as folder:
        prefix, npy = Path(folder) / "ckpt", Path(folder) / "vectors.npy"
        with BundleWriter(prefix) as writer:
            writer.add(NAME, vectors)
        np.save(npy, vectors)
        del vectors
        data = Path(f"{prefix}.data-00000-of-00001")
        for cache, evict_data, evict_npy in (
            ("warm", None, None),
            ("cold", functools.partial(evict, data), functools.partial(evict, npy)),
        ):
            ours, base = measure(
                Case(f"{__name__}:read_checkpoint", (str(prefix),), evict_data),
                Case(f"{__name__}:load_npy", (str(npy),), evict_npy),
                repeat=repeat,
            )
            rows.append(_row(cache, size, array_mb, repeat, ours, base))
        rows += _server_rows(prefix, Path(folder) / "cache", size, repeat)
    return rows


def _cache_case(name: str, prefix: Path, cache: Path, empty: bool) -> Case:
    """A server read with its own cache dir, emptied before each run when ``empty``."""
    setup = functools.partial(shutil.rmtree, cache, True) if empty else None
    return Case(f"{__name__}:{name}", (str(prefix), str(cache)), setup)


def _server_rows(prefix: Path, cache: Path, size: str, repeat: int) -> list[dict[str, Any]]:
    """The server's read, with no copy in the cache yet and with one there, warm page cache."""
    rows = []
    for when, empty in (("no copy in the cache yet", True), ("copy found in the cache", False)):
        ours, base = measure(
            _cache_case("server_read", prefix, cache / "ours", empty),
            _cache_case("previous_server_read", prefix, cache / "before", empty),
            repeat=repeat,
        )
        rows.append(
            {
                **comparison(
                    "checkpoint",
                    f"server read: pread, hash, into its own copy, mapped ({when})",
                    size,
                    ours,
                    "before: mapped, CRC checked, hashed, copied for the workers",
                    base,
                ),
                "anon_mb": round(ours["anon_mb"]),
                "file_mb": round(ours["file_mb"]),
                "note": (
                    f"anon {ours['anon_mb']:.0f} MB, mapped {ours['file_mb']:.0f} MB after the "
                    f"call vs anon {base['anon_mb']:.0f} MB, mapped {base['file_mb']:.0f} MB; "
                    f"median of {repeat}, load {ours['load']}"
                ),
            }
        )
    return rows

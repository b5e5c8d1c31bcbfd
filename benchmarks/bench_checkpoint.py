"""Opening a 1,000,000 x 128 float32 checkpoint and reading every vector, against ``np.load``.

Both files are written to a temporary folder, then each side is measured in fresh
interpreters (``benchmarks.measure``), twice: with the files in the page cache (as just
written, or read recently) and evicted from it (read from the disk). Goal (issue 2): time
within 1.5x of ``np.load`` of the same array from ``.npy``, peak memory within 1.2x of the
array's size.
"""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from tests.support.tf_bundle_writer import BundleWriter

from benchmarks.measure import Case, evict, measure
from embedding_projector.formats.tf_checkpoint import CheckpointReader

NAME = "embedding/.ATTRIBUTES/VARIABLE_VALUE"
FULL, SMOKE = (1_000_000, 128), (2_000, 16)
REPEAT = 5


def read_checkpoint(prefix: str) -> np.ndarray:
    """The case measured: open the checkpoint, read the vectors as float32 (CRC checked)."""
    return CheckpointReader(prefix).read_float32(NAME)


def load_npy(path: str) -> np.ndarray:
    """The baseline: numpy's own format."""
    return np.load(path)


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
    return rows

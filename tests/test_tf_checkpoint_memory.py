"""A > 2 GB float32 tensor is read through a memory map, not copied into anonymous memory."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np

from tests.support.tf_bundle_writer import BundleWriter

ROWS, DIM = 4_200_000, 128  # 2.15e9 bytes: past the 2 GiB where TensorFlow's reader fails
MAX_ANON_GROWTH_MB = 200

# Runs in a fresh interpreter, so the parent's memory does not blur the measurement.
CHILD = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    from embedding_projector.formats.tf_checkpoint import CheckpointReader

    def status(field):
        for line in open("/proc/self/status"):
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024

    before = status("RssAnon")
    reader = CheckpointReader(sys.argv[1])
    vectors = reader.read_float32("huge")   # maps the file and checks the CRC of every byte
    print(json.dumps({
        "anon_growth_mb": status("RssAnon") - before,
        "file_mb": status("RssFile"),
        "shape": vectors.shape,
        "first": vectors[0, :3].tolist(),
        "last": vectors[-1, -3:].tolist(),
        "middle_sum": float(vectors[1_000_000:1_000_010].sum()),
    }))
    """
)


def test_huge_tensor_is_memory_mapped(tmp_path: Path) -> None:
    first = np.arange(DIM, dtype=np.float32)
    with BundleWriter(tmp_path / "ckpt") as writer:
        writer.add_sparse_float32("huge", (ROWS, DIM), {0: first, ROWS - 1: -first})
    assert (tmp_path / "ckpt.data-00000-of-00001").stat().st_size == ROWS * DIM * 4
    try:
        run = subprocess.run(
            [sys.executable, "-c", CHILD, str(tmp_path / "ckpt")],
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
    finally:  # free the 2 GB of page cache now rather than when pytest prunes its temp dirs
        (tmp_path / "ckpt.data-00000-of-00001").unlink()
    print(run.stdout)
    report = json.loads(run.stdout)
    assert report["shape"] == [ROWS, DIM]
    assert report["first"] == [0.0, 1.0, 2.0]
    assert report["last"] == [-125.0, -126.0, -127.0]
    assert report["middle_sum"] == 0.0
    assert report["anon_growth_mb"] < MAX_ANON_GROWTH_MB, report
    assert report["file_mb"] > ROWS * DIM * 4 / 2**20 * 0.9, "the CRC check read every page"

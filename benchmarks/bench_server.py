"""Open a checkpoint log dir and serve all its vectors: ours against TensorBoard's projector.

For 10k, 100k and 1M points of 128 dimensions, a TF2-style checkpoint log dir is written
with the test writer; each side is started as a fresh process and timed from launch until
the float32 vectors of the embedding have been received over HTTP.

TensorBoard needs TensorFlow to read checkpoints, and neither is a dependency of this
project: point ``TENSORBOARD_PYTHON`` at a Python that has both (a scratch venv, e.g.
``python -m venv /tmp/tfvenv && /tmp/tfvenv/bin/pip install tensorflow-cpu tensorboard``).
Without it, the baseline column says it was skipped.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from tests.support.tf_bundle_writer import BundleWriter

KEY = "embedding/.ATTRIBUTES/VARIABLE_VALUE"
SIZES, SMOKE_SIZES = (10_000, 100_000, 1_000_000), (2_000,)
DIMS = 128
TIMEOUT = 600


def tensorboard_baseline(seconds: float | None) -> str:
    """The baseline column of a row measured beside TensorBoard (or why it was not)."""
    if seconds is not None:
        return "TensorBoard 2.21 projector (tensorboard --logdir)"
    return "TensorBoard: skipped (set TENSORBOARD_PYTHON to a venv with tensorboard and tensorflow)"


def write_logdir(folder: Path, n: int) -> None:
    """A log dir as the Keras tutorial writes it: checkpoint, state file, config, labels."""
    folder.mkdir(parents=True)
    vectors = np.random.default_rng(n).standard_normal((n, DIMS), dtype=np.float32)
    with BundleWriter(folder / "embedding.ckpt-1") as writer:
        writer.add(KEY, vectors)
    (folder / "checkpoint").write_text('model_checkpoint_path: "embedding.ckpt-1"\n')
    (folder / "metadata.tsv").write_text("".join(f"w{i}\n" for i in range(n)))
    (folder / "projector_config.pbtxt").write_text(
        f'embeddings {{\n  tensor_name: "{KEY}"\n  metadata_path: "metadata.tsv"\n}}\n'
    )


def projector_command(*arguments: str) -> list[str]:
    """``python -m embedding_projector ARGUMENTS``, its modules compiled to bytecode first.

    As a user runs it: pip compiles an installed package's modules, and a checkout writes
    its bytecode on the first run. Where ``PYTHONDONTWRITEBYTECODE`` is set (CI images, this
    sandbox) a checkout never does, and every launch (the workers' too) would compile every
    module again: about 0.1 s of each command's start.
    """
    import compileall

    import embedding_projector

    compileall.compile_dir(Path(embedding_projector.__file__).parent, quiet=1)
    return [sys.executable, "-m", "embedding_projector", *arguments]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _until(get: Callable[[], bytes | None]) -> bytes:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        try:
            body = get()
        except httpx.HTTPError:
            body = None
        if body is not None:
            return body
        time.sleep(0.05)
    raise TimeoutError("the server did not serve the vectors in time")


def time_to_vectors(
    command: list[str], fetch: Callable[[httpx.Client], bytes | None], n: int
) -> float:
    """Seconds from launching ``command`` until ``fetch`` returns the N x 128 float32 bytes."""
    started = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with httpx.Client(timeout=TIMEOUT) as http:
            body = _until(lambda: fetch(http))
        elapsed = time.monotonic() - started
    finally:
        process.terminate()
        process.wait(timeout=60)
    assert len(body) == n * DIMS * 4
    return elapsed


def time_ours(logdir: Path, n: int) -> float:
    """Launch → vectors received, for ``projector --logdir``."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}/api"

    def vectors(http: httpx.Client) -> bytes | None:
        listing = http.get(f"{base}/embeddings").json()
        return http.get(f"{base}/embeddings/{listing[0]['id']}/vectors").content

    command = projector_command("--logdir", str(logdir), "--no-browser", "--port", str(port))
    return time_to_vectors(command, vectors, n)


def tensorboard_python() -> str | None:
    """A Python with tensorboard and tensorflow importable, or None."""
    candidate = os.environ.get("TENSORBOARD_PYTHON")
    if not candidate or not shutil.which(candidate):
        return None
    check = subprocess.run(
        [candidate, "-c", "import tensorboard, tensorflow"], capture_output=True, check=False
    )
    return candidate if check.returncode == 0 else None


def time_tensorboard(python: str, logdir: Path, n: int) -> float:
    """Launch → vectors received, for ``tensorboard --logdir`` and its projector plugin."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}/data/plugin/projector"

    def vectors(http: httpx.Client) -> bytes | None:
        if "." not in http.get(f"{base}/runs").json():
            return None
        response = http.get(f"{base}/tensor", params={"run": ".", "name": KEY})
        return response.content if response.status_code == 200 else None

    command = [python, "-m", "tensorboard.main", "--logdir", str(logdir), "--port", str(port),
               "--host", "127.0.0.1"]  # fmt: skip
    return time_to_vectors(command, vectors, n)


def run(smoke: bool) -> list[dict[str, Any]]:
    """One row per size: our server beside TensorBoard's, same log dir, same run."""
    rows = []
    tensorboard = None if smoke else tensorboard_python()
    with tempfile.TemporaryDirectory(prefix="bench-server-") as tmp:
        for n in SMOKE_SIZES if smoke else SIZES:
            logdir = Path(tmp) / f"n{n}"
            write_logdir(logdir, n)
            ours = time_ours(logdir, n)
            theirs = None if tensorboard is None else time_tensorboard(tensorboard, logdir, n)
            rows.append(
                {
                    "benchmark": "server",
                    "case": "launch → all vectors received (projector --logdir)",
                    "size": f"{n:,} x {DIMS} float32 checkpoint",
                    "seconds": ours,
                    "baseline": tensorboard_baseline(theirs),
                    "baseline_seconds": theirs,
                    "ratio": None if theirs is None else ours / theirs,
                    "note": "one cold start each, same log dir",
                }
            )
            shutil.rmtree(logdir)
    return rows


if __name__ == "__main__":
    for row in run(smoke="--smoke" in sys.argv):
        print(re.sub(r"\s+", " ", str(row)))

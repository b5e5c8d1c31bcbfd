"""Manual check: real TensorBoard serves exactly what ``save_embeddings`` wrote.

Not a test and not a project dependency: it needs TensorBoard in a scratch venv
(TensorFlow is not needed, the projector plugin reads ``tensor_path`` files itself)::

    python3 -m venv /tmp/tbvenv && /tmp/tbvenv/bin/pip install 'tensorboard==2.21.*'
    .venv/bin/python scripts/verify_with_tensorboard.py --tensorboard /tmp/tbvenv/bin/tensorboard

It writes a log dir with this package (several metadata columns, sprites of
non-square thumbnails in a non-square grid, an all-zero tensor that must go as TSV,
an entry written with ``visualize_embeddings`` beforehand), starts TensorBoard on
localhost, fetches the projector plugin's endpoints and compares every byte.
Exit status 0 when everything matches.
"""

from __future__ import annotations

import argparse
import io
import json
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from embedding_projector import projector


@dataclass
class Saved:
    """What TensorBoard must serve for one embedding."""

    info: Any  # the EmbeddingInfo returned by save_embeddings
    vectors: np.ndarray
    images: np.ndarray | None = None


def write_logdir(logdir: Path) -> dict[str, Saved]:
    """Write the embeddings to check; return what TensorBoard must serve for each."""
    rng = np.random.default_rng(2024)
    config = projector.ProjectorConfig()
    config.embeddings.add(tensor_name="kept/.ATTRIBUTES/VARIABLE_VALUE", metadata_path="m.tsv")
    projector.visualize_embeddings(logdir, config)

    words = rng.normal(size=(250, 32)).astype(np.float32)
    images = rng.integers(0, 256, size=(250, 12, 20, 3), dtype=np.uint8)
    metadata = {
        "word": [f"word{i}" for i in range(250)],
        "count": rng.integers(1, 1000, 250).tolist(),
        "class": [("noun", "verb", None)[i % 3] for i in range(250)],
    }
    expected: dict[str, Saved] = {}
    info = projector.save_embeddings(logdir, "words", words, metadata, images)
    expected["words"] = Saved(info, words, images)

    docs = rng.normal(size=(40, 5))  # float64: stored, and served, as float32
    grey = rng.random((40, 16, 16))
    info = projector.save_embeddings(logdir, "docs", docs, [f"doc {i}" for i in range(40)], grey)
    grey_uint8 = np.round(grey * 255).astype(np.uint8)[..., np.newaxis]
    expected["docs"] = Saved(info, docs.astype(np.float32), grey_uint8)

    zeros = np.zeros((10, 4), np.float32)
    info = projector.save_embeddings(logdir, "zeros", zeros)
    assert info.tensor_path.endswith(".tsv"), info.tensor_path
    expected["zeros"] = Saved(info, zeros)
    return expected


def fetch(base: str, route: str, **query: str) -> bytes:
    url = f"{base}/data/plugin/projector/{route}?{urllib.parse.urlencode(query)}"
    with urllib.request.urlopen(url, timeout=60) as response:
        data: bytes = response.read()
        return data


def wait_for_runs(base: str, process: subprocess.Popen[bytes]) -> list[str]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"tensorboard exited with status {process.returncode}")
        try:
            runs: list[str] = json.loads(fetch(base, "runs"))
            if runs:
                return runs
        except (urllib.error.URLError, ConnectionError):
            pass
        time.sleep(1)
    raise SystemExit("tensorboard did not list a projector run within 120 s")


def check(logdir: Path, base: str, expected: dict[str, Saved]) -> list[str]:
    """Compare every endpoint with the files; return the failures (empty when all match)."""
    failures: list[str] = []

    def report(ok: bool, what: str) -> None:
        print(("  ok    " if ok else "  FAIL  ") + what)
        if not ok:
            failures.append(what)

    served = json.loads(fetch(base, "info", run="."))
    names = [e["tensorName"] for e in served["embeddings"]]
    report(
        names == ["kept/.ATTRIBUTES/VARIABLE_VALUE", "words", "docs", "zeros"],
        f"/info lists the kept entry and ours, in order: {names}",
    )
    for embedding in served["embeddings"][1:]:
        name = embedding["tensorName"]
        want = expected[name]
        vectors, info = want.vectors, want.info
        shape = [int(x) for x in embedding["tensorShape"]]
        report(shape == list(vectors.shape), f"{name}: /info tensorShape {shape}")

        tensor = np.frombuffer(fetch(base, "tensor", run=".", name=name), "<f4")
        report(
            tensor.size == vectors.size and np.array_equal(tensor.reshape(vectors.shape), vectors),
            f"{name}: /tensor returns the {vectors.shape} float32 vectors bit for bit",
        )
        if info.metadata_path:
            served_tsv = fetch(base, "metadata", run=".", name=name)
            written = (logdir / info.metadata_path).read_bytes()
            header = written.split(b"\n", 1)[0].decode()
            report(served_tsv == written, f"{name}: /metadata equals metadata.tsv ({header!r}...)")
        if want.images is not None:
            images = want.images
            png = fetch(base, "sprite_image", run=".", name=name)
            written_png = (logdir / info.sprite.image_path).read_bytes()
            atlas = np.asarray(Image.open(io.BytesIO(png)))
            if atlas.ndim == 2:
                atlas = atlas[..., np.newaxis]
            width, height = (int(x) for x in embedding["sprite"]["singleImageDim"])
            columns = atlas.shape[1] // width
            cells_match = all(
                np.array_equal(
                    atlas[r * height : (r + 1) * height, c * width : (c + 1) * width],
                    images[i],
                )
                for i in range(len(images))
                for r, c in [divmod(i, columns)]
            )
            report(
                png == written_png and cells_match,
                f"{name}: /sprite_image is sprite.png, {atlas.shape[1]}x{atlas.shape[0]} px, "
                f"{columns} columns of {width}x{height} thumbnails, each image in its cell",
            )
    return failures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tensorboard", default="/tmp/tbvenv/bin/tensorboard")
    parser.add_argument("--port", type=int, default=6123)
    parser.add_argument("--logdir", type=Path, help="keep the log dir here (default: a temp dir)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        logdir = args.logdir or Path(scratch) / "logs"
        expected = write_logdir(logdir)
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", args.port)) == 0:
                raise SystemExit(f"port {args.port} is in use; pass --port")
        command = [args.tensorboard, "--logdir", str(logdir), "--port", str(args.port)]
        command += ["--host", "127.0.0.1"]
        print("$", " ".join(command))
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            base = f"http://127.0.0.1:{args.port}"
            runs = wait_for_runs(base, process)
            print(f"  ok    /runs lists {runs} (a log dir without event files)")
            failures = check(logdir, base, expected)
        finally:
            process.terminate()
            _, stderr = process.communicate(timeout=30)
        if failures:
            print(stderr.decode(errors="replace")[-3000:], file=sys.stderr)
            raise SystemExit(f"{len(failures)} checks failed")
        print("TensorBoard serves exactly what save_embeddings wrote.")


if __name__ == "__main__":
    main()

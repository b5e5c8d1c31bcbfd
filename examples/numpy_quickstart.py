"""Quick start with numpy: save embeddings as a log dir, open them, show them.

Needs only this package (``pip install -e .`` or ``make build``): no TensorFlow, no
download. It makes 3,000 vectors of 50 dimensions in 6 clusters, with metadata, then

1. writes them as a TensorBoard-compatible log dir with ``projector.save_embeddings``
   and prints the command that serves it (``projector --logdir ...``);
2. opens that log dir again with ``embedding_projector.open`` and lists what it holds;
3. shows the vectors with ``embedding_projector.show``, which opens the projector in your
   browser (inline, in Jupyter), and prints the rows you select there when you press Ctrl-C.

Run::

    python examples/numpy_quickstart.py [LOG_DIR]      # default LOG_DIR: quickstart-logs/
    python examples/numpy_quickstart.py --no-serve     # steps 1 and 2 only (used by the tests)
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import embedding_projector
from embedding_projector import projector

COLOURS = ["red", "green", "blue", "yellow", "purple", "orange"]


def make_data(n: int = 3000, d: int = 50, seed: int = 0) -> tuple[np.ndarray, dict[str, list]]:
    """``n`` vectors around 6 cluster centres, and their metadata columns."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=4.0, size=(len(COLOURS), d))
    cluster = rng.integers(len(COLOURS), size=n)
    vectors = centres[cluster] + rng.normal(size=(n, d))
    distance = np.linalg.norm(vectors - centres[cluster], axis=1)
    metadata = {
        "name": [f"point-{i}" for i in range(n)],
        "cluster": [COLOURS[c] for c in cluster],
        "distance to centre": np.round(distance, 3).tolist(),
    }
    return vectors.astype(np.float32), metadata


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("logdir", nargs="?", default="quickstart-logs", type=Path)
    parser.add_argument(
        "--no-serve", action="store_true", help="write and open the log dir, serve nothing"
    )
    args = parser.parse_args()

    vectors, metadata = make_data()

    # 1. A log dir that `projector --logdir` (and TensorBoard) opens.
    projector.save_embeddings(args.logdir, "clusters", vectors, metadata=metadata, overwrite=True)
    print(f"Saved {vectors.shape[0]:,} vectors in {args.logdir}/. Serve them with:")
    print(f"    projector --logdir {args.logdir}")

    # 2. The same log dir from Python.
    workspace = embedding_projector.open(args.logdir)
    for embedding in workspace:
        n, d = embedding.shape
        print(f"{embedding.name}: {n:,} x {d}, columns {embedding.metadata.column_names}")
        for warning in embedding.warnings:
            print("  warning:", warning)

    if args.no_serve:
        return

    # 3. Straight from the arrays: the projector in the browser (inline in Jupyter).
    shown = embedding_projector.show(vectors, metadata)
    print("Select points in the page (click, or draw a rectangle with x); Ctrl-C to finish.")
    shown.wait()
    selected = shown.selection
    print(f"You selected {selected.size} rows: {selected[:20].tolist()}")


if __name__ == "__main__":
    main()

"""The ``digits`` demo: scikit-learn's handwritten digits, with their images as sprites.

1,797 images of 8×8 pixels (values 0–16) of the digits 0–9, bundled with
scikit-learn (no download). The vectors are the 64 pixel values; t-SNE and UMAP
separate the ten digits, and the thumbnails show which is which.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from embedding_projector.projector import save_embeddings

N_DIGITS = 1797
DIMENSIONS = 64
THUMBNAIL_SCALE = 4
"""Each pixel becomes a 4×4 block: 32×32 thumbnails, sharp at any zoom of the page."""
_MAX_PIXEL = 16


def write_digits(logdir: Path, progress: Callable[[str], None]) -> None:
    """Write the ``digits`` log dir.

    Parameters
    ----------
    logdir
        An empty folder: receives ``projector_config.pbtxt`` and ``digits/`` (raw
        float32 vectors, ``metadata.tsv`` with the columns ``digit`` and ``ink``,
        and ``sprite.png``).
    progress
        Called with a line of text at each step.
    """
    # Imported here: scikit-learn takes a second to import, and only this demo needs it.
    from sklearn.datasets import load_digits

    progress("digits: loading scikit-learn's handwritten digits")
    data = load_digits()
    images = np.asarray(data.images)
    metadata = {
        "digit": np.asarray(data.target).tolist(),
        # The share of the 8×8 square that is inked: thin 1s low, bold 0s and 8s high.
        "ink": np.round(images.sum(axis=(1, 2)) / (images[0].size * _MAX_PIXEL), 3).tolist(),
    }
    progress("digits: writing vectors, metadata and the sprite atlas")
    save_embeddings(
        logdir,
        "digits",
        np.asarray(data.data, dtype=np.float32),
        metadata=metadata,
        images=thumbnails(images),
    )


def thumbnails(images: np.ndarray) -> np.ndarray:
    """Dark ink on white, each pixel enlarged to a block, as ``uint8`` ``N x 32 x 32``.

    Parameters
    ----------
    images
        ``N x 8 x 8`` pixel values from 0 (blank) to 16 (full ink).

    Returns
    -------
    numpy.ndarray
        Grey levels, 255 for blank paper and 0 for full ink. Opaque and light, the
        thumbnails stay readable over a dark or light page, and TensorBoard's
        renderer, which multiplies them by the point's colour, tints the paper.
    """
    paper = 255 - np.rint(np.asarray(images) * (255 / _MAX_PIXEL)).astype(np.uint8)
    return paper.repeat(THUMBNAIL_SCALE, axis=1).repeat(THUMBNAIL_SCALE, axis=2)

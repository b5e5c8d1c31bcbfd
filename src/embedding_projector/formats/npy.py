"""NumPy ``.npy`` and ``.npz`` files (SPEC §2.9)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pyarrow as pa

from embedding_projector.errors import FormatError
from embedding_projector.formats.arrays import (
    ArraySource,
    FileEmbeddings,
    check_matrix,
    mapped_rows,
)
from embedding_projector.formats.text import os_error


def read_npy(path: Path) -> FileEmbeddings:
    """One embedding from a 2-D ``.npy`` array, memory-mapped (named after the file)."""
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except OSError as exc:
        raise os_error(path, exc) from exc
    except (ValueError, EOFError) as exc:
        raise FormatError(f"is not a readable .npy array ({exc})", path=path) from exc
    check_matrix(array, path=path, what="the array")
    source = ArraySource.of(path, array, rows=mapped_rows(path, array))
    return FileEmbeddings([(path.stem, source)])


def read_npz(path: Path) -> FileEmbeddings:
    """Every 2-D numeric array of an ``.npz`` is an embedding; 1-D arrays of the same length
    as the embeddings become metadata columns."""
    arrays = _load_npz(path)
    matrices = {name: a for name, a in arrays.items() if a.ndim == 2 and a.dtype.kind in "biuf"}
    if not matrices:
        shapes = ", ".join(f"{k} {a.shape}" for k, a in arrays.items()) or "nothing"
        raise FormatError(
            f"holds no 2-D numeric array to use as an embedding (it holds {shapes})", path=path
        )
    for name, a in matrices.items():
        check_matrix(a, path=path, what=f"array {name!r}")
    lengths = {a.shape[0] for a in matrices.values()}
    columns = {
        name: pa.array(a.tolist() if a.dtype.kind in "USO" else a)
        for name, a in arrays.items()
        if a.ndim == 1 and len(lengths) == 1 and a.shape[0] in lengths
    }
    return FileEmbeddings(
        [(name, ArraySource.of(path, a)) for name, a in matrices.items()],
        pa.table(columns) if columns else None,
    )


def _load_npz(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    except OSError as exc:
        raise os_error(path, exc) from exc
    except (ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise FormatError(f"is not a readable .npz archive ({exc})", path=path) from exc

"""NumPy ``.npy`` and ``.npz`` files (SPEC §2.9).

A ``.npy`` is read like the other stored formats: its header here, from the file opened
inside the root, its numbers as a :class:`.stored.StoredArray` (memory-mapped by the
Python API, read with ``pread`` by the server).
"""

from __future__ import annotations

import tokenize
import warnings
import zipfile
import zlib
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pyarrow as pa

from embedding_projector.errors import FormatError, UnsupportedFormatError, quote_exception
from embedding_projector.formats.arrays import (
    ArraySource,
    FileEmbeddings,
    check_matrix,
    check_matrix_layout,
    dtype_name,
)
from embedding_projector.formats.files import open_inside
from embedding_projector.formats.stored import StoredArray

# What numpy's header parser (which tokenizes the header as Python) and zipfile raise on
# a corrupt file.
_NPY_ERRORS = (
    ValueError,
    EOFError,
    SyntaxError,
    tokenize.TokenError,
    TypeError,
    MemoryError,
    RecursionError,
    OSError,
)
_NPZ_ERRORS = (
    *_NPY_ERRORS,
    zipfile.BadZipFile,
    zlib.error,
    NotImplementedError,  # a compression method zipfile lacks
    RuntimeError,  # an encrypted member
    KeyError,
)


def read_npy(path: Path, *, root: Path | None = None) -> FileEmbeddings:
    """One embedding from a 2-D ``.npy`` array (named after the file), read lazily."""
    stored = npy_layout(path, root)
    return FileEmbeddings([(path.stem, ArraySource.stored(stored, dtype_name(stored.dtype)))])


def npy_layout(path: Path, root: Path | None = None) -> StoredArray:
    """Where the 2-D numeric array of a ``.npy`` lies, from its header.

    Raises
    ------
    FormatError
        Not a ``.npy``, a corrupt header, an array that is not a 2-D array of numbers, or
        a file shorter than its header says.
    UnsupportedFormatError
        A format version this reader does not know.
    """
    with open_inside(path, root) as opened:
        try:
            shape, fortran_order, dtype = _read_header(opened.file, path)
        except _NPY_ERRORS as exc:
            raise FormatError(
                f"is not a readable .npy array ({quote_exception(exc)})", path=path
            ) from None
        offset = opened.file.tell()
    check_matrix_layout(shape, dtype, path=path, what="the array")
    stored = StoredArray(
        path, root, opened.identity, offset, dtype, tuple(shape), fortran_order=fortran_order
    )
    if offset + stored.nbytes > opened.identity.size:
        raise FormatError(
            f"is truncated: its header describes {shape} {dtype} values ({stored.nbytes:,} "
            f"bytes after the header) but the file holds {opened.identity.size - offset:,}",
            path=path,
        )
    return stored


def _read_header(file: BinaryIO, path: Path) -> tuple[tuple[int, ...], bool, np.dtype[Any]]:
    """Shape, Fortran order and dtype, from a header of format version 1.0 or 2.0."""
    with warnings.catch_warnings():
        # numpy warns (rather than fails) about a header written by Python 2: a file it
        # reads is fine.
        warnings.simplefilter("ignore", UserWarning)
        version = np.lib.format.read_magic(file)
        if version == (1, 0):
            header = np.lib.format.read_array_header_1_0(file)
        elif version == (2, 0):
            header = np.lib.format.read_array_header_2_0(file)
        elif version == (3, 0):
            raise UnsupportedFormatError(
                "is a .npy of format version 3.0, which holds named fields, not numbers; "
                "save a plain numeric array",
                path=path,
            )
        else:
            raise ValueError(f"unknown format version {version[0]}.{version[1]}")
    shape, fortran_order, dtype = header
    return tuple(shape), bool(fortran_order), dtype


def read_npz(path: Path, *, root: Path | None = None) -> FileEmbeddings:
    """Every 2-D numeric array of an ``.npz`` is an embedding; 1-D arrays of the same length
    as the embeddings become metadata columns."""
    arrays = _load_npz(path, root)
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
        name: _column(a, name, path)
        for name, a in arrays.items()
        if a.ndim == 1 and len(lengths) == 1 and a.shape[0] in lengths
    }
    return FileEmbeddings(
        [(name, ArraySource.of(path, a)) for name, a in matrices.items()],
        pa.table(columns) if columns else None,
    )


def _column(array: np.ndarray, name: str, path: Path) -> pa.Array:
    """A 1-D array as a metadata column."""
    try:
        return pa.array(array.tolist() if array.dtype.kind in "USO" else array)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
        raise FormatError(
            f"array {name!r} cannot be a metadata column ({quote_exception(exc)})", path=path
        ) from None


def _load_npz(path: Path, root: Path | None) -> dict[str, np.ndarray]:
    """Every ``.npy`` member, read into memory; other members are named in the error."""
    with open_inside(path, root) as opened, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # as in _read_header
        try:
            loaded = np.load(opened.file, allow_pickle=False)
            if not isinstance(loaded, np.lib.npyio.NpzFile):  # np.load also reads a .npy
                raise FormatError("is not an .npz archive (a zip of .npy files)", path=path)
            with loaded as archive:
                return {name: _member(archive, name, path) for name in archive.files}
        except _NPZ_ERRORS as exc:
            raise FormatError(
                f"is not a readable .npz archive ({quote_exception(exc)})", path=path
            ) from None


def _member(archive: Any, name: str, path: Path) -> np.ndarray:
    member = archive[name]
    if not isinstance(member, np.ndarray):  # np.load hands other members over as bytes
        raise FormatError(
            f"member {name!r} of the archive is not a .npy array; an .npz holds only arrays",
            path=path,
        )
    return member

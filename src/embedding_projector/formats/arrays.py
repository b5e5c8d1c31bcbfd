"""In-memory or memory-mapped arrays as embedding sources, and what makes a valid one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from embedding_projector.errors import FormatError, InvalidParameterError
from embedding_projector.formats.rows import MappedRows, RowFile

# Stored types that hold vector components; anything else (strings, objects, complex) does not.
_NUMERIC_KINDS = "biuf"


def dtype_name(dtype: np.dtype) -> str:
    """A short, stable name for a stored element type (``float32``, ``int64``, ``bool``)."""
    return "bool" if dtype.kind == "b" else dtype.name


def check_matrix(array: np.ndarray, *, path: Path, what: str) -> np.ndarray:
    """Refuse arrays that cannot be an embedding: not 2-D, empty, or not numbers.

    Parameters
    ----------
    array
        The candidate.
    path
        The file it came from, for the message.
    what
        How to call it in the message (e.g. ``"the array"``, ``"tensor 'emb'"``).
    """
    if array.dtype.kind not in _NUMERIC_KINDS:
        raise FormatError(f"{what} holds {array.dtype} values; vectors must be numbers", path=path)
    if array.ndim != 2:
        raise FormatError(
            f"{what} has shape {array.shape}; an embedding is 2-D (N vectors × D dimensions)",
            path=path,
        )
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise FormatError(f"{what} is empty (shape {array.shape})", path=path)
    return array


def as_float32(array: np.ndarray) -> np.ndarray:
    """C-contiguous little-endian float32, without a copy when it already is (memmaps stay)."""
    if array.dtype == np.dtype("<f4") and array.flags.c_contiguous:
        return array
    return np.ascontiguousarray(array, dtype="<f4")


class ArraySource:
    """Vectors read on demand by ``load`` (a memory-mapped ``.npy``, a checkpoint tensor, ...).

    Parameters
    ----------
    path
        The file holding the vectors.
    shape
        ``(N, D)``, known without loading.
    dtype
        The element type as stored.
    load
        Returns the array; called once, on first :meth:`read`.
    rows
        Where another process can read row ranges of the file itself (a Dask worker), when
        the format allows it; None when the vectors can only be read whole.
    """

    def __init__(
        self,
        path: Path,
        shape: tuple[int, int],
        dtype: str,
        load: Callable[[], np.ndarray],
        *,
        rows: RowFile | None = None,
    ) -> None:
        self.path = path
        self.shape = shape
        self.dtype = dtype
        self._load = load
        self.rows = rows

    @classmethod
    def of(cls, path: Path, array: np.ndarray, *, rows: RowFile | None = None) -> ArraySource:
        """A source for an array already at hand (in memory or memory-mapped)."""
        n, d = array.shape
        return cls(path, (int(n), int(d)), dtype_name(array.dtype), lambda: array, rows=rows)

    def read(self) -> np.ndarray:
        """float32 ``(N, D)``; zero-copy for float32 arrays."""
        return as_float32(self._load())


@dataclass
class FileEmbeddings:
    """What a direct input file holds: named vector sets and, maybe, per-row metadata."""

    tensors: list[tuple[str, ArraySource]] = field(default_factory=list)
    metadata: pa.Table | None = None


def mapped_rows(path: Path, array: np.ndarray) -> MappedRows | None:
    """Where a memory-mapped row-major array of numbers lies in its file, or None."""
    if not isinstance(array, np.memmap) or not array.flags.c_contiguous:
        return None
    if array.dtype.kind not in "iuf" or array.ndim != 2:
        return None
    n, d = array.shape
    return MappedRows(path, int(array.offset), (int(n), int(d)), array.dtype.str)


def to_numpy(data: Any) -> Any:
    """Detach PyTorch tensors and move them to the CPU; call ``.numpy()`` where offered."""
    if callable(getattr(data, "detach", None)) and callable(getattr(data, "cpu", None)):
        data = data.detach().cpu()
    numpy_method = getattr(data, "numpy", None)
    return numpy_method() if callable(numpy_method) else data


def float32_matrix(vectors: Any) -> np.ndarray:
    """``vectors`` as a C-contiguous little-endian float32 ``N x D`` array of finite values.

    Raises
    ------
    InvalidParameterError
        Naming what is wrong: not numbers, not 2-D, empty, or NaN/infinite values.
    """
    try:
        array = np.asarray(to_numpy(vectors))
    except (TypeError, ValueError) as error:
        raise InvalidParameterError(
            "`vectors` must be a 2-D array of numbers (rows of equal length); "
            f"numpy could not convert it: {error}"
        ) from error
    if array.dtype.kind not in "iuf":
        raise InvalidParameterError(f"`vectors` must hold numbers, got dtype {array.dtype}")
    if array.ndim != 2 or 0 in array.shape:
        raise InvalidParameterError(
            f"`vectors` must be N x D (N, D ≥ 1), one vector a row; got shape {array.shape}"
        )
    with np.errstate(over="ignore"):  # out-of-range values become inf, reported below
        matrix = np.ascontiguousarray(array, dtype="<f4")
    finite = np.isfinite(matrix)
    if not finite.all():
        bad_rows = np.flatnonzero(~finite.all(axis=1))
        raise InvalidParameterError(
            f"`vectors` has NaN or infinite values (as float32) in {bad_rows.size} rows, "
            f"the first being row {bad_rows[0]}"
        )
    return matrix

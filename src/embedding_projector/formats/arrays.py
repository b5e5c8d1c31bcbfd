"""In-memory or memory-mapped arrays as embedding sources, and what makes a valid one."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from embedding_projector.errors import FormatError, InvalidParameterError
from embedding_projector.formats.rows import RowFile, StoredRows
from embedding_projector.formats.stored import StoredArray, as_float32

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
    check_matrix_layout(array.shape, array.dtype, path=path, what=what)
    return array


def check_matrix_layout(
    shape: tuple[int, ...], dtype: np.dtype[Any], *, path: Path, what: str
) -> None:
    """:func:`check_matrix` on a shape and dtype read from a header."""
    if dtype.kind not in _NUMERIC_KINDS:
        raise FormatError(f"{what} holds {dtype} values; vectors must be numbers", path=path)
    if len(shape) != 2:
        raise FormatError(
            f"{what} has shape {shape}; an embedding is 2-D (N vectors × D dimensions)",
            path=path,
        )
    if min(shape) < 0:
        raise FormatError(
            f"{what} has a negative size in its shape {shape}: the file is corrupt", path=path
        )
    if min(shape) == 0:
        raise FormatError(f"{what} is empty (shape {shape})", path=path)


#: Rows per block when an in-memory array is handed out in blocks.
_BLOCK_ROWS = 65_536


class ArraySource:
    """Vectors read on demand by ``load``: an array, or where one is stored in a file.

    Parameters
    ----------
    path
        The file holding the vectors.
    shape
        ``(N, D)``, known without loading.
    dtype
        The element type as stored.
    load
        Returns the array (in memory) or a :class:`~.stored.StoredArray`; called once,
        on first use.
    rows
        Where another process reads row ranges of the file itself (a Dask worker), for
        a format whose rows are not a :class:`~.stored.StoredArray` (Parquet).

    Notes
    -----
    A stored array is memory-mapped by :meth:`read` (no copy) and read with ``pread`` by
    :meth:`blocks`: the server only uses the latter, so that no file of the user is ever
    mapped in its process (a file cut short under a map crashes the process).
    """

    def __init__(
        self,
        path: Path,
        shape: tuple[int, int],
        dtype: str,
        load: Callable[[], np.ndarray | StoredArray],
        *,
        rows: RowFile | None = None,
    ) -> None:
        self.path = path
        self.shape = shape
        self.dtype = dtype
        self._load = load
        self._rows = rows
        self._data: np.ndarray | StoredArray | None = None
        self._float32: np.ndarray | None = None

    @classmethod
    def of(cls, path: Path, array: np.ndarray) -> ArraySource:
        """A source for an array already in memory."""
        n, d = array.shape
        return cls(path, (int(n), int(d)), dtype_name(array.dtype), lambda: array)

    @classmethod
    def stored(cls, stored: StoredArray, dtype: str) -> ArraySource:
        """A source for a 2-D array stored in a file (``dtype``: its name as stored)."""
        n, d = stored.shape
        return cls(stored.path, (int(n), int(d)), dtype, lambda: stored)

    def _loaded(self) -> np.ndarray | StoredArray:
        if self._data is None:
            self._data = self._load()
        return self._data

    @property
    def rows(self) -> RowFile | None:
        """Where another process can read row ranges of the file itself (a Dask worker);
        None when the vectors can only be read whole (a text file, a partitioned tensor).

        Finding out locates the array in its file (a checkpoint's data shard is opened).
        """
        if self._rows is not None:
            return self._rows
        data = self._loaded()
        return StoredRows.of(data) if isinstance(data, StoredArray) else None

    def read(self) -> np.ndarray:
        """float32 ``(N, D)``, memory-mapped where stored as float32; read once.

        Raises
        ------
        FileChangedError
            When the file changed since it was opened (checked on every call).
        """
        data = self._loaded()
        if isinstance(data, StoredArray):
            data.check_unchanged()
            if self._float32 is None:
                self._float32 = data.float32(data.map())
        elif self._float32 is None:
            self._float32 = as_float32(data)
        return self._float32

    def blocks(self) -> Iterator[np.ndarray]:
        """float32 blocks of consecutive rows, C-contiguous, without a memory map of the file.

        A block may be overwritten by the next one (see :meth:`.StoredArray.row_blocks`):
        use it, or copy it, before asking for the next.

        Raises
        ------
        FileChangedError
            When the file changed since it was opened, also while it is being read.
        """
        data = self._loaded()
        if isinstance(data, StoredArray):
            for block in data.row_blocks():
                yield data.float32(block)
        else:
            array = self.read()
            for start in range(0, array.shape[0], _BLOCK_ROWS):
                yield array[start : start + _BLOCK_ROWS]


@dataclass
class FileEmbeddings:
    """What a direct input file holds: named vector sets and, maybe, per-row metadata."""

    tensors: list[tuple[str, ArraySource]] = field(default_factory=list)
    metadata: pa.Table | None = None


def to_numpy(data: Any) -> Any:
    """Detach PyTorch tensors and move them to the CPU; call ``.numpy()`` where offered."""
    if callable(getattr(data, "detach", None)) and callable(getattr(data, "cpu", None)):
        data = data.detach().cpu()
    numpy_method = getattr(data, "numpy", None)
    return numpy_method() if callable(numpy_method) else data


def float32_matrix(vectors: Any, name: str = "vectors") -> np.ndarray:
    """``vectors`` as a C-contiguous little-endian float32 ``N x D`` array of finite values.

    ``name`` is the argument's name in the messages.

    Raises
    ------
    InvalidParameterError
        Naming what is wrong: not numbers, not 2-D, empty, or NaN/infinite values.
    """
    try:
        array = np.asarray(to_numpy(vectors))
    except (TypeError, ValueError) as error:
        raise InvalidParameterError(
            f"`{name}` must be a 2-D array of numbers (rows of equal length); "
            f"numpy could not convert it: {error}"
        ) from error
    if array.dtype.kind not in "iuf":
        raise InvalidParameterError(f"`{name}` must hold numbers, got dtype {array.dtype}")
    if array.ndim != 2 or 0 in array.shape:
        raise InvalidParameterError(
            f"`{name}` must be N x D (N, D ≥ 1), one vector a row; got shape {array.shape}"
        )
    with np.errstate(over="ignore"):  # out-of-range values become inf, reported below
        matrix = np.ascontiguousarray(array, dtype="<f4")
    finite = np.isfinite(matrix)
    if not finite.all():
        bad_rows = np.flatnonzero(~finite.all(axis=1))
        raise InvalidParameterError(
            f"`{name}` has NaN or infinite values (as float32) in {bad_rows.size} rows, "
            f"the first being row {bad_rows[0]}"
        )
    return matrix

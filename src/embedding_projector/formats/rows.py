"""Row ranges of a stored ``(N, D)`` matrix, read by whichever process can see the file.

A row file is a small, picklable description of where a matrix lies (a path, a byte
offset, a dtype; or Parquet files and a column), never its data. The process that
holds one reads the rows it needs itself, as float32: this is how a Dask worker reads
its own blocks from shared storage, so that vectors never pass through the scheduler
or the web server (:mod:`embedding_projector.compute.distributed`).

- :class:`MappedRows`: rows at a byte offset of a file, memory-mapped: ``.npy``,
  safetensors tensors, raw float32 files and unsliced checkpoint tensors (with the
  tensor's CRC32C, checked block by block: :meth:`MappedRows.checksum`).
- :class:`ParquetRows`: a list column (or the numeric columns) of a Parquet file or of
  a folder of Parquet files, read by row group.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from embedding_projector.errors import FormatError
from embedding_projector.formats.text import os_error


class RowFile(Protocol):
    """Where the rows of a matrix are stored; :meth:`read` gives any range as float32."""

    @property
    def shape(self) -> tuple[int, int]:
        """``(N, D)``."""
        ...

    @property
    def location(self) -> str:
        """The file or folder, for messages (a worker that cannot see it names it)."""
        ...

    def read(self, start: int, stop: int) -> np.ndarray:
        """Rows ``start:stop`` as a C-contiguous float32 array (a memory map where possible)."""
        ...


@dataclass(frozen=True)
class MappedRows:
    """An ``(N, D)`` matrix stored row-major at ``offset`` bytes into ``path``.

    Attributes
    ----------
    path
        The file holding the bytes (a checkpoint's data shard, not its prefix).
    offset
        Byte offset of row 0.
    shape
        ``(N, D)``.
    stored
        The stored element type as a numpy dtype string (``"<f4"``, ``"<f8"``, ``"<f2"``,
        ``"<i8"``); bfloat16 is stored as ``"<u2"`` with ``bfloat16`` set.
    bfloat16
        The 16-bit elements are the top halves of float32 values.
    masked_crc32c
        For a checkpoint tensor: the masked CRC32C of all its bytes, as its index stores it.
    """

    path: Path
    offset: int
    shape: tuple[int, int]
    stored: str = "<f4"
    bfloat16: bool = False
    masked_crc32c: int | None = None

    @property
    def location(self) -> str:
        """The file."""
        return str(self.path)

    @property
    def row_bytes(self) -> int:
        """Stored bytes per row."""
        return self.shape[1] * np.dtype(self.stored).itemsize

    def read(self, start: int, stop: int) -> np.ndarray:
        """Rows ``start:stop`` as float32: a read-only memory map when stored as float32."""
        stored = self._map(start, stop)
        if self.bfloat16:
            return (stored.astype("<u4") << 16).view("<f4")
        if stored.dtype == np.dtype("<f4"):
            return stored
        return np.ascontiguousarray(stored, dtype="<f4")

    def checksum(self, start: int, stop: int) -> int:
        """The (unmasked) CRC32C of the stored bytes of rows ``start:stop``.

        The CRCs of consecutive ranges combine into the whole tensor's
        (:func:`~.tf_checkpoint.crc.combine`), to compare with :attr:`masked_crc32c`.
        """
        from embedding_projector.formats.tf_checkpoint.crc import crc32c

        stored = self._map(start, stop)
        return crc32c(stored.tobytes() if stored.size == 0 else stored.data.cast("B"))

    def _map(self, start: int, stop: int) -> np.ndarray:
        n, d = self.shape
        if not 0 <= start <= stop <= n:
            raise ValueError(f"rows {start}:{stop} are not within 0..{n}")
        if start == stop:
            return np.empty((0, d), dtype=self.stored)
        try:
            return np.memmap(
                self.path,
                dtype=self.stored,
                mode="r",
                offset=self.offset + start * self.row_bytes,
                shape=(stop - start, d),
            )
        except OSError as exc:
            raise os_error(self.path, exc) from exc
        except ValueError as exc:  # the file is shorter than the rows asked for
            raise FormatError(
                f"rows {start}:{stop} lie past the end of the file ({exc}); it was truncated "
                "or changed since it was opened",
                path=self.path,
            ) from exc


@dataclass(frozen=True)
class ParquetRows:
    """Vectors in a Parquet file or a folder of Parquet files, in file order then row order.

    Attributes
    ----------
    files
        The Parquet files, in order.
    columns
        One list column of numbers (each row one vector), or several numeric columns
        (each one dimension).
    shape
        ``(N, D)``.
    """

    files: tuple[Path, ...]
    columns: tuple[str, ...]
    shape: tuple[int, int]

    @property
    def location(self) -> str:
        """The file, or the folder of the files."""
        return str(self.files[0] if len(self.files) == 1 else self.files[0].parent)

    def read(self, start: int, stop: int) -> np.ndarray:
        """Rows ``start:stop`` as float32, reading only the row groups that hold them."""
        n, d = self.shape
        if not 0 <= start <= stop <= n:
            raise ValueError(f"rows {start}:{stop} are not within 0..{n}")
        out = np.empty((stop - start, d), dtype=np.float32)
        for file, first, group in self._groups():
            rows = _row_group_rows(file, group)
            lo, hi = max(start, first), min(stop, first + rows)
            if lo >= hi:
                continue
            block = self._read_group(file, group)
            out[lo - start : hi - start] = block[lo - first : hi - first]
        return out

    def _groups(self) -> list[tuple[Path, int, int]]:
        """Every row group: its file, the number of its first row, its index in the file."""
        groups, first = [], 0
        for file in self.files:
            for group in range(_row_group_count(file)):
                groups.append((file, first, group))
                first += _row_group_rows(file, group)
        return groups

    def _read_group(self, file: Path, group: int) -> np.ndarray:
        import pyarrow.compute as pc

        try:
            table = _parquet_file(file).read_row_group(group, columns=list(self.columns))
        except OSError as exc:
            raise os_error(file, exc) from exc
        if len(self.columns) > 1:
            return np.column_stack([table.column(c).to_numpy() for c in self.columns])
        column = table.column(self.columns[0]).combine_chunks()
        flat: np.ndarray = pc.list_flatten(column).to_numpy(zero_copy_only=False)
        return flat.reshape(len(column), self.shape[1])


@functools.lru_cache(maxsize=256)
def _parquet_file(path: Path) -> Any:
    """An open Parquet file (its footer parsed once per process)."""
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(path, memory_map=True)
    except OSError as exc:
        raise os_error(path, exc) from exc


def _row_group_count(path: Path) -> int:
    count: int = _parquet_file(path).metadata.num_row_groups
    return count


def _row_group_rows(path: Path, group: int) -> int:
    rows: int = _parquet_file(path).metadata.row_group(group).num_rows
    return rows

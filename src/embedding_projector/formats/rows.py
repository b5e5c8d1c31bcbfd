"""Row ranges of a stored ``(N, D)`` matrix, read by whichever process can see the file.

A row file is a small, picklable description of where a matrix lies (a path, a byte
offset, a dtype; or Parquet files and a column), never its data. The process that
holds one reads the rows it needs itself, as float32: this is how a Dask worker reads
its own blocks from shared storage, so that vectors never pass through the scheduler
or the web server (:mod:`embedding_projector.compute.distributed`).

Every read opens the file again with :func:`~.files.open_inside` (inside the folder
that was opened, checked on the opened descriptor) and reads with ``pread``: no process
maps a user's file, so a file cut short meanwhile is an error, not a crash.

- :class:`StoredRows`: rows at a byte offset of a file (a :class:`~.stored.StoredArray`):
  ``.npy``, safetensors tensors, raw float32 files and unsliced checkpoint tensors (with
  the tensor's CRC32C, checked block by block: :meth:`StoredRows.read_stored`).
- :class:`ParquetRows`: a list column (or the numeric columns) of a Parquet file or of
  a folder of Parquet files, read by row group.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pyarrow as pa

from embedding_projector.errors import FormatError, quote_exception
from embedding_projector.formats.files import FileIdentity, OpenedFile, open_inside
from embedding_projector.formats.stored import StoredArray


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
        """Rows ``start:stop`` as a C-contiguous float32 array, in memory."""
        ...


def _check_range(start: int, stop: int, n: int) -> None:
    if not 0 <= start <= stop <= n:
        raise ValueError(f"rows {start}:{stop} are not within 0..{n}")


@dataclass(frozen=True)
class StoredRows:
    """The rows of a 2-D C-order numeric :class:`~.stored.StoredArray`."""

    stored: StoredArray

    @classmethod
    def of(cls, stored: StoredArray) -> StoredRows | None:
        """Row ranges of ``stored``, or None when its layout has none (Fortran order, bool,
        not 2-D)."""
        if stored.fortran_order or len(stored.shape) != 2 or stored.dtype.kind not in "iuf":
            return None
        return cls(stored)

    @property
    def shape(self) -> tuple[int, int]:
        """``(N, D)``."""
        n, d = self.stored.shape
        return n, d

    @property
    def location(self) -> str:
        """The file (a checkpoint's data shard, not its prefix)."""
        return str(self.stored.path)

    @property
    def row_bytes(self) -> int:
        """Stored bytes per row."""
        return self.shape[1] * self.stored.dtype.itemsize

    def read(self, start: int, stop: int) -> np.ndarray:
        """Rows ``start:stop`` as float32."""
        return self.stored.float32(self.read_stored(start, stop))

    def read_stored(self, start: int, stop: int) -> np.ndarray:
        """Rows ``start:stop`` in the stored dtype (bfloat16 as ``uint16``), with ``pread``.

        Their CRC32C (:func:`~.crc.crc32c` of the result's bytes) combines with those of the
        ranges around them into the tensor's (:func:`~.crc.combine`), to compare with
        ``stored.crc32c``: a checkpoint tensor is checked block by block, in any process.
        """
        n, d = self.shape
        _check_range(start, stop, n)
        raw = np.empty((stop - start) * self.row_bytes, np.uint8)
        if raw.size:
            with self._open() as opened:
                opened.pread_into(self.stored.offset + start * self.row_bytes, raw.data)
        return raw.view(self.stored.dtype).reshape(stop - start, d)

    def _open(self) -> OpenedFile:
        """The file, opened inside its root, checked to be the one the server opened.

        By size and modification time only: another machine sees a file on shared storage
        (NFS) under another device number, and may see another inode number.
        """
        opened = open_inside(self.stored.path, self.stored.root)
        try:
            now = os.fstat(opened.fileno())
            expected = self.stored.identity
            FileIdentity(now.st_dev, now.st_ino, expected.size, expected.mtime_ns).check(
                now, self.stored.path
            )
        except BaseException:
            opened.file.close()
            raise
        return opened


@dataclass(frozen=True)
class ParquetRows:
    """Vectors in a Parquet file or a folder of Parquet files, in file order then row order.

    Attributes
    ----------
    files
        The Parquet files, in order.
    file_rows
        The number of rows of each file (from its footer).
    columns
        One list column of numbers (each row one vector), or several numeric columns
        (each one dimension).
    shape
        ``(N, D)``.
    root
        The folder every file must be inside when it is opened.
    """

    files: tuple[Path, ...]
    file_rows: tuple[int, ...]
    columns: tuple[str, ...]
    shape: tuple[int, int]
    root: Path | None

    @property
    def location(self) -> str:
        """The file, or the folder of the files."""
        return str(self.files[0] if len(self.files) == 1 else self.files[0].parent)

    def read(self, start: int, stop: int) -> np.ndarray:
        """Rows ``start:stop`` as float32, reading only the files and row groups that hold
        them."""
        n, d = self.shape
        _check_range(start, stop, n)
        out = np.empty((stop - start, d), dtype=np.float32)
        first = 0
        for file, rows in zip(self.files, self.file_rows, strict=True):
            if first < stop and start < first + rows:
                with open_parquet(file, self.root) as parquet:
                    self._read_file(parquet, first, start, stop, out)
            first += rows
        return out

    def _read_file(self, parquet: Any, first: int, start: int, stop: int, out: np.ndarray) -> None:
        """Copy the rows of ``start:stop`` that one file holds (its first row is ``first``)."""
        metadata = parquet.metadata
        for group in range(metadata.num_row_groups):
            rows = metadata.row_group(group).num_rows
            lo, hi = max(start, first), min(stop, first + rows)
            if lo < hi:
                table = parquet.read_row_group(group, columns=list(self.columns))
                block = self._matrix(table)
                out[lo - start : hi - start] = block[lo - first : hi - first]
            first += rows

    def _matrix(self, table: pa.Table) -> np.ndarray:
        import pyarrow.compute as pc

        if len(self.columns) > 1:
            return np.column_stack([table.column(c).to_numpy() for c in self.columns])
        column = table.column(self.columns[0]).combine_chunks()
        flat: np.ndarray = pc.list_flatten(column).to_numpy(zero_copy_only=False)
        return flat.reshape(len(column), self.shape[1])


@contextmanager
def open_parquet(file: Path, root: Path | None) -> Iterator[Any]:
    """A ``pyarrow.parquet.ParquetFile`` on ``file`` opened inside ``root`` (read, never
    memory-mapped); pyarrow's errors within the block become one line naming the file."""
    import pyarrow.parquet as pq

    with open_inside(file, root) as opened:
        try:
            yield pq.ParquetFile(opened.file)
        except (pa.ArrowException, OSError, ValueError) as exc:
            raise FormatError(
                f"could not be read as Parquet ({quote_exception(exc)})", path=file
            ) from None

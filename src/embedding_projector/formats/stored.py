"""Arrays stored raw at an offset of a file (``.npy``, safetensors, raw float32, checkpoints).

A :class:`StoredArray` says where the bytes are, in which layout, and which file they are
in: the identity (inode, size, mtime) the file had when its header was read. Two ways
to get the numbers:

- :meth:`StoredArray.map`: a read-only memory map, no copy (the Python API). A file cut
  short while mapped makes the next touch of a lost page kill the process (``SIGBUS``),
  which Python cannot catch; so the map is only made after the file is checked to be
  unchanged, and the server never makes one.
- :meth:`StoredArray.read` and :meth:`StoredArray.row_blocks`: ``pread`` into memory. A
  file cut short meanwhile is a short read, reported as :class:`FileChangedError`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from embedding_projector.errors import ChecksumError
from embedding_projector.formats.crc import crc32c, mask
from embedding_projector.formats.files import FileIdentity, OpenedFile, open_inside, os_error

#: Bytes per block of :meth:`StoredArray.row_blocks` when the caller does not say: small
#: enough for the CPU caches, so that reading into one reused buffer costs little more
#: than a memory map (1M x 128 float32 hashed: 0.13 s, 0.10 s mapped, 0.7 s with a fresh
#: 32 MB block each time; docs/decisions.md).
BLOCK_BYTES = 4 * 2**20


def as_float32(array: np.ndarray) -> np.ndarray:
    """C-contiguous little-endian float32, without a copy when it already is (memmaps stay).

    Values beyond float32's range become infinite, as a float32 holds them.
    """
    if array.dtype == np.dtype("<f4") and array.flags.c_contiguous:
        return array
    with np.errstate(over="ignore"):
        return np.ascontiguousarray(array, dtype="<f4")


def bfloat16_to_float32(bits: np.ndarray) -> np.ndarray:
    """bfloat16 (stored as uint16; numpy has no such type) is the top half of a float32."""
    return (bits.astype("<u4") << 16).view("<f4")


@dataclass(frozen=True)
class StoredArray:
    """An array whose bytes lie at ``offset`` of ``path``, in the file as it was opened."""

    path: Path
    root: Path | None
    """The folder the file must be inside when it is opened again (see ``open_inside``)."""
    identity: FileIdentity
    offset: int
    dtype: np.dtype[np.generic]
    """The stored element type (any byte order)."""
    shape: tuple[int, ...]
    fortran_order: bool = False
    bfloat16: bool = False
    """The ``uint16`` elements are bfloat16 numbers (the top half of float32s)."""
    crc32c: int | None = None
    """The masked CRC32C of the stored bytes, checked on every read (checkpoints)."""
    what: str = "the array"
    """How messages call it, e.g. ``"tensor 'emb'"``."""

    @property
    def nbytes(self) -> int:
        """Size of the stored bytes."""
        return math.prod(self.shape) * self.dtype.itemsize

    def check_unchanged(self) -> None:
        """Raise :class:`FileChangedError` if the file at ``path`` is no longer the one read."""
        try:
            info = os.stat(self.path)
        except OSError as exc:
            raise os_error(self.path, exc) from exc
        self.identity.check(info, self.path)

    def open(self) -> OpenedFile:
        """The file, opened inside its root, after checking it is the one that was read."""
        opened = open_inside(self.path, self.root)
        try:
            opened.check_unchanged(self.identity)
        except BaseException:
            opened.file.close()
            raise
        return opened

    def map(self) -> np.ndarray:
        """A read-only memory map in the stored dtype and shape, CRC checked when known."""
        if self.nbytes == 0:
            return np.empty(self.shape, self.dtype)
        with self.open() as opened:
            raw = np.memmap(opened.file, np.uint8, mode="r", offset=self.offset, shape=self.nbytes)
        self._check_crc(crc32c(raw.data))
        return self._shaped(raw)

    def read(self) -> np.ndarray:
        """The array copied into memory with ``pread``, CRC checked when known."""
        raw = np.empty(self.nbytes, np.uint8)
        with self.open() as opened:
            opened.pread_into(self.offset, raw.data)
            opened.check_unchanged(self.identity)  # rewritten in place while being read
        self._check_crc(crc32c(raw.data))
        return self._shaped(raw)

    def row_blocks(self, block_bytes: int = BLOCK_BYTES) -> Iterator[np.ndarray]:
        """Consecutive C-order blocks of rows (stored dtype), read with ``pread``.

        Every block is a view of one buffer, which the next block overwrites: use it (or
        copy it) before asking for the next. Memory stays at one block whatever the size
        of the array. The CRC is checked after the last block: a consumer must not keep
        anything of a read that raises.
        """
        n = self.shape[0] if self.shape else 0
        if self.fortran_order or len(self.shape) < 2 or n == 0:
            yield np.ascontiguousarray(self.read())
            return
        row_bytes = self.nbytes // n
        rows = max(1, block_bytes // max(row_bytes, 1))
        buffer = np.empty(rows * row_bytes, np.uint8)
        crc = 0
        with self.open() as opened:
            for start in range(0, n, rows):
                count = min(rows, n - start)
                raw = buffer[: count * row_bytes]
                opened.pread_into(self.offset + start * row_bytes, raw.data)
                crc = crc32c(raw.data, crc)
                yield raw.view(self.dtype).reshape(count, *self.shape[1:])
            opened.check_unchanged(self.identity)
        self._check_crc(crc)

    def float32(self, stored: np.ndarray) -> np.ndarray:
        """What :meth:`map`, :meth:`read` or a block gave, as C-contiguous float32."""
        return bfloat16_to_float32(stored) if self.bfloat16 else as_float32(stored)

    def _shaped(self, raw: np.ndarray) -> np.ndarray:
        shaped: np.ndarray = raw.view(self.dtype).reshape(
            self.shape, order="F" if self.fortran_order else "C"
        )
        return shaped

    def _check_crc(self, unmasked: int) -> None:
        if self.crc32c is not None and mask(unmasked) != self.crc32c:
            raise ChecksumError(
                f"{self.what} fails its CRC32C check (stored {self.crc32c:#010x}, computed "
                f"{mask(unmasked):#010x}) at byte offset {self.offset}, {self.nbytes} bytes: "
                "the file is corrupt; copy it again or re-save it",
                path=self.path,
            )

"""A test-only writer of TensorFlow V2 checkpoints (tensor bundles), as TF 2.21 writes them.

Proven against the real fixtures: re-encoding every entry of a fixture's ``.index`` and
rebuilding the table reproduces the file byte for byte (``tests/test_tf_bundle_writer.py``).
It can also write huge, mostly-zero tensors into sparse data files, to test the reader on
> 2 GB tensors without the disk or memory cost.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

import numpy as np

from embedding_projector.formats.crc import crc32c, mask
from embedding_projector.formats.tf_checkpoint.index import Box
from embedding_projector.formats.tf_checkpoint.wire import BundleEntry, Extent

from .sstable_writer import build_table, encode_varint

DTYPE_ENUMS = {
    "float32": 1, "float64": 2, "int32": 3, "uint8": 4, "int16": 5, "int8": 6,
    "complex64": 8, "int64": 9, "bool": 10, "uint16": 17, "complex128": 18,
    "float16": 19, "uint32": 22, "uint64": 23,
}  # fmt: skip
DT_BFLOAT16 = 14
_ZEROS = bytes(1 << 24)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited field."""
    return encode_varint(number << 3 | 2) + encode_varint(len(payload)) + payload


def _varint_field(number: int, value: int) -> bytes:
    """A varint field, omitted at its default (proto3)."""
    return encode_varint(number << 3) + encode_varint(value) if value else b""


def encode_header(num_shards: int, *, big_endian: bool = False, min_consumer: int = 0) -> bytes:
    """A serialized ``BundleHeaderProto`` with ``version {producer: 1}``."""
    version = _varint_field(1, 1) + _varint_field(2, min_consumer)
    return _varint_field(1, num_shards) + _varint_field(2, int(big_endian)) + _field(3, version)


def encode_entry(entry: BundleEntry) -> bytes:
    """A serialized ``BundleEntryProto``, fields in number order, defaults omitted."""
    if entry.shape is None:
        shape = _varint_field(3, 1)
    else:
        shape = b"".join(_field(2, _varint_field(1, dim)) for dim in entry.shape)
    out = _varint_field(1, entry.dtype) + _field(2, shape) + _varint_field(3, entry.shard_id)
    out += _varint_field(4, entry.offset) + _varint_field(5, entry.size)
    if entry.crc32c:
        out += b"\x35" + entry.crc32c.to_bytes(4, "little")
    for extents in entry.slices:
        out += _field(7, b"".join(_field(1, _encode_extent(e)) for e in extents))
    return out


def _encode_extent(extent: Extent) -> bytes:
    # ``length`` is in a oneof, so it is written whenever it is set, even to 0.
    length = b"" if extent.length is None else b"\x10" + encode_varint(extent.length)
    return _varint_field(1, extent.start) + length


def _signed_num_increasing(value: int) -> bytes:
    """OrderedCode ``WriteSignedNumIncreasing``: length in leading 1 bits, big-endian."""
    magnitude = ~value if value < 0 else value
    length = next(n for n in range(1, 11) if magnitude < 1 << (7 * n - 1))
    header = ((1 << length) - 1) << (8 * length - length)  # ``length`` leading one bits
    body = (magnitude | header).to_bytes(length, "big")
    return bytes(b ^ 0xFF for b in body) if value < 0 else body


def encode_slice_key(name: str, box: Box) -> bytes:
    """The key of one slice: ``(start, length)`` per dimension, length -1 for "all"."""
    escapes = {0x00: b"\x00\xff", 0xFF: b"\xff\x00"}
    escaped = b"".join(escapes.get(byte, bytes([byte])) for byte in name.encode())
    rank = len(box).to_bytes(max(1, (len(box).bit_length() + 7) // 8), "big") if box else b""
    out = b"\x00" + escaped + b"\x00\x01" + bytes([len(rank)]) + rank
    for start, length in box:
        out += _signed_num_increasing(start) + _signed_num_increasing(length)
    return out


def write_index(path: Path, num_shards: int, entries: Iterable[tuple[bytes, bytes]]) -> None:
    """Write an ``.index`` file: the header under the empty key, then ``entries`` sorted."""
    table = build_table([(b"", encode_header(num_shards)), *sorted(entries)])
    path.write_bytes(table)


class BundleWriter:
    """Write a checkpoint ``<prefix>.index`` + ``<prefix>.data-SSSSS-of-NNNNN``.

    Tensors are appended to their shard in the order they are added; the index is written
    by :meth:`finish`, which leaving a ``with`` block calls::

        with BundleWriter(tmp_path / "ckpt") as writer:
            writer.add("emb", vectors)
    """

    def __init__(self, prefix: str | Path, *, num_shards: int = 1) -> None:
        self.prefix = Path(prefix)
        self.num_shards = num_shards
        self.entries: dict[bytes, BundleEntry] = {}
        # Open until finish(): tensors are appended to any shard in any order.
        self._files: list[BinaryIO] = [
            Path(f"{self.prefix}.data-{k:05d}-of-{num_shards:05d}").open("wb")  # noqa: SIM115
            for k in range(num_shards)
        ]

    def __enter__(self) -> BundleWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.finish()

    def _append(self, data: bytes, shard: int) -> tuple[int, int]:
        """Write bytes at the end of a shard; return their offset and masked CRC."""
        file = self._files[shard]
        offset = file.tell()
        file.write(data)
        return offset, mask(crc32c(data))

    def add(self, name: str, array: np.ndarray, *, shard: int = 0, dtype: int = 0) -> None:
        """Add a whole tensor. ``dtype`` overrides the enum (e.g. bfloat16 given as uint16 bits)."""
        data = np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<")).tobytes()
        offset, crc = self._append(data, shard)
        enum = dtype or DTYPE_ENUMS[array.dtype.name]
        self.entries[name.encode()] = BundleEntry(enum, array.shape, shard, offset, len(data), crc)

    def add_partitioned(
        self, name: str, array: np.ndarray, boxes: list[Box], shards: list[int]
    ) -> None:
        """Add a tensor stored as slices ``boxes`` (``(start, length)`` per dim), in ``shards``."""
        enum = DTYPE_ENUMS[array.dtype.name]
        for box, shard in zip(boxes, shards, strict=True):
            piece = array[tuple(slice(start, start + n) for start, n in box)]
            data = np.ascontiguousarray(piece).tobytes()
            offset, crc = self._append(data, shard)
            entry = BundleEntry(enum, piece.shape, shard, offset, len(data), crc)
            self.entries[encode_slice_key(name, box)] = entry
        slices = tuple(tuple(Extent(start, n) for start, n in box) for box in boxes)
        self.entries[name.encode()] = BundleEntry(enum, array.shape, slices=slices)

    def add_sparse_float32(
        self, name: str, shape: tuple[int, int], rows: dict[int, np.ndarray]
    ) -> None:
        """Add a float32 matrix that is zero except ``rows``, as a sparse region of shard 0.

        Neither the disk nor the memory holds the zeros, so ``shape`` may be huge.
        """
        file = self._files[0]
        offset, row_bytes = file.tell(), shape[1] * 4
        size = math.prod(shape) * 4
        crc, done = 0, offset
        for row in sorted(rows):
            at = offset + row * row_bytes
            crc = _crc_zeros(crc, at - done)
            data = np.asarray(rows[row], dtype="<f4").tobytes()
            file.seek(at)
            file.write(data)
            crc, done = crc32c(data, crc), at + row_bytes
        crc = _crc_zeros(crc, offset + size - done)
        file.truncate(offset + size)
        file.seek(offset + size)
        self.entries[name.encode()] = BundleEntry(1, shape, 0, offset, size, mask(crc))

    def finish(self) -> None:
        """Close the data files and write the index."""
        for file in self._files:
            file.close()
        index = Path(f"{self.prefix}.index")
        write_index(index, self.num_shards, ((k, encode_entry(e)) for k, e in self.entries.items()))


def _crc_zeros(crc: int, count: int) -> int:
    """Extend a CRC over ``count`` zero bytes."""
    while count > 0:
        chunk = min(count, len(_ZEROS))
        crc = crc32c(memoryview(_ZEROS)[:chunk], crc)
        count -= chunk
    return crc

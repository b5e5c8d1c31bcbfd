"""A LevelDB table writer that reproduces TensorFlow's ``table_builder.cc`` byte for byte.

Used to write checkpoint indexes in tests. The rules that fix the exact bytes:

- data blocks restart prefix compression every 16 keys, the index block at every key;
- a data block is cut once its size estimate (entries + restart array) reaches
  ``block_size`` (TensorFlow's default, 256 KiB), and before an entry of at least twice
  that size;
- an index key is the shortest separator between a block's last key and the next
  block's first key, or the short successor of the table's last key;
- every block is followed by its type byte (0, uncompressed) and the masked CRC32C
  of the block plus that byte; the footer pads two block handles to 40 bytes and
  ends with the magic number.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable

from embedding_projector.formats.crc import masked_crc32c
from embedding_projector.formats.tf_checkpoint.sstable import FOOTER_SIZE, TABLE_MAGIC

BLOCK_SIZE = 262_144
RESTART_INTERVAL = 16


def encode_varint(value: int) -> bytes:
    """Unsigned LEB128; negative numbers as their 64-bit two's complement (protobuf int64)."""
    value &= (1 << 64) - 1
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


class BlockBuilder:
    """Prefix-compressed entries followed by the restart array and its length."""

    def __init__(self, restart_interval: int) -> None:
        self.restart_interval = restart_interval
        self.buffer = bytearray()
        self.restarts = [0]
        self.counter = 0
        self.last_key = b""

    def add(self, key: bytes, value: bytes) -> None:
        """Append an entry, sharing its prefix with the previous key unless at a restart."""
        shared = 0
        if self.counter < self.restart_interval:
            limit = min(len(key), len(self.last_key))
            while shared < limit and key[shared] == self.last_key[shared]:
                shared += 1
        else:
            self.restarts.append(len(self.buffer))
            self.counter = 0
        self.buffer += encode_varint(shared) + encode_varint(len(key) - shared)
        self.buffer += encode_varint(len(value)) + key[shared:] + value
        self.last_key = key
        self.counter += 1

    def size_estimate(self) -> int:
        """Size of the block if finished now."""
        return len(self.buffer) + 4 * len(self.restarts) + 4

    def empty(self) -> bool:
        """Whether no entry was added."""
        return not self.buffer

    def finish(self) -> bytes:
        """The block contents."""
        restarts = b"".join(struct.pack("<I", r) for r in self.restarts)
        return bytes(self.buffer) + restarts + struct.pack("<I", len(self.restarts))


def shortest_separator(start: bytes, limit: bytes) -> bytes:
    """A short key ``k`` with ``start <= k < limit`` (``FindShortestSeparator``)."""
    common = 0
    while common < min(len(start), len(limit)) and start[common] == limit[common]:
        common += 1
    if common >= min(len(start), len(limit)):
        return start
    byte = start[common]
    if byte < 0xFF and byte + 1 < limit[common]:
        return start[:common] + bytes([byte + 1])
    return start


def short_successor(key: bytes) -> bytes:
    """``FindShortSuccessor``: a short key ``>= key`` (its first non-0xff byte, incremented)."""
    for i, byte in enumerate(key):
        if byte != 0xFF:
            return key[:i] + bytes([byte + 1])
    return key


def build_table(items: Iterable[tuple[bytes, bytes]], *, block_size: int = BLOCK_SIZE) -> bytes:
    """Serialize sorted ``(key, value)`` pairs as TensorFlow's ``TableBuilder`` does."""
    out = bytearray()

    def write_block(block: BlockBuilder) -> bytes:
        contents = block.finish() + b"\x00"
        handle = encode_varint(len(out)) + encode_varint(len(contents) - 1)
        out.extend(contents + struct.pack("<I", masked_crc32c(contents)))
        return handle

    data, index = BlockBuilder(RESTART_INTERVAL), BlockBuilder(1)
    last_key, pending = b"", b""
    for count, (key, value) in enumerate(items):
        if count and len(key) + len(value) >= 2 * block_size and not data.empty():
            pending = write_block(data)
            data = BlockBuilder(RESTART_INTERVAL)
        if pending:
            index.add(shortest_separator(last_key, key), pending)
            pending = b""
        last_key = key
        data.add(key, value)
        if data.size_estimate() >= block_size:
            pending = write_block(data)
            data = BlockBuilder(RESTART_INTERVAL)
    if not data.empty():
        pending = write_block(data)
    metaindex = write_block(BlockBuilder(RESTART_INTERVAL))
    if pending:
        index.add(short_successor(last_key), pending)
    footer = (metaindex + write_block(index)).ljust(FOOTER_SIZE - 8, b"\x00")
    return bytes(out + footer + struct.pack("<Q", TABLE_MAGIC))

"""Reading a LevelDB-format sorted string table: the ``.index`` file of a checkpoint.

Layout (``CHECKPOINT_FORMAT.md`` §2): data blocks, a metaindex block and an index block,
each followed by a 5-byte trailer (compression type, masked CRC32C), then a 48-byte
footer holding the handles of the metaindex and index blocks and a magic number.

Every length and offset read from the file is checked against the bytes actually there
before it is used, so a corrupt or hostile file raises :class:`FormatError` (never an
``IndexError`` or an allocation of an absurd size).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from embedding_projector.errors import ChecksumError, FormatError, UnsupportedFormatError
from embedding_projector.formats.crc import masked_crc32c

from .wire import DecodeError, decode_varint

FOOTER_SIZE = 48
TABLE_MAGIC = 0xDB4775248B80FB57
BLOCK_TRAILER_SIZE = 5
NO_COMPRESSION = 0
SNAPPY_COMPRESSION = 1

_FIXED32 = struct.Struct("<I")


@dataclass(frozen=True)
class BlockHandle:
    """Where a block lies in the file; ``size`` excludes the 5-byte trailer."""

    offset: int
    size: int


def read_varint(buf: bytes, pos: int, end: int, *, path: Path, what: str) -> tuple[int, int]:
    """Decode a varint at ``buf[pos:end]``; return the value and the position after it."""
    try:
        return decode_varint(buf, pos, end)
    except DecodeError as error:
        raise FormatError(
            f"bad varint in {what}: {error}; the file is corrupt", path=path
        ) from None


def read_fixed32(buf: bytes, pos: int) -> int:
    """The little-endian uint32 at ``buf[pos:pos + 4]`` (the caller checked the bounds)."""
    value: int = _FIXED32.unpack_from(buf, pos)[0]
    return value


def decode_handle(
    buf: bytes, pos: int, end: int, *, path: Path, what: str
) -> tuple[BlockHandle, int]:
    """Decode a block handle (varint offset, varint size) at ``buf[pos:end]``.

    Returns the handle and the position after it.
    """
    offset, pos = read_varint(buf, pos, end, path=path, what=what)
    size, pos = read_varint(buf, pos, end, path=path, what=what)
    return BlockHandle(offset, size), pos


def read_footer(data: bytes, *, path: Path) -> tuple[BlockHandle, BlockHandle]:
    """Check the footer's magic number; return the metaindex and index block handles."""
    if not data:
        raise FormatError(
            "the checkpoint index is empty; the checkpoint was not written completely, "
            "save it again",
            path=path,
        )
    if len(data) < FOOTER_SIZE:
        raise FormatError(
            f"the checkpoint index is truncated: {len(data)} bytes, shorter than its "
            f"{FOOTER_SIZE}-byte footer; save the checkpoint again",
            path=path,
        )
    start = len(data) - FOOTER_SIZE
    magic = struct.unpack_from("<Q", data, len(data) - 8)[0]
    if magic != TABLE_MAGIC:
        raise FormatError(
            f"bad magic number {magic:#018x} at byte offset {len(data) - 8} (expected "
            f"{TABLE_MAGIC:#018x}): not a TensorFlow V2 checkpoint index, or a truncated one",
            path=path,
        )
    metaindex, pos = decode_handle(data, start, len(data) - 8, path=path, what="the footer")
    index, _ = decode_handle(data, pos, len(data) - 8, path=path, what="the footer")
    return metaindex, index


def read_block(data: bytes, handle: BlockHandle, *, path: Path, what: str) -> bytes:
    """The contents of the block at ``handle``, its trailer's CRC verified."""
    limit = len(data) - FOOTER_SIZE
    end = handle.offset + handle.size
    if end + BLOCK_TRAILER_SIZE > limit:
        raise FormatError(
            f"{what} at byte offset {handle.offset} (size {handle.size}) extends past the "
            f"end of the table ({limit} bytes before the footer); the file is truncated or "
            "corrupt",
            path=path,
        )
    contents = data[handle.offset : end]
    block_type = data[end]
    stored = read_fixed32(data, end + 1)
    actual = masked_crc32c(data[handle.offset : end + 1])
    if stored != actual:
        raise ChecksumError(
            f"{what} at byte offset {handle.offset} fails its CRC32C check (stored "
            f"{stored:#010x}, computed {actual:#010x}); the file is corrupt",
            path=path,
        )
    if block_type == SNAPPY_COMPRESSION:
        raise UnsupportedFormatError(
            f"compressed index not supported: {what} at byte offset {handle.offset} is "
            "snappy-compressed (TensorFlow writes uncompressed indexes); re-save the "
            "checkpoint with TensorFlow",
            path=path,
        )
    if block_type != NO_COMPRESSION:
        raise UnsupportedFormatError(
            f"{what} at byte offset {handle.offset} has unknown compression type "
            f"{block_type}; compressed index not supported",
            path=path,
        )
    return contents


def iter_block(block: bytes, base: int, *, path: Path, what: str) -> Iterator[tuple[bytes, bytes]]:
    """Yield the ``(key, value)`` entries of a block in order, undoing prefix compression.

    ``base`` is the block's offset in the file, used only in messages.
    """
    if len(block) < 4:
        raise FormatError(
            f"{what} at byte offset {base} is {len(block)} bytes, too short to hold its "
            "restart count; the file is corrupt",
            path=path,
        )
    num_restarts = read_fixed32(block, len(block) - 4)
    if num_restarts == 0 or 4 * (num_restarts + 1) > len(block):
        raise FormatError(
            f"{what} at byte offset {base} claims {num_restarts} restart points, which do "
            f"not fit in its {len(block)} bytes; the file is corrupt",
            path=path,
        )
    # Entries are read sequentially, so the restart offsets (used by seeks) are not needed.
    limit = len(block) - 4 * (num_restarts + 1)
    pos = 0
    key = b""
    while pos < limit:
        at = base + pos
        try:
            shared, pos = decode_varint(block, pos, limit)
            unshared, pos = decode_varint(block, pos, limit)
            value_len, pos = decode_varint(block, pos, limit)
        except DecodeError as error:
            raise FormatError(
                f"entry at byte offset {at} of {what} is corrupt ({error} of the block)",
                path=path,
            ) from None
        if shared > len(key) or unshared + value_len > limit - pos:
            raise FormatError(
                f"entry at byte offset {at} of {what} has inconsistent lengths (shared "
                f"{shared}, unshared {unshared}, value {value_len}); the file is corrupt",
                path=path,
            )
        key = key[:shared] + block[pos : pos + unshared]
        pos += unshared
        yield key, block[pos : pos + value_len]
        pos += value_len


def iter_table(data: bytes, *, path: Path) -> Iterator[tuple[bytes, bytes]]:
    """Yield every ``(key, value)`` of the table in ``data`` in key order.

    Keys must be strictly increasing across all data blocks, as LevelDB guarantees.

    Raises
    ------
    FormatError
        Bad magic number, truncated or inconsistent blocks, unsorted keys.
    ChecksumError
        A block whose CRC32C does not match.
    UnsupportedFormatError
        A compressed (snappy) block.
    """
    _, index_handle = read_footer(data, path=path)
    index = read_block(data, index_handle, path=path, what="the index block")
    previous: bytes | None = None
    for number, (_, handle_bytes) in enumerate(
        iter_block(index, index_handle.offset, path=path, what="the index block")
    ):
        what = f"data block {number}"
        handle, _ = decode_handle(handle_bytes, 0, len(handle_bytes), path=path, what=what)
        block = read_block(data, handle, path=path, what=what)
        for key, value in iter_block(block, handle.offset, path=path, what=what):
            if previous is not None and key <= previous:
                raise FormatError(
                    f"keys out of order in {what} at byte offset {handle.offset}: "
                    f"{key!r} after {previous!r}; the file is corrupt",
                    path=path,
                )
            previous = key
            yield key, value

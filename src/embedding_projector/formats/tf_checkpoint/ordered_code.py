"""Decoding the keys under which slices of partitioned tensors are stored.

TensorFlow writes each slice of a partitioned (TF1) or sharded (TF2) variable under a key
built with its ``OrderedCode`` (``tensorflow/core/util/saved_tensor_slice_util.cc``,
``EncodeTensorNameSlice``)::

    NumIncreasing(0) String(name) NumIncreasing(rank) {SignedNumIncreasing(start),
                                                      SignedNumIncreasing(length)} * rank

The leading ``NumIncreasing(0)`` is the byte ``00``, so slice keys sort right after the
header's empty key and never collide with a tensor name. A length of ``-1`` means "the
whole dimension".
"""

from __future__ import annotations

from .wire import DecodeError

FULL_EXTENT = -1


def _read_num_increasing(key: bytes, pos: int) -> tuple[int, int]:
    """A length byte then that many big-endian bytes; return the value and the next position."""
    if pos >= len(key):
        raise DecodeError(f"slice key ends at byte {pos}, where a number was expected")
    length = key[pos]
    if length > 8 or pos + 1 + length > len(key):
        raise DecodeError(f"bad number of length {length} at byte {pos} of a slice key")
    return int.from_bytes(key[pos + 1 : pos + 1 + length], "big"), pos + 1 + length


def _read_string(key: bytes, pos: int) -> tuple[bytes, int]:
    """An escaped string (``00 ff`` for 0x00, ``ff 00`` for 0xff) ended by ``00 01``."""
    out = bytearray()
    while pos + 1 < len(key):
        byte, following = key[pos], key[pos + 1]
        if byte == 0x00 and following == 0x01:
            return bytes(out), pos + 2
        if byte in (0x00, 0xFF):
            if following != byte ^ 0xFF:
                raise DecodeError(f"bad escape {byte:02x} {following:02x} at byte {pos}")
            pos += 2
        else:
            pos += 1
        out.append(byte)
    raise DecodeError("the tensor name in a slice key is not terminated")


def _read_signed_num_increasing(key: bytes, pos: int) -> tuple[int, int]:
    """A signed number: its byte count is the number of leading 1 bits (0 bits if negative)."""
    if pos >= len(key):
        raise DecodeError(f"slice key ends at byte {pos}, where a number was expected")
    negative = key[pos] < 0x80
    flip = 0xFF if negative else 0x00
    # The length header can spill into the second byte for 9- and 10-byte numbers.
    prefix = ((key[pos] ^ flip) << 8) | ((key[pos + 1] ^ flip) if pos + 1 < len(key) else 0)
    length = 16 - (~prefix & 0xFFFF).bit_length()
    if not 1 <= length <= 10 or pos + length > len(key):
        raise DecodeError(f"bad signed number at byte {pos} of a slice key")
    raw = int.from_bytes(bytes(b ^ flip for b in key[pos : pos + length]), "big")
    magnitude = raw & ((1 << (7 * length)) - 1)
    return (~magnitude if negative else magnitude), pos + length


def decode_slice_key(key: bytes) -> tuple[bytes, tuple[tuple[int, int], ...]]:
    """Split a slice key into the tensor name and the ``(start, length)`` of each dimension.

    A length of :data:`FULL_EXTENT` (-1) means the whole dimension.

    Raises
    ------
    DecodeError
        The key is not a well-formed slice key.
    """
    tag, pos = _read_num_increasing(key, 0)
    if tag != 0:
        raise DecodeError(f"a slice key starts with {tag}, expected 0")
    name, pos = _read_string(key, pos)
    rank, pos = _read_num_increasing(key, pos)
    extents: list[tuple[int, int]] = []
    for _ in range(rank):
        start, pos = _read_signed_num_increasing(key, pos)
        length, pos = _read_signed_num_increasing(key, pos)
        extents.append((start, length))
    if pos != len(key):
        raise DecodeError(f"{len(key) - pos} unexpected bytes at the end of a slice key")
    return name, tuple(extents)

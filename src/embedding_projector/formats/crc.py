"""Masked CRC32C, the checksum of LevelDB blocks and of checkpoint tensors.

The ``crc32c`` package computes CRC-32C with SSE4.2/ARMv8 instructions (about 10 GB/s)
and reads any buffer in place, so a memory-mapped tensor is checked without a copy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import crc32c as _crc32c

if TYPE_CHECKING:
    from typing_extensions import Buffer

_MASK_DELTA = 0xA282EAD8


def mask(crc: int) -> int:
    """LevelDB's masking: rotate right by 15 bits and add a constant.

    Masking keeps the CRC of data that itself embeds CRCs from being trivially zero.
    """
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def crc32c(data: Buffer, value: int = 0) -> int:
    """CRC-32C of ``data``, continuing from ``value`` (the CRC of the bytes before it)."""
    result: int = _crc32c.crc32c(data, value)
    return result


def masked_crc32c(data: Buffer) -> int:
    """The masked CRC-32C of ``data``, as stored in block trailers and bundle entries."""
    return mask(crc32c(data))


# Reflected Castagnoli polynomial (CRC-32C).
_POLYNOMIAL = 0x82F63B78


def combine(first: int, second: int, second_length: int) -> int:
    """The CRC-32C of ``A + B`` from ``crc32c(A)``, ``crc32c(B)`` and ``len(B)``.

    zlib's ``crc32_combine``: appending ``len(B)`` zero bytes to ``A`` is a linear map
    of its CRC over GF(2), applied by repeated squaring of the one-zero-bit operator.
    Lets the CRCs of consecutive blocks, computed in different processes, be checked
    against a tensor's stored CRC.
    """
    if second_length == 0:
        return first ^ second  # crc32c(b"") == 0
    odd = [_POLYNOMIAL] + [1 << n for n in range(31)]  # one zero bit
    even = _gf2_square(odd)  # two zero bits
    odd = _gf2_square(even)  # four zero bits
    while True:
        even = _gf2_square(odd)  # one zero byte, then 4, 16, ...
        if second_length & 1:
            first = _gf2_times(even, first)
        second_length >>= 1
        if not second_length:
            break
        odd = _gf2_square(even)
        if second_length & 1:
            first = _gf2_times(odd, first)
        second_length >>= 1
        if not second_length:
            break
    return first ^ second


def _gf2_times(matrix: list[int], vector: int) -> int:
    total, row = 0, 0
    while vector:
        if vector & 1:
            total ^= matrix[row]
        vector >>= 1
        row += 1
    return total


def _gf2_square(matrix: list[int]) -> list[int]:
    return [_gf2_times(matrix, column) for column in matrix]

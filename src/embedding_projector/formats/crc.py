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

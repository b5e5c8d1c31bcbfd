"""safetensors files, memory-mapped (SPEC §2.9).

The format is small enough to read directly: an 8-byte little-endian header
length, a JSON header ``{name: {dtype, shape, data_offsets}}``, then the raw
little-endian bytes. Reading it ourselves keeps tensors memory-mapped (the
``safetensors`` package copies them into numpy) and needs no dependency.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import numpy as np

from embedding_projector.errors import FormatError
from embedding_projector.formats.arrays import ArraySource, FileEmbeddings
from embedding_projector.formats.rows import MappedRows
from embedding_projector.formats.text import os_error

_DTYPES = {
    "F64": "<f8",
    "F32": "<f4",
    "F16": "<f2",
    "BF16": "<u2",  # converted to float32 on read: numpy has no bfloat16
    "I64": "<i8",
    "I32": "<i4",
    "I16": "<i2",
    "I8": "i1",
    "U64": "<u8",
    "U32": "<u4",
    "U16": "<u2",
    "U8": "u1",
    "BOOL": "?",
}
_MAX_HEADER = 100 * 2**20  # the format's own limit


def read_safetensors(path: Path) -> FileEmbeddings:
    """Every 2-D tensor of the file is an embedding, named by its key."""
    try:
        size = path.stat().st_size
        with path.open("rb") as f:
            head = f.read(8)
            if len(head) < 8:
                raise FormatError("is too short to be a safetensors file", path=path)
            (header_len,) = struct.unpack("<Q", head)
            if not 2 <= header_len <= min(_MAX_HEADER, size - 8):
                raise FormatError(
                    f"is not a safetensors file (header length {header_len} at offset 0 "
                    f"does not fit in {size} bytes)",
                    path=path,
                )
            header = _parse_header(f.read(header_len), path)
    except OSError as exc:
        raise os_error(path, exc) from exc
    data_start = 8 + header_len
    tensors = [
        (name, _source(path, name, info, data_start, size))
        for name, info in header.items()
        if name != "__metadata__" and len(info.get("shape", ())) == 2
    ]
    if not tensors:
        raise FormatError("holds no 2-D tensor to use as an embedding", path=path)
    return FileEmbeddings(tensors)


def _parse_header(raw: bytes, path: Path) -> dict[str, Any]:
    try:
        header = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FormatError(f"has a corrupt JSON header ({exc})", path=path) from exc
    if not isinstance(header, dict):
        raise FormatError("has a header that is not a JSON object", path=path)
    return header


def _source(path: Path, name: str, info: Any, data_start: int, size: int) -> ArraySource:
    """A lazily memory-mapped tensor, after checking its entry against the file."""
    try:
        dtype_code, (n, d), (begin, end) = info["dtype"], info["shape"], info["data_offsets"]
        n, d, begin, end = int(n), int(d), int(begin), int(end)
    except (KeyError, TypeError, ValueError) as exc:
        raise FormatError(f"tensor {name!r} has a malformed header entry", path=path) from exc
    if dtype_code not in _DTYPES:
        raise FormatError(
            f"tensor {name!r} has dtype {dtype_code}, which is not a supported number type",
            path=path,
        )
    dtype = np.dtype(_DTYPES[dtype_code])
    if n <= 0 or d <= 0 or end - begin != n * d * dtype.itemsize or data_start + end > size:
        raise FormatError(
            f"tensor {name!r} (shape [{n}, {d}], {dtype_code}) does not match its byte range "
            f"{begin}..{end}: the file is truncated or corrupt",
            path=path,
        )

    def load() -> np.ndarray:
        array = np.memmap(path, dtype=dtype, mode="r", offset=data_start + begin, shape=(n, d))
        return _bfloat16_to_float32(array) if dtype_code == "BF16" else array

    stored = (
        "bfloat16" if dtype_code == "BF16" else ("bool" if dtype_code == "BOOL" else dtype.name)
    )
    rows = (
        None
        if dtype_code == "BOOL"
        else MappedRows(path, data_start + begin, (n, d), dtype.str, bfloat16=dtype_code == "BF16")
    )
    return ArraySource(path, (n, d), stored, load, rows=rows)


def _bfloat16_to_float32(bits: np.ndarray) -> np.ndarray:
    """bfloat16 is the top half of a float32: shift the 16 bits into place."""
    return (bits.astype("<u4") << 16).view("<f4")

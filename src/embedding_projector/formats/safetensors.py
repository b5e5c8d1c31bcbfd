"""safetensors files, memory-mapped (SPEC §2.9).

The format is small enough to read directly: an 8-byte little-endian header
length, a JSON header ``{name: {dtype, shape, data_offsets}}``, then the raw
little-endian bytes. Reading it ourselves keeps tensors memory-mapped (the
``safetensors`` package copies them into numpy) and needs no dependency. Every
header entry is checked for the types the format prescribes before it is used.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import numpy as np

from embedding_projector.errors import FormatError, quote_exception
from embedding_projector.formats.arrays import ArraySource, FileEmbeddings
from embedding_projector.formats.files import FileIdentity, open_inside
from embedding_projector.formats.stored import StoredArray

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


def read_safetensors(path: Path, *, root: Path | None = None) -> FileEmbeddings:
    """Every 2-D tensor of the file is an embedding, named by its key."""
    with open_inside(path, root) as opened:
        size = opened.identity.size
        head = opened.file.read(8)
        if len(head) < 8:
            raise FormatError("is too short to be a safetensors file", path=path)
        (header_len,) = struct.unpack("<Q", head)
        if not 2 <= header_len <= min(_MAX_HEADER, size - 8):
            raise FormatError(
                f"is not a safetensors file (header length {header_len} at offset 0 "
                f"does not fit in {size} bytes)",
                path=path,
            )
        header = _parse_header(opened.pread(8, header_len), path)
    data_start = 8 + header_len
    tensors = []
    for name, info in header.items():
        if name == "__metadata__":
            continue
        entry = _entry(name, info, path)
        if len(entry[1]) == 2:
            stored = _stored(path, root, opened.identity, data_start, name, entry)
            tensors.append((name, ArraySource.stored(stored, _stored_name(entry[0]))))
    if not tensors:
        raise FormatError("holds no 2-D tensor to use as an embedding", path=path)
    return FileEmbeddings(tensors)


def _parse_header(raw: bytes, path: Path) -> dict[str, Any]:
    try:
        header = json.loads(raw)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        # ValueError covers JSONDecodeError and integers beyond Python's digit limit.
        raise FormatError(
            f"has a corrupt JSON header ({quote_exception(exc)})", path=path
        ) from None
    if not isinstance(header, dict):
        raise FormatError("has a header that is not a JSON object", path=path)
    return header


def _entry(name: str, info: Any, path: Path) -> tuple[str, list[int], int, int]:
    """``dtype, shape, begin, end`` of a header entry, each of the type the format says."""
    if not isinstance(info, dict):
        raise FormatError(f"tensor {name!r} has a header entry that is not an object", path=path)
    dtype_code: Any = info.get("dtype")
    shape: Any = info.get("shape")
    offsets: Any = info.get("data_offsets")
    if (
        not isinstance(dtype_code, str)
        or not _is_int_list(shape)
        or not _is_int_list(offsets)
        or len(offsets) != 2
        or not 0 <= offsets[0] <= offsets[1]
    ):
        raise FormatError(
            f"tensor {name!r} has a malformed header entry (it needs a `dtype` string, a "
            "`shape` of sizes and `data_offsets` [begin, end] with 0 <= begin <= end)",
            path=path,
        )
    return dtype_code, shape, offsets[0], offsets[1]


def _is_int_list(value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value
    )


def _stored(
    path: Path,
    root: Path | None,
    identity: FileIdentity,
    data_start: int,
    name: str,
    entry: tuple[str, list[int], int, int],
) -> StoredArray:
    """Where a 2-D tensor lies, after checking its entry against the file."""
    dtype_code, (n, d), begin, end = entry
    if dtype_code not in _DTYPES:
        raise FormatError(
            f"tensor {name!r} has dtype {dtype_code!r}, which is not a supported number type",
            path=path,
        )
    dtype = np.dtype(_DTYPES[dtype_code])
    fits = end - begin == n * d * dtype.itemsize and data_start + end <= identity.size
    if n <= 0 or d <= 0 or not fits:
        raise FormatError(
            f"tensor {name!r} (shape [{n}, {d}], {dtype_code}) does not match its byte range "
            f"{begin}..{end}: the file is truncated or corrupt",
            path=path,
        )
    return StoredArray(
        path,
        root,
        identity,
        data_start + begin,
        dtype,
        (n, d),
        bfloat16=dtype_code == "BF16",
        what=f"tensor {name!r}",
    )


def _stored_name(dtype_code: str) -> str:
    """The stored dtype's name, as :attr:`Embedding.dtype` reports it."""
    if dtype_code == "BF16":
        return "bfloat16"
    return "bool" if dtype_code == "BOOL" else np.dtype(_DTYPES[dtype_code]).name

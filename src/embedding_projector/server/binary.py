"""Binary responses: float32 / int32 arrays as raw little-endian bytes, with byte ranges."""

from __future__ import annotations

import re
from collections.abc import Iterator

import numpy as np
from fastapi import Response
from fastapi.responses import StreamingResponse

from embedding_projector.errors import InvalidParameterError, RangeNotSatisfiableError

OCTET_STREAM = "application/octet-stream"
_CHUNK = 4 * 2**20
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


def array_response(array: np.ndarray, *, byte_range: str | None = None) -> Response:
    """Stream a C-contiguous little-endian array; its shape goes in ``X-Shape``.

    A single ``Range: bytes=a-b`` request is answered with 206 and that slice, so that
    clients can fetch big arrays in parts.
    """
    data = np.ascontiguousarray(array).data.cast("B")
    headers = {
        "X-Shape": ",".join(str(s) for s in array.shape),
        "X-Dtype": array.dtype.name,
        "Accept-Ranges": "bytes",
    }
    start, stop, status = 0, len(data), 200
    if byte_range:
        start, stop = _parse_range(byte_range, len(data))
        status = 206
        headers["Content-Range"] = f"bytes {start}-{stop - 1}/{len(data)}"
    headers["Content-Length"] = str(stop - start)
    return StreamingResponse(
        _chunks(data, start, stop), status_code=status, media_type=OCTET_STREAM, headers=headers
    )


def int32_rows(body: bytes, n: int) -> np.ndarray:
    """Row indices sent as int32 little-endian bytes (int64), checked against ``n`` rows."""
    if len(body) % 4:
        raise InvalidParameterError("the body must be int32 row indices (a multiple of 4 bytes)")
    rows = np.frombuffer(body, "<i4").astype(np.int64)
    if rows.size and (rows.min() < 0 or rows.max() >= n):
        raise InvalidParameterError(f"rows must be within 0..{n - 1}")
    return rows


def _chunks(data: memoryview, start: int, stop: int) -> Iterator[bytes]:
    # A sync iterator: Starlette runs it in a thread, so page faults of a memory-mapped
    # checkpoint never block the event loop.
    for offset in range(start, stop, _CHUNK):
        yield bytes(data[offset : min(offset + _CHUNK, stop)])


def _parse_range(header: str, size: int) -> tuple[int, int]:
    match = _RANGE.fullmatch(header.strip())
    if not match or match.group(1) == match.group(2) == "":
        raise InvalidParameterError(
            f"unsupported `Range` {header[:40]!r}; use one `bytes=a-b` range"
        )
    first, last = (_at_most(digits, size) for digits in match.groups())
    if first is None:  # the last N bytes
        assert last is not None
        start, stop = size - last, size
    else:
        start, stop = first, size if last is None else min(last + 1, size)
    if start >= size or start >= stop:
        raise RangeNotSatisfiableError(f"`Range` {header[:40]!r} is outside the {size} bytes")
    return start, stop


def _at_most(digits: str, limit: int) -> int | None:
    """``min(int(digits), limit)`` (None for ""), without converting thousands of digits.

    A client may send any number of digits; Python refuses to convert more than 4,300.
    """
    if not digits:
        return None
    significant = digits.lstrip("0") or "0"
    return limit if len(significant) > len(str(limit)) else min(int(significant), limit)

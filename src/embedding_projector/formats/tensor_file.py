"""Vectors stored in a ``tensor_path`` file: TSV text or raw float32 bytes (SPEC §2.4).

TensorBoard tries text first and falls back to raw little-endian float32 reshaped
by ``tensor_shape`` when the file does not decode as text; so do we, but by
sniffing the first bytes instead of parsing a binary file as text.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from embedding_projector.errors import FormatError
from embedding_projector.formats.arrays import ArraySource
from embedding_projector.formats.files import FileIdentity, open_inside
from embedding_projector.formats.stored import StoredArray
from embedding_projector.formats.text import decode_text, read_text, split_lines

_SNIFF_BYTES = 65536


def open_tensor_file(
    path: Path, tensor_shape: Sequence[int] = (), *, root: Path | None = None
) -> ArraySource:
    """The vectors of a ``tensor_path`` file: a TSV is parsed now, raw bytes read lazily.

    Raises
    ------
    FormatError
        A TSV that is not a matrix of numbers, or raw bytes whose size does not match
        ``tensor_shape``.
    """
    with open_inside(path, root) as opened:
        head = opened.file.read(_SNIFF_BYTES)
        if _looks_like_text(head):
            text = decode_text(head + opened.read_all(), path)
            return ArraySource.of(path, parse_tensor_tsv(text, path))
    return ArraySource.stored(_raw_layout(path, tensor_shape, root, opened.identity), "float32")


def is_text_file(path: Path, *, root: Path | None = None) -> bool:
    """Whether ``path`` looks like UTF-8 text (no NUL byte, decodes) in its first 64 KiB."""
    with open_inside(path, root) as opened:
        return _looks_like_text(opened.file.read(_SNIFF_BYTES))


def _looks_like_text(head: bytes) -> bool:
    if b"\0" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut by the sniff window is still text.
        return exc.start >= len(head) - 3 and len(head) == _SNIFF_BYTES
    return True


def read_tensor_tsv(path: Path, *, root: Path | None = None) -> np.ndarray:
    """Parse a tensor TSV file: tab-separated floats, one vector a line (see
    :func:`parse_tensor_tsv`)."""
    return parse_tensor_tsv(read_text(path, root), path)


def parse_tensor_tsv(text: str, path: Path) -> np.ndarray:
    """Parse tab-separated floats, one vector a line, blank lines skipped.

    Raises
    ------
    FormatError
        For ragged rows or cells that are not numbers, naming the line and column.
    """
    numbered = [(number, line) for number, line in enumerate(split_lines(text), 1) if line.strip()]
    if not numbered:
        raise FormatError("holds no vectors (the file is empty)", path=path)
    first_number, first_line = numbered[0]
    width = first_line.count("\t") + 1
    for number, line in numbered:
        if line.count("\t") + 1 != width:
            raise FormatError(
                f"line {number} has {line.count(chr(9)) + 1} values but line {first_number} "
                f"has {width}: every vector must have the same number of tab-separated values",
                path=path,
            )
    cells = "\t".join(line for _, line in numbered).split("\t")
    try:
        values = np.array(cells, dtype=np.float32)
    except ValueError:
        raise _first_bad_cell(path, numbered) from None
    return values.reshape(len(numbered), width)


def _first_bad_cell(path: Path, numbered: Sequence[tuple[int, str]]) -> FormatError:
    """The error for the first cell that is not a number (only called once parsing failed)."""
    for number, line in numbered:
        for column, cell in enumerate(line.split("\t"), 1):
            try:
                float(cell)
            except ValueError:
                what = "is empty" if not cell.strip() else f"{cell[:40]!r} is not a number"
                return FormatError(
                    f"line {number}, column {column}: {what}; tensor TSV files hold only "
                    "numbers (put labels in a metadata file)",
                    path=path,
                )
    return FormatError("holds a value that is not a number", path=path)


def raw_float32_layout(
    path: Path, shape: Sequence[int], *, root: Path | None = None
) -> StoredArray:
    """Where the raw little-endian float32 ``(N, D)`` array of ``path`` lies (all of it)."""
    with open_inside(path, root) as opened:
        return _raw_layout(path, shape, root, opened.identity)


def _raw_layout(
    path: Path, shape: Sequence[int], root: Path | None, identity: FileIdentity
) -> StoredArray:
    if len(shape) != 2 or min(shape) <= 0:
        raise FormatError(
            f"is binary, so `tensor_shape` must give 2 positive sizes [N, D], got {list(shape)}",
            path=path,
        )
    n, d = int(shape[0]), int(shape[1])
    if identity.size != n * d * 4:
        raise FormatError(
            f"holds {identity.size:,} bytes but `tensor_shape` [{n}, {d}] of float32 needs "
            f"{n * d * 4:,}: check the shape in projector_config.pbtxt",
            path=path,
        )
    return StoredArray(path, root, identity, 0, np.dtype("<f4"), (n, d))

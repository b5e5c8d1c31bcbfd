"""Vectors stored in a ``tensor_path`` file: TSV text or raw float32 bytes (SPEC §2.4).

TensorBoard tries text first and falls back to raw little-endian float32 reshaped
by ``tensor_shape`` when the file does not decode as text; so do we, but by
sniffing the first bytes instead of parsing a binary file as text.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from embedding_projector.errors import FormatError
from embedding_projector.formats.rows import MappedRows
from embedding_projector.formats.text import decode_text, os_error, read_bytes, split_lines

_SNIFF_BYTES = 65536


def is_text_file(path: Path) -> bool:
    """Whether ``path`` looks like UTF-8 text (no NUL byte, decodes) in its first 64 KiB."""
    try:
        with path.open("rb") as f:
            head = f.read(_SNIFF_BYTES)
    except OSError as exc:
        raise os_error(path, exc) from exc
    if b"\0" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut by the sniff window is still text.
        return exc.start >= len(head) - 3 and len(head) == _SNIFF_BYTES
    return True


def read_tensor_tsv(path: Path) -> np.ndarray:
    """Parse tab-separated floats, one vector a line, blank lines skipped.

    Raises
    ------
    FormatError
        For ragged rows or cells that are not numbers, naming the line and column.
    """
    numbered = [
        (number, line)
        for number, line in enumerate(split_lines(decode_text(read_bytes(path), path)), 1)
        if line.strip()
    ]
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


def read_raw_float32(path: Path, shape: Sequence[int]) -> np.ndarray:
    """Memory-map raw little-endian float32 bytes as an ``(N, D)`` array."""
    if len(shape) != 2 or min(shape) <= 0:
        raise FormatError(
            f"is binary, so `tensor_shape` must give 2 positive sizes [N, D], got {list(shape)}",
            path=path,
        )
    n, d = int(shape[0]), int(shape[1])
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise os_error(path, exc) from exc
    if size != n * d * 4:
        raise FormatError(
            f"holds {size:,} bytes but `tensor_shape` [{n}, {d}] of float32 needs "
            f"{n * d * 4:,}: check the shape in projector_config.pbtxt",
            path=path,
        )
    return np.memmap(path, dtype="<f4", mode="r", shape=(n, d))


class TensorFileSource:
    """The vectors of a config entry's ``tensor_path`` (TSV text or raw float32)."""

    def __init__(self, path: Path, tensor_shape: Sequence[int] = ()) -> None:
        self.path = path
        self._tensor_shape = tuple(int(s) for s in tensor_shape)
        self._binary = not is_text_file(path)
        if self._binary:
            # Validate now: a wrong shape is an error when the run is opened, not later.
            read_raw_float32(path, self._tensor_shape)

    @property
    def rows(self) -> MappedRows | None:
        """Raw bytes: where other processes read row ranges themselves; a TSV: None."""
        if not self._binary:
            return None
        return MappedRows(self.path, 0, (self._tensor_shape[0], self._tensor_shape[1]))

    @property
    def dtype(self) -> str:
        """Always ``float32``: both layouts are read as float32."""
        return "float32"

    @property
    def shape(self) -> tuple[int, int]:
        """``(N, D)``: from ``tensor_shape`` for raw bytes; a TSV is parsed to know it."""
        if self._binary:
            return self._tensor_shape[0], self._tensor_shape[1]
        n, d = self.read().shape
        return n, d

    @functools.cache  # noqa: B019 - one source per embedding, kept as long as it is
    def read(self) -> np.ndarray:
        """The vectors as float32 ``(N, D)``."""
        if self._binary:
            return read_raw_float32(self.path, self._tensor_shape)
        return read_tensor_tsv(self.path)

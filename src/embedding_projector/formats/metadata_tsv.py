"""Metadata TSV files, read as TensorBoard reads them (SPEC §2.5).

- Blank (whitespace-only) lines are skipped.
- If the first remaining line contains a tab it is a header row; otherwise the file
  has one column, named ``label``, and no header.
- Empty cells are missing values; a column is numeric when every present value
  parses as a number.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa

from embedding_projector.errors import FormatError
from embedding_projector.formats.text import read_text, split_lines

SINGLE_COLUMN_NAME = "label"

# What counts as "a number": decimal notation with optional exponent, inf, nan.
# Python's float() also accepts "1_000" and surrounding spaces, which are labels, not numbers.
_NUMBER = re.compile(
    r"[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|inf|infinity|nan)",
    re.IGNORECASE,
)
_INT64_MAX = 2**63 - 1


def read_metadata_tsv(path: Path, *, root: Path | None = None) -> pa.Table:
    """Read a metadata TSV into a table with one row per data line.

    Parameters
    ----------
    path
        The TSV file.
    root
        The folder it must be inside (see :func:`.files.open_inside`).

    Returns
    -------
    pyarrow.Table
        Numeric columns as int64 (all integers) or float64, the others as strings;
        missing values are nulls.
    """
    lines = [line for line in split_lines(read_text(path, root)) if line.strip()]
    if not lines:
        return pa.table({SINGLE_COLUMN_NAME: pa.array([], pa.string())})
    if "\t" in lines[0]:
        names = lines[0].split("\t")
        rows = [line.split("\t") for line in lines[1:]]
    else:
        names = [SINGLE_COLUMN_NAME]
        rows = [[line] for line in lines]
    return pa.table(
        {name: typed_column(_column(rows, i)) for i, name in enumerate(_unique(names, path))}
    )


def _column(rows: list[list[str]], i: int) -> list[str | None]:
    """Column ``i`` of ragged rows: short rows have missing values, empty cells are missing."""
    return [row[i] if i < len(row) and row[i] != "" else None for row in rows]


def _unique(names: list[str], path: Path) -> list[str]:
    """Header names, refusing duplicates (a table needs distinct column names)."""
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise FormatError(
                f"the header row names column {name!r} twice; give every column a distinct name",
                path=path,
            )
        seen.add(name)
    return names


def typed_column(values: Sequence[str | None]) -> pa.Array:
    """Type a column of text cells: integers, floats, or strings (``None`` = missing).

    A column is numeric when every present value parses as a number, as in TensorBoard.
    """
    present = [v for v in values if v is not None]
    if present and all(_NUMBER.fullmatch(v) for v in present):
        numbers = [None if v is None else float(v) for v in values]
        if all(
            n is None or (n.is_integer() and abs(n) <= _INT64_MAX and _looks_integral(v))
            for n, v in zip(numbers, values, strict=True)
        ):
            return pa.array([None if n is None else int(n) for n in numbers], pa.int64())
        return pa.array(numbers, pa.float64())
    return pa.array(values, pa.string())


def _looks_integral(text: str | None) -> bool:
    """``"3"`` is an integer, ``"3.0"`` and ``"3e2"`` are written as floats and stay floats."""
    return text is None or text.lstrip("+-").isdigit()

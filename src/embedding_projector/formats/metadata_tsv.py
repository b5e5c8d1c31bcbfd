"""Metadata TSV files, read as TensorBoard reads them (SPEC §2.5).

- Blank (whitespace-only) lines are skipped.
- If the first remaining line contains a tab it is a header row; otherwise the file
  has one column, named ``label``, and no header.
- Empty cells are missing values; a column is numeric when every present value
  parses as a number.

The rules are written once, line by line in Python (:func:`_table_of_lines`). ASCII files
whose data rows all have the header's number of cells (most files, and every large one
written by a program) take a second route to the same table: Arrow's CSV reader splits the
rows (tab-separated, no quoting, on both cores) and its compute kernels type every column at
once (ten million rows in 6 s instead of 5 minutes). A test holds the two routes equal on any
file. A big file's table is parsed once and then read back from the user cache
(:mod:`.parsed_cache`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from embedding_projector.errors import FormatError
from embedding_projector.formats.files import open_inside
from embedding_projector.formats.parsed_cache import parsed_once
from embedding_projector.formats.text import decode_text, split_lines

SINGLE_COLUMN_NAME = "label"
#: The rules' version in the parsed-table cache: change it when the table a file gives changes.
PARSER = "metadata-tsv/1"

# What counts as "a number": decimal notation with optional exponent, inf, nan.
# Python's float() also accepts "1_000" and surrounding spaces, which are labels, not numbers.
_NUMBER = re.compile(
    r"[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|inf|infinity|nan)",
    re.IGNORECASE,
)
_INT64_MAX = 2**63 - 1
#: The ASCII characters ``str.strip`` removes: a line of only these is blank.
_BLANK_ASCII = r"^[ \t\n\r\x0b\x0c\x1c-\x1f]*$"


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
    with open_inside(path, root) as opened:
        return parsed_once(opened, PARSER, lambda data: _table(decode_text(data, path), path))


def _table(text: str, path: Path) -> pa.Table:
    """The table of a TSV text: by Arrow at once where it can, else line by line."""
    table = _table_at_once(text, path) if text.isascii() else None
    return _table_of_lines(text, path) if table is None else table


def _table_of_lines(text: str, path: Path) -> pa.Table:
    """The table of a TSV text, line by line: the rules of the module docstring."""
    lines = [line for line in split_lines(text) if line.strip()]
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


def _table_at_once(text: str, path: Path) -> pa.Table | None:
    """What :func:`_table_of_lines` returns for an ASCII ``text``, computed a column at a
    time by Arrow; None when a data row has another number of cells than the header, or a
    lone ``\r`` is in the rows (the line-by-line rules then apply)."""
    header, body = _first_line(text)
    if "\t" not in header:
        return _single_column_at_once(text)
    names = _unique(header.split("\t"), path)
    if body.count("\r") != body.count("\r\n"):
        return None  # Arrow's reader would end a line at a lone \r as well
    cells = _cells(body, names) if body.strip() else [pa.array([], pa.string())] * len(names)
    if cells is None:
        return None
    return pa.table({name: _typed_arrow(column) for name, column in zip(names, cells, strict=True)})


def _first_line(text: str) -> tuple[str, str]:
    """The first line that is not blank (its ``\r\n`` or ``\n`` removed), and the rest."""
    start = 0
    while True:
        end = text.find("\n", start)
        line = (text[start:] if end < 0 else text[start:end]).removesuffix("\r")
        if line.strip():
            return line, "" if end < 0 else text[end + 1 :]
        if end < 0:
            return "", ""
        start = end + 1


def _cells(body: str, names: list[str]) -> list[pa.Array] | None:
    """The text cells of the rows of ``body`` by column (Arrow's CSV reader, tab-separated,
    no quoting), blank lines left out; None when a row has another number of cells."""
    import pyarrow.csv as csv  # not at module level: it costs start-up time

    irregular = []

    def invalid_row(row: csv.InvalidRow) -> str:
        if row.text.strip():
            irregular.append(row.number)
        return "skip"

    table = csv.read_csv(
        pa.py_buffer(body.encode("ascii")),
        read_options=csv.ReadOptions(column_names=names),
        parse_options=csv.ParseOptions(
            delimiter="\t",
            quote_char=False,
            double_quote=False,
            escape_char=False,
            invalid_row_handler=invalid_row,
        ),
        convert_options=csv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False
        ),
    )
    if irregular:
        return None
    columns = [column.combine_chunks() for column in table.columns]
    # A line of blanks and as many tabs as the header has is a row to Arrow, a blank line here.
    blank = pc.match_substring_regex(columns[0], _BLANK_ASCII)
    for column in columns[1:]:
        if not pc.any(blank).as_py():
            return columns
        blank = pc.and_(blank, pc.match_substring_regex(column, _BLANK_ASCII))
    keep = pc.invert(blank)
    return columns if pc.all(keep).as_py() else [column.filter(keep) for column in columns]


def _single_column_at_once(text: str) -> pa.Table:
    """A file with one column: every line that is not blank is a label."""
    lines = pc.split_pattern(pa.array([text], pa.large_string()), "\n").flatten()
    if "\r" in text:
        lines = pc.replace_substring_regex(lines, "\r$", "")
    lines = lines.filter(pc.invert(pc.match_substring_regex(lines, _BLANK_ASCII)))
    return pa.table({SINGLE_COLUMN_NAME: _typed_arrow(lines)})


def _typed_arrow(cells: pa.Array) -> pa.Array:
    """:func:`typed_column` of a column of ASCII text cells ("" = missing), in Arrow."""
    values = pc.if_else(pc.equal(cells, ""), pa.scalar(None, cells.type), cells)
    present = values.drop_null()
    number = f"^(?:{_NUMBER.pattern})$"
    if (
        len(present) == 0
        or not pc.all(pc.match_substring_regex(present, number, ignore_case=True)).as_py()
    ):
        return values.cast(pa.string())
    # Arrow's parser rounds as float() does (both correctly rounded).
    numbers = values.cast(pa.float64())
    # As typed_column: digits only (no point, no exponent), and within int64 (a float
    # below 2^63 is at most 2^63 - 1).
    written_whole = pc.all(pc.match_substring_regex(present, r"^[+-]?[0-9]+$")).as_py()
    if written_whole and pc.all(pc.less(pc.abs(numbers.drop_null()), 2.0**63)).as_py():
        return numbers.cast(pa.int64())
    return numbers


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

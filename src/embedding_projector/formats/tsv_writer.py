"""Write metadata as the TSV TensorBoard's projector reads (SPEC §2.5).

The reader's rules shape the writer:

- a first line containing a tab is a header row, so one column is written without a
  header and several columns with one;
- rows are split on ``\\n`` and cells on ``\\t`` with no quoting, so those characters
  (and ``\\r``, a line break for Python's text mode) cannot be stored in a cell: they
  are replaced by a space, with a warning;
- blank lines are skipped, so a row whose cells are all empty would shift every
  later row onto the wrong point: it is refused;
- an empty cell is a missing value.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from embedding_projector.errors import InvalidParameterError

log = logging.getLogger(__name__)

_UNSAFE = re.compile(r"[\t\n\r]")
# pandas' missing-value markers, recognised by type name so pandas stays optional.
_PANDAS_MISSING = frozenset({"NAType", "NaTType"})


def metadata_to_tsv(metadata: Any, n_rows: int) -> bytes:
    """Encode ``metadata`` as UTF-8 TSV with exactly ``n_rows`` data rows.

    Parameters
    ----------
    metadata
        One column: a sequence of labels (list, tuple, 1-D array, pandas Series), written
        without a header. Several columns: a mapping of column name to values, a pandas
        or polars DataFrame or a pyarrow Table, written with a header row. A mapping or
        table with a single column is written like a sequence (its name is dropped, as
        TensorBoard would not read it as a header).
    n_rows
        The number of vectors; every column must have that many values.

    Returns
    -------
    bytes
        The file content, each line ending with ``\\n``.

    Raises
    ------
    InvalidParameterError
        If the input is not one of the kinds above, the row counts differ, column names
        repeat, or a row is blank.
    """
    columns = _columns(metadata)
    for name, values in columns:
        if len(values) != n_rows:
            where = f"column {name!r} of `metadata`" if len(columns) > 1 else "`metadata`"
            raise InvalidParameterError(
                f"{where} has {len(values)} rows but there are {n_rows} vectors; "
                "give one value per vector"
            )
    cells = [[_cell_text(value) for value in values] for _, values in columns]
    header = [str(name) for name, _ in columns] if len(columns) > 1 else []
    lines = [header] if header else []
    lines += [list(row) for row in zip(*cells, strict=True)]
    lines = _sanitised(lines)
    _check_no_blank_rows(lines[1:] if header else lines)
    return "".join("\t".join(row) + "\n" for row in lines).encode("utf-8")


def _columns(metadata: Any) -> list[tuple[Any, Sequence[Any]]]:
    """``[(name, values)]`` for the kinds of input :func:`metadata_to_tsv` accepts."""
    if isinstance(metadata, str | bytes):
        raise InvalidParameterError(
            "`metadata` must be a sequence of labels or a table of columns, got a string"
        )
    if hasattr(metadata, "column_names") and hasattr(metadata, "columns"):  # pyarrow
        pairs = list(zip(metadata.column_names, metadata.columns, strict=True))
    elif hasattr(metadata, "columns") and hasattr(metadata, "__getitem__"):  # pandas, polars
        pairs = [(name, metadata[name]) for name in _unique(metadata.columns)]
    elif isinstance(metadata, Mapping):
        pairs = list(metadata.items())
    else:
        pairs = [("label", metadata)]
    if not pairs:
        raise InvalidParameterError("`metadata` has no columns")
    _unique(name for name, _ in pairs)
    return [(name, _values(name, column)) for name, column in pairs]


def _unique(names: Iterable[Any]) -> list[Any]:
    """``names`` as a list, refusing duplicates (TensorBoard would merge such columns)."""
    seen: list[Any] = []
    for name in names:
        if name in seen:
            raise InvalidParameterError(f"`metadata` has two columns named {name!r}")
        seen.append(name)
    return seen


def _values(name: Any, column: Any) -> Sequence[Any]:
    """The values of one column as a Python sequence (numpy arrays, Series, Arrow arrays)."""
    for method in ("to_pylist", "to_list", "tolist"):  # pyarrow, pandas/polars, numpy
        if callable(getattr(column, method, None)):
            values = getattr(column, method)()
            break
    else:
        values = column
    if isinstance(values, str | bytes) or not isinstance(values, Sequence):
        raise InvalidParameterError(
            f"column {name!r} of `metadata` must be a sequence of values, "
            f"got {type(column).__name__}"
        )
    if values and isinstance(values[0], list):
        raise InvalidParameterError(
            f"column {name!r} of `metadata` holds lists; give one value per row "
            "(a 2-D array of labels is ambiguous: pass a dict of named columns)"
        )
    return values


def _cell_text(value: Any) -> str:
    """The text of one cell; ``""`` (a missing value) for None, NaN and pandas' NA/NaT."""
    if value is None or type(value).__name__ in _PANDAS_MISSING:
        return ""
    if isinstance(value, float | np.floating):
        return _float_text(float(value))
    return str(value)


def _float_text(value: float) -> str:
    """Shortest text of a float; at float32 precision if it is a float32 value.

    Float32 columns reach us as Python floats (``to_list``), and ``0.1f`` would
    otherwise print as ``0.10000000149011612``.
    """
    if math.isnan(value):
        return ""
    with np.errstate(over="ignore"):  # beyond float32's range: not a float32 value
        as_float32 = np.float32(value)
    return str(as_float32) if float(as_float32) == value else repr(value)


def _sanitised(lines: list[list[str]]) -> list[list[str]]:
    """Replace tabs and line breaks in cells by spaces, warning once if any were found."""
    count = 0

    def clean(cell: str) -> str:
        nonlocal count
        cleaned, replaced = _UNSAFE.subn(" ", cell)
        count += bool(replaced)
        return cleaned

    result = [[clean(cell) for cell in row] for row in lines]
    if count:
        log.warning(
            "metadata: replaced tabs and line breaks with spaces in %d values: a TSV cell "
            "cannot hold them (TensorBoard splits rows on newlines and cells on tabs)",
            count,
        )
    return result


def _check_no_blank_rows(rows: list[list[str]]) -> None:
    for index, row in enumerate(rows):
        if not "".join(row).strip():
            raise InvalidParameterError(
                f"row {index} of `metadata` is blank (every value missing or whitespace); "
                "TensorBoard skips blank lines of a metadata TSV, which would shift every "
                "later row onto the wrong point. Give that row a value, e.g. '<none>'"
            )

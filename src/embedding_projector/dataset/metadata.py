"""Fitting a metadata table to N vectors, and describing its columns (SPEC §2.5)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pyarrow as pa

from embedding_projector.errors import FormatError
from embedding_projector.formats.tables import read_metadata_table

ColumnKind = Literal["numeric", "categorical", "text"]

# TensorBoard colours by a text column only up to 50 distinct values (NUM_COLORS_COLOR_MAP).
MAX_CATEGORIES = 50
#: The version of :func:`describe_columns`'s rules, for descriptions kept in a cache: change
#: it when a table's description changes.
DESCRIBE_RULES = f"1/{MAX_CATEGORIES}"


def load_metadata(path: Path, n: int, *, root: Path | None = None) -> tuple[pa.Table, list[str]]:
    """Read a metadata file (inside ``root``) and fit it to ``n`` vectors: the table and the
    warnings."""
    return fit_metadata(read_metadata_table(path, root=root), n, path)


def fit_metadata(table: pa.Table, n: int, path: Path) -> tuple[pa.Table, list[str]]:
    """Apply TensorBoard's row-count rules.

    One column and ``n + 1`` rows, or several columns and ``n - 1`` rows, are errors (a
    header row where there should be none, or none where there should be one). Any other
    mismatch is a warning: the first ``n`` rows are used, missing rows are padded with nulls.

    Raises
    ------
    FormatError
        For the two header mistakes.
    """
    rows = table.num_rows
    if rows == n:
        return table, []
    mismatch = f"Number of tensors ({n}) do not match the number of lines in metadata ({rows})."
    if table.num_columns == 1 and rows == n + 1:
        raise FormatError(
            f"{mismatch} Single column metadata should not have a header row.", path=path
        )
    if table.num_columns > 1 and rows == n - 1:
        raise FormatError(
            f"{mismatch} Multi-column metadata should have a header row with column labels.",
            path=path,
        )
    if rows > n:
        return table.slice(0, n), [f"{path}: {mismatch} Using the first {n} rows."]
    padding = pa.table(
        {
            name: pa.nulls(n - rows, col.type)
            for name, col in zip(table.column_names, table.columns, strict=True)
        }
    )
    fitted = pa.concat_tables([table, padding])
    return fitted, [f"{path}: {mismatch} Rows {rows + 1}–{n} have no metadata."]


@dataclass(frozen=True)
class ColumnInfo:
    """What a metadata column is, for colouring and labelling."""

    name: str
    kind: ColumnKind
    distinct: int
    """Number of distinct present values."""


def describe_columns(table: pa.Table) -> list[ColumnInfo]:
    """Kind and distinct count of every column.

    ``numeric`` when the column holds numbers; otherwise ``categorical`` with at most
    :data:`MAX_CATEGORIES` distinct values (colourable), else ``text``.
    """
    infos = []
    for name, column in zip(table.column_names, table.columns, strict=True):
        distinct = len(column.drop_null().unique())
        numeric = pa.types.is_integer(column.type) or pa.types.is_floating(column.type)
        kind: ColumnKind = (
            "numeric" if numeric else "categorical" if distinct <= MAX_CATEGORIES else "text"
        )
        infos.append(ColumnInfo(name, kind, distinct))
    return infos

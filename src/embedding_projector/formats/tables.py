"""Tables as inputs: Parquet, Arrow/Feather, CSV and labelled TSV (SPEC §2.9).

A table holds its vectors in one of two shapes:

- list or fixed-size-list columns of numbers: each is an embedding, the other columns
  are metadata (the usual shape for Parquet written by pandas, polars or datasets);
- no list column: every numeric column is one dimension, the other columns are
  metadata (the usual shape of a CSV, or of TensorBoard's TSV with a label column).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa

from embedding_projector.errors import FormatError, quote_exception
from embedding_projector.formats.arrays import ArraySource, FileEmbeddings, check_matrix
from embedding_projector.formats.files import open_inside
from embedding_projector.formats.metadata_tsv import read_metadata_tsv


def read_table_file(path: Path, *, root: Path | None = None) -> pa.Table:
    """Read a Parquet, Arrow (file or stream), Feather, CSV or TSV file as a table.

    The table is read into memory, not memory-mapped: a server holding a map of a file
    that is then cut short would crash on the next read of it.
    """
    suffix = path.suffix.lower()
    with open_inside(path, root) as opened:
        try:
            if suffix in (".parquet", ".pq"):
                import pyarrow.parquet as pq

                return pq.read_table(opened.file)
            if suffix in (".arrow", ".feather", ".ipc", ".arrows"):
                return _read_arrow(opened.file)
            return _read_delimited(opened.file, "," if suffix == ".csv" else "\t")
        except (pa.ArrowException, OSError, ValueError, TypeError, IndexError) as exc:
            # pyarrow raises ArrowException subclasses (its I/O errors are OSErrors too)
            # and, from a few decoders, plain ValueError, TypeError or IndexError.
            raise FormatError(
                f"could not be read as a {suffix} table ({quote_exception(exc)})", path=path
            ) from None


def _read_arrow(file: BinaryIO) -> pa.Table:
    """Feather v1/v2 and the Arrow IPC file format, else the IPC stream format."""
    import pyarrow.feather as feather

    try:
        return feather.read_table(file, memory_map=False)
    except pa.ArrowInvalid:
        file.seek(0)
        return pa.ipc.open_stream(file).read_all()


def _read_delimited(file: BinaryIO, delimiter: str) -> pa.Table:
    """CSV/TSV with a header row, or without one when the first row is all numbers."""
    from pyarrow import csv

    first = file.readline().decode("utf-8-sig", errors="replace").rstrip("\r\n")
    file.seek(0)
    headerless = bool(first) and all(_is_number(cell) for cell in first.split(delimiter))
    return csv.read_csv(
        file,
        read_options=csv.ReadOptions(autogenerate_column_names=headerless),
        # TensorBoard's TSVs have no quoting; CSVs follow RFC 4180.
        parse_options=csv.ParseOptions(
            delimiter=delimiter, quote_char='"' if delimiter == "," else False
        ),
    )


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def embeddings_from_table(path: Path, table: pa.Table) -> FileEmbeddings:
    """Split a table into vector sets and metadata columns (see the module docstring)."""
    if table.num_rows == 0:
        raise FormatError("has no rows", path=path)
    layout = table_layout(table.schema, path)
    if layout.list_columns:
        tensors = [
            (name, ArraySource.of(path, list_column_matrix(table.column(name), name, path)))
            for name in layout.list_columns
        ]
    else:
        matrix = numeric_columns_matrix(table, layout.dimensions, path)
        tensors = [(path.stem, ArraySource.of(path, matrix))]
    metadata = table.select(list(layout.rest)) if layout.rest else None
    return FileEmbeddings(tensors, metadata)


@dataclass(frozen=True)
class TableLayout:
    """Which columns of a table hold vectors: list columns, or else numeric columns."""

    list_columns: tuple[str, ...]
    """Each a vector set (a list of numbers per row)."""
    dimensions: tuple[str, ...]
    """With no list column: the numeric columns, one dimension each, of one vector set."""
    rest: tuple[str, ...]
    """The metadata columns."""


def table_layout(schema: pa.Schema, path: Path) -> TableLayout:
    """Decide from the schema alone which columns are vectors and which are metadata."""
    names = schema.names
    lists = tuple(n for n, f in zip(names, schema, strict=True) if _is_numeric_list(f.type))
    if lists:
        return TableLayout(lists, (), tuple(n for n in names if n not in lists))
    dims = tuple(n for n in names if _is_numeric(schema.field(n).type))
    if len(dims) < 2:
        raise FormatError(
            "holds no vectors: expected a list column of numbers, or at least 2 numeric "
            f"columns (found {len(dims)} among {names[:8]})",
            path=path,
        )
    return TableLayout((), dims, tuple(n for n in names if n not in dims))


def _is_numeric(t: pa.DataType) -> bool:
    return bool(pa.types.is_integer(t) or pa.types.is_floating(t))


def _is_numeric_list(t: pa.DataType) -> bool:
    return bool(
        (pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t))
        and _is_numeric(t.value_type)
    )


def list_column_matrix(column: pa.ChunkedArray, name: str, path: Path) -> np.ndarray:
    """An ``(N, D)`` array from a list column; zero-copy for a null-free fixed-size list."""
    import pyarrow.compute as pc  # not at module level: it costs start-up time

    array = column.combine_chunks()
    if array.null_count:
        row = int(pc.index(pc.is_null(array), True).as_py())
        raise FormatError(f"column {name!r}, row {row}: the vector is missing (null)", path=path)
    lengths = pc.list_value_length(array).to_numpy(zero_copy_only=False)
    if lengths.size and (lengths != lengths[0]).any():
        row = int(np.argmax(lengths != lengths[0]))
        raise FormatError(
            f"column {name!r}, row {row}: the vector has {lengths[row]} values but row 0 has "
            f"{lengths[0]}; every vector must have the same length",
            path=path,
        )
    values = pc.list_flatten(array)
    if values.null_count:
        raise FormatError(f"column {name!r} holds missing (null) vector components", path=path)
    flat = values.to_numpy(zero_copy_only=False)
    matrix = flat.reshape(len(array), int(lengths[0]) if lengths.size else 0)
    return check_matrix(matrix, path=path, what=f"column {name!r}")


def numeric_columns_matrix(table: pa.Table, dims: Sequence[str], path: Path) -> np.ndarray:
    """An ``(N, len(dims))`` array from numeric columns, one dimension each (no nulls)."""
    import pyarrow.compute as pc  # not at module level: it costs start-up time

    for name in dims:
        column = table.column(name)
        if column.null_count:
            row = int(pc.index(pc.is_null(column), True).as_py())
            raise FormatError(f"column {name!r}, row {row}: the value is missing", path=path)
    return np.column_stack([table.column(n).to_numpy() for n in dims])


def read_metadata_table(path: Path, *, root: Path | None = None) -> pa.Table:
    """A metadata file given beside vectors: TensorBoard's TSV rules for ``.tsv``/``.txt``,
    a table with a header row for the other table formats."""
    if path.suffix.lower() in (".tsv", ".txt", ""):
        return read_metadata_tsv(path, root=root)
    return read_table_file(path, root=root)

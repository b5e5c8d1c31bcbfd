"""Parquet: a file or a folder of files, opened from the footers; vectors read when used.

Opening reads the schema and the row counts (footers only) and the metadata columns;
the vector column is read on first use, by this process (``Embedding.vectors``) or,
row group by row group, by whichever process holds the embedding's
:class:`~.rows.ParquetRows` (a Dask worker). A folder's files are taken in name order,
as one table; they must share one schema. Every file is opened inside the folder that
was opened (:func:`~.files.open_inside`) and read into memory, never memory-mapped.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from embedding_projector.errors import FormatError, NotFoundError
from embedding_projector.formats.arrays import ArraySource, FileEmbeddings, dtype_name
from embedding_projector.formats.rows import ParquetRows, open_parquet
from embedding_projector.formats.tables import (
    TableLayout,
    list_column_matrix,
    numeric_columns_matrix,
    table_layout,
)

SUFFIXES = (".parquet", ".pq")


def parquet_files(folder: Path) -> list[Path]:
    """The Parquet files directly in ``folder``, in name order (hidden files skipped)."""
    return sorted(
        p
        for p in folder.iterdir()
        if p.suffix.lower() in SUFFIXES and not p.name.startswith((".", "_")) and p.is_file()
    )


@dataclass(frozen=True)
class _Parts:
    """The files of a Parquet input, the folder they must be inside, and their row counts."""

    path: Path
    """The file or folder opened (for messages)."""
    files: tuple[Path, ...]
    root: Path | None
    file_rows: tuple[int, ...]

    def rows(self, columns: tuple[str, ...], shape: tuple[int, int]) -> ParquetRows:
        """Where a Dask worker reads these columns by row ranges."""
        return ParquetRows(self.files, self.file_rows, columns, shape, self.root)


def read_parquet(path: Path, *, root: Path | None = None) -> FileEmbeddings:
    """The vector sets and metadata of a Parquet file, or of a folder of Parquet files.

    ``root``: the folder every file must be inside.
    """
    files = tuple(parquet_files(path)) if path.is_dir() else (path,)
    if not files:
        raise NotFoundError("holds no Parquet file (*.parquet)", path=path)
    schema, counts = _schema_and_rows(files, root)
    parts = _Parts(path, files, root, counts)
    rows = sum(counts)
    if rows == 0:
        raise FormatError("has no rows", path=path)
    layout = table_layout(schema, path)
    metadata = _read(parts, list(layout.rest)) if layout.rest else None
    if layout.list_columns:
        tensors = [
            (name, _list_source(parts, name, schema.field(name).type, rows))
            for name in layout.list_columns
        ]
    else:
        tensors = [(path.stem, _columns_source(parts, layout, schema, rows))]
    return FileEmbeddings(tensors, metadata)


def _schema_and_rows(
    files: tuple[Path, ...], root: Path | None
) -> tuple[pa.Schema, tuple[int, ...]]:
    schema, rows = None, []
    for file in files:
        with open_parquet(file, root) as parquet:
            footer = parquet.metadata
        own = footer.schema.to_arrow_schema()
        if schema is None:
            schema = own
        elif not own.equals(schema):
            raise FormatError(
                f"has another schema than {files[0].name} (every file of the folder must "
                f"have the same columns): {own} vs {schema}",
                path=file,
            )
        rows.append(footer.num_rows)
    assert schema is not None
    return schema, tuple(rows)


def _read(parts: _Parts, columns: list[str]) -> pa.Table:
    """These columns of every file, as one table, in memory."""
    tables = []
    for file in parts.files:
        with open_parquet(file, parts.root) as parquet:
            tables.append(parquet.read(columns=columns))
    return pa.concat_tables(tables)


def _list_source(parts: _Parts, name: str, kind: Any, rows: int) -> ArraySource:
    width = kind.list_size if pa.types.is_fixed_size_list(kind) else _first_length(parts, name)
    shape = (rows, width)

    def load() -> np.ndarray:
        return list_column_matrix(_read(parts, [name]).column(name), name, parts.path)

    dtype = dtype_name(np.dtype(kind.value_type.to_pandas_dtype()))
    return ArraySource(parts.path, shape, dtype, load, rows=parts.rows((name,), shape))


def _columns_source(
    parts: _Parts, layout: TableLayout, schema: pa.Schema, rows: int
) -> ArraySource:
    dims = list(layout.dimensions)
    shape = (rows, len(dims))

    def load() -> np.ndarray:
        return numeric_columns_matrix(_read(parts, dims), dims, parts.path)

    types = {np.dtype(schema.field(n).type.to_pandas_dtype()) for n in dims}
    dtype = dtype_name(np.result_type(*types))
    return ArraySource(parts.path, shape, dtype, load, rows=parts.rows(tuple(dims), shape))


def _first_length(parts: _Parts, name: str) -> int:
    """The length of the first vector of a (variable-size) list column: the width D."""
    file = parts.files[0]
    with open_parquet(file, parts.root) as parquet:
        batch = next(parquet.iter_batches(batch_size=1, columns=[name]), None)
    if batch is None or batch.num_rows == 0 or batch.column(0)[0].as_py() is None:
        raise FormatError(f"column {name!r}, row 0: the vector is missing (null)", path=file)
    return len(batch.column(0)[0].as_py())

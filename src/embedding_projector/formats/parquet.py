"""Parquet: a file or a folder of files, opened from the footers; vectors read when used.

Opening reads the schema and the row counts (footers only) and the metadata columns;
the vector column is read on first use, by this process (``Embedding.vectors``) or,
row group by row group, by whichever process holds the embedding's
:class:`~.rows.ParquetRows` (a Dask worker). A folder's files are taken in name order,
as one table; they must share one schema.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from embedding_projector.errors import FormatError, NotFoundError
from embedding_projector.formats.arrays import ArraySource, FileEmbeddings, dtype_name
from embedding_projector.formats.rows import ParquetRows
from embedding_projector.formats.tables import (
    TableLayout,
    list_column_matrix,
    numeric_columns_matrix,
    table_layout,
)
from embedding_projector.formats.text import os_error

SUFFIXES = (".parquet", ".pq")


def parquet_files(folder: Path) -> list[Path]:
    """The Parquet files directly in ``folder``, in name order (hidden files skipped)."""
    return sorted(
        p
        for p in folder.iterdir()
        if p.suffix.lower() in SUFFIXES and not p.name.startswith((".", "_")) and p.is_file()
    )


def read_parquet(path: Path) -> FileEmbeddings:
    """The vector sets and metadata of a Parquet file, or of a folder of Parquet files."""
    files = tuple(parquet_files(path)) if path.is_dir() else (path,)
    if not files:
        raise NotFoundError("holds no Parquet file (*.parquet)", path=path)
    schema, rows = _schema_and_rows(files, path)
    if rows == 0:
        raise FormatError("has no rows", path=path)
    layout = table_layout(schema, path)
    metadata = _read(files, list(layout.rest), path) if layout.rest else None
    if layout.list_columns:
        tensors = [
            (name, _list_source(path, files, name, schema.field(name).type, rows))
            for name in layout.list_columns
        ]
    else:
        tensors = [(path.stem, _columns_source(path, files, layout, schema, rows))]
    return FileEmbeddings(tensors, metadata)


def _schema_and_rows(files: tuple[Path, ...], path: Path) -> tuple[pa.Schema, int]:
    import pyarrow.parquet as pq

    schema, rows = None, 0
    for file in files:
        try:
            footer = pq.read_metadata(file)
        except OSError as exc:
            if isinstance(exc, FileNotFoundError | PermissionError | IsADirectoryError):
                raise os_error(file, exc) from exc
            raise FormatError(f"could not be read as Parquet: {exc}", path=file) from exc
        except pa.ArrowInvalid as exc:
            raise FormatError(f"could not be read as Parquet: {exc}", path=file) from exc
        own = footer.schema.to_arrow_schema()
        if schema is None:
            schema = own
        elif not own.equals(schema):
            raise FormatError(
                f"has another schema than {files[0].name} (every file of the folder must "
                f"have the same columns): {own} vs {schema}",
                path=file,
            )
        rows += footer.num_rows
    assert schema is not None
    return schema, rows


def _read(files: tuple[Path, ...], columns: list[str], path: Path) -> pa.Table:
    import pyarrow.dataset as ds

    try:
        return ds.dataset([str(f) for f in files], format="parquet").to_table(columns=columns)
    except OSError as exc:
        raise os_error(path, exc) from exc
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise FormatError(f"could not be read as Parquet: {exc}", path=path) from exc


def _list_source(
    path: Path, files: tuple[Path, ...], name: str, kind: Any, rows: int
) -> ArraySource:
    width = kind.list_size if pa.types.is_fixed_size_list(kind) else _first_length(files[0], name)
    shape = (rows, width)

    def load() -> np.ndarray:
        return list_column_matrix(_read(files, [name], path).column(name), name, path)

    dtype = dtype_name(np.dtype(kind.value_type.to_pandas_dtype()))
    return ArraySource(path, shape, dtype, load, rows=ParquetRows(files, (name,), shape))


def _columns_source(
    path: Path, files: tuple[Path, ...], layout: TableLayout, schema: pa.Schema, rows: int
) -> ArraySource:
    dims = list(layout.dimensions)
    shape = (rows, len(dims))

    def load() -> np.ndarray:
        return numeric_columns_matrix(_read(files, dims, path), dims, path)

    types = {np.dtype(schema.field(n).type.to_pandas_dtype()) for n in dims}
    dtype = dtype_name(np.result_type(*types))
    return ArraySource(path, shape, dtype, load, rows=ParquetRows(files, tuple(dims), shape))


def _first_length(file: Path, name: str) -> int:
    """The length of the first vector of a (variable-size) list column: the width D."""
    import pyarrow.parquet as pq

    batch = next(pq.ParquetFile(file).iter_batches(batch_size=1, columns=[name]), None)
    if batch is None or batch.num_rows == 0 or batch.column(0)[0].as_py() is None:
        raise FormatError(f"column {name!r}, row 0: the vector is missing (null)", path=file)
    return len(batch.column(0)[0].as_py())

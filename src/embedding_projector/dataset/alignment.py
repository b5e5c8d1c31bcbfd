"""Which row of one embedding is which row of another: the alignment of a comparison.

Two embeddings can only be compared point by point when their rows are the same items.
:func:`align_rows` decides how to pair them, in this order:

1. Both metadata tables have a column of the same name whose labels are unique (no
   repeats, no empty cells) in each: rows are paired by label, whatever their order. The
   two columns must hold the same labels; otherwise the rows are not the same items.
2. Otherwise, the same number of rows: row ``i`` is row ``i``.
3. Otherwise there is no pairing: :class:`RowsDifferError` says why, and nothing is
   compared (a misaligned picture would be silently wrong).

The ``index`` column that an embedding without metadata gets (``0 .. N-1``) does not
count as labels: it says nothing about which item a row is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from embedding_projector.errors import ProjectorError

#: The column of row numbers of an embedding without metadata (:mod:`.model`).
_ROW_NUMBERS = "index"
#: Labels quoted in a message, at most.
_QUOTED = 3


class RowsDifferError(ProjectorError):
    """Two embeddings' rows are not the same items, so they cannot be compared point by point."""

    status = 400
    code = "rows_differ"


@dataclass(frozen=True)
class Alignment:
    """How the rows of ``b`` pair with the rows of ``a``.

    Attributes
    ----------
    order
        ``(N,)`` int64: ``order[i]`` is the row of ``b`` that is row ``i`` of ``a``.
    column
        The metadata column the rows were paired by, or None when by position.
    """

    order: np.ndarray
    column: str | None

    @property
    def identity(self) -> bool:
        """Row ``i`` of ``b`` is row ``i`` of ``a`` for every ``i``."""
        return bool(np.array_equal(self.order, np.arange(len(self.order))))


def label_columns(table: pa.Table) -> list[str]:
    """The columns of ``table`` whose cells are all present and all different."""
    names = []
    for name in table.column_names:
        column = table.column(name)
        if name == _ROW_NUMBERS or column.null_count or pa.types.is_floating(column.type):
            continue
        if pc.count_distinct(column).as_py() == len(column):
            names.append(name)
    return names


def align_rows(a: pa.Table, b: pa.Table, names: tuple[str, str] = ("a", "b")) -> Alignment:
    """Pair the rows of two embeddings by their metadata ``a`` and ``b`` (see the module).

    ``names`` name the two embeddings in messages.

    Raises
    ------
    RowsDifferError
        When the rows are not the same items: different labels in the shared label
        column, or different numbers of rows and no label column to pair them by.
    """
    shared = [name for name in label_columns(a) if name in set(label_columns(b))]
    if shared:
        return _by_labels(a, b, shared[0], names)
    if a.num_rows != b.num_rows:
        raise RowsDifferError(
            f"{names[0]} has {a.num_rows} rows and {names[1]} has {b.num_rows}: they are not "
            "the same items, and no metadata column of unique labels is in both to pair them by"
        )
    return Alignment(np.arange(a.num_rows, dtype=np.int64), None)


def _by_labels(a: pa.Table, b: pa.Table, column: str, names: tuple[str, str]) -> Alignment:
    ours = _as_text(a.column(column))
    theirs = _as_text(b.column(column))
    found = pc.index_in(ours, value_set=theirs)
    if found.null_count or a.num_rows != b.num_rows:
        missing = pc.filter(ours, pc.is_null(found))
        extra = pc.filter(theirs, pc.invert(pc.is_in(theirs, value_set=ours)))
        raise RowsDifferError(
            f"{names[0]} and {names[1]} are not the same items: by their unique labels in "
            f"`{column}`, {len(missing)} of {names[0]}'s {a.num_rows} are not in {names[1]}"
            f"{_examples(missing)} and {len(extra)} of {names[1]}'s {b.num_rows} are not in "
            f"{names[0]}{_examples(extra)}"
        )
    return Alignment(found.to_numpy().astype(np.int64), column)


def _as_text(column: pa.ChunkedArray) -> pa.Array:
    """Labels compared as text: ``1`` in one table is ``"1"`` in the other (TSVs are text)."""
    return pc.cast(column, pa.string()).combine_chunks()


def _examples(labels: pa.Array) -> str:
    if len(labels) == 0:
        return ""
    shown = ", ".join(repr(text) for text in labels.slice(0, _QUOTED).to_pylist())
    return f" (e.g. {shown})"

"""Searching a metadata column, as the projector's search box does (SPEC §3 Inspector)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from embedding_projector.errors import InvalidParameterError


def search_rows(table: pa.Table, column: str, query: str, *, regex: bool = False) -> np.ndarray:
    """Indices (int32, ascending) of the rows whose ``column`` matches ``query``.

    Case-insensitive substring match by default; ``regex=True`` takes an RE2 regular
    expression (the syntax of most engines, without backreferences or lookaround),
    also case-insensitive as in TensorBoard. Missing values never match; numbers are
    matched by their text.
    """
    import pyarrow.compute as pc  # not at module level: it costs start-up time

    if column not in table.column_names:
        raise InvalidParameterError(
            f"unknown `column` {column!r}; the metadata has {', '.join(table.column_names)}"
        )
    values = table.column(column)
    if not pa.types.is_string(values.type) and not pa.types.is_large_string(values.type):
        values = pc.cast(values, pa.string())
    try:
        if regex:
            matched = pc.match_substring_regex(values, query, ignore_case=True)
        else:
            matched = pc.match_substring(values, query, ignore_case=True)
    except pa.ArrowInvalid as exc:
        raise InvalidParameterError(
            f"`q` {query!r} is not a valid regular expression: {exc}"
        ) from exc
    mask = matched.fill_null(False).to_numpy(zero_copy_only=False)
    return np.flatnonzero(mask).astype(np.int32)

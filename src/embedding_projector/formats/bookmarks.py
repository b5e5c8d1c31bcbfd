"""Bookmark files: a JSON array of saved states (SPEC §2.7).

What is read must also be servable: JSON that Python parses but cannot send back
(``NaN``, a number beyond float range, a lone UTF-16 surrogate) or nested deeper than any
saved state is refused here, with the place it was found, rather than failing every
later request that serves it.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

from embedding_projector.errors import FormatError, quote_exception
from embedding_projector.formats.text import read_text

MAX_DEPTH = 64
"""Deepest nesting of arrays and objects accepted; TensorBoard's saved states nest 4 deep."""

_SURROGATE = re.compile("[\ud800-\udfff]")


def read_bookmarks(path: Path, *, root: Path | None = None) -> list[dict[str, Any]]:
    """Read TensorBoard's bookmarks format: a JSON array of objects (an empty file is none).

    Raises
    ------
    FormatError
        Not JSON, not an array of objects, or JSON that cannot be served back (see
        :func:`parse_bookmarks`).
    """
    return parse_bookmarks(read_text(path, root), path=path)


def parse_bookmarks(text: str, *, path: Path | None = None) -> list[dict[str, Any]]:
    """Parse and check a JSON array of saved states.

    Refused: invalid JSON, anything but an array of objects, ``NaN`` and infinite
    numbers, integers of more than 4,300 digits, lone surrogates in strings, and nesting
    deeper than :data:`MAX_DEPTH`.

    Raises
    ------
    FormatError
        Naming what is wrong and where.
    """
    if not text.strip():
        return []
    try:
        states = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except json.JSONDecodeError as exc:
        raise FormatError(
            f"is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}", path=path
        ) from None
    except (ValueError, RecursionError) as exc:  # our refusals, Python's digit limit, depth
        raise FormatError(f"is not usable JSON ({quote_exception(exc)})", path=path) from None
    if not isinstance(states, list) or not all(isinstance(s, dict) for s in states):
        raise FormatError(
            "is not a bookmarks file: expected a JSON array of saved states (objects)", path=path
        )
    _check_values(states, path)
    return states


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number JSON can carry")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text[:20]} is beyond the range of a float")
    return value


def _check_values(states: list[Any], path: Path | None) -> None:
    """Depth and strings of the parsed document, walked without recursion."""
    pending: list[tuple[Any, int]] = [(states, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            if _SURROGATE.search(value):
                raise FormatError(
                    "holds a string with a lone UTF-16 surrogate (\\ud800-\\udfff), which is "
                    "not text",
                    path=path,
                )
            continue
        if not isinstance(value, list | dict):
            continue
        if depth > MAX_DEPTH:
            raise FormatError(
                f"nests arrays and objects more than {MAX_DEPTH} deep; saved states are shallow",
                path=path,
            )
        items = [*value.keys(), *value.values()] if isinstance(value, dict) else value
        pending.extend((item, depth + 1) for item in items)

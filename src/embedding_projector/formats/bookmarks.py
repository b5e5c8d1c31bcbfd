"""Bookmark files: a JSON array of saved states (SPEC §2.7).

What is read and what the page saves go through :func:`parse_bookmarks`, which accepts
only JSON that can be served back as it was: not nested absurdly deep, Unicode text
only, finite numbers of sensible length. Anything else would be stored, then break
every later read of it.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

from embedding_projector.errors import FormatError
from embedding_projector.formats.text import read_text

MAX_BOOKMARKS_BYTES = 256 * 2**20
"""The largest bookmarks file read or saved (per-point coordinates of several views)."""
MAX_DEPTH = 32
"""The deepest nesting accepted; TensorBoard's states are 4 deep (array, state, its
``projections``, a point)."""
MAX_INT_DIGITS = 20
"""More digits than any 64-bit integer: a longer one can only be an attack or damage."""
_SURROGATE = re.compile("[\ud800-\udfff]")


def read_bookmarks(path: Path, *, root: Path | None = None) -> list[dict[str, Any]]:
    """Read TensorBoard's bookmarks format: a JSON array of objects (an empty file is none).

    The file is opened inside ``root`` (see :func:`.files.open_inside`).
    """
    text = read_text(path, root)
    try:
        return parse_bookmarks(text)
    except ValueError as exc:
        raise FormatError(f"is not a bookmarks file: {exc}", path=path) from exc


def parse_bookmarks(text: str) -> list[dict[str, Any]]:
    """Parse and check saved states; blank text is none.

    Raises
    ------
    ValueError
        With one sentence saying what is wrong: not JSON, not an array of objects,
        larger than :data:`MAX_BOOKMARKS_BYTES`, nested deeper than :data:`MAX_DEPTH`,
        a lone surrogate (``"\\ud800"``, which no UTF-8 file can hold), ``NaN`` or a
        number too large for a float, an integer of more than :data:`MAX_INT_DIGITS` digits.
    """
    if len(text) > MAX_BOOKMARKS_BYTES:
        raise ValueError(f"larger than {MAX_BOOKMARKS_BYTES // 2**20} MiB")
    if not text.strip():
        return []
    try:
        states = json.loads(
            text, parse_int=_integer, parse_float=_finite, parse_constant=_not_a_number
        )
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from exc
    except RecursionError as exc:
        raise ValueError(_too_deep()) from exc
    if not isinstance(states, list) or not all(isinstance(s, dict) for s in states):
        raise ValueError("expected a JSON array of saved states (objects)")
    _check_tree(states)
    return states


def _integer(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_INT_DIGITS:
        raise ValueError(f"an integer of {len(digits)} digits (at most {MAX_INT_DIGITS})")
    return int(digits)


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:40]} is too large for a float")
    return value


def _not_a_number(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _too_deep() -> str:
    return f"nested more than {MAX_DEPTH} levels deep"


def _check_tree(root: list[Any]) -> None:
    """Depth and strings of the whole tree, without recursion (it may be deep)."""
    stack: list[tuple[Any, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ValueError(_too_deep())
        children = node.items() if isinstance(node, dict) else enumerate(node)
        for key, value in children:
            for text in (key, value):
                if isinstance(text, str) and not text.isascii() and _SURROGATE.search(text):
                    raise ValueError(
                        f"a string with a lone surrogate ({text[:40]!r}) is not Unicode text"
                    )
            if isinstance(value, dict | list):
                stack.append((value, depth + 1))

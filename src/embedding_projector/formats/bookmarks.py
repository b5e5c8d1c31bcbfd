"""Bookmark files: a JSON array of saved states (SPEC §2.7)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from embedding_projector.errors import FormatError
from embedding_projector.formats.text import read_text


def read_bookmarks(path: Path) -> list[dict[str, Any]]:
    """Read TensorBoard's bookmarks format: a JSON array of objects (an empty file is none)."""
    text = read_text(path)
    if not text.strip():
        return []
    try:
        states = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FormatError(
            f"is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}", path=path
        ) from exc
    if not isinstance(states, list) or not all(isinstance(s, dict) for s in states):
        raise FormatError(
            "is not a bookmarks file: expected a JSON array of saved states (objects)", path=path
        )
    return states

"""Reading text files with errors a user can act on (missing, unreadable, not text)."""

from __future__ import annotations

import os
from pathlib import Path

from embedding_projector.errors import FormatError
from embedding_projector.formats.files import read_inside


def read_text(path: Path, root: str | os.PathLike[str] | None = None) -> str:
    """The file (opened inside ``root``, see :func:`.files.open_inside`) decoded as UTF-8.

    A byte-order mark is dropped.
    """
    return decode_text(read_inside(path, root), path)


def decode_text(data: bytes, path: Path) -> str:
    """Decode UTF-8, or say at which line and byte the file stops being text."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise FormatError(
            f"is not UTF-8 text: invalid byte at offset {exc.start} (line {line})",
            path=path,
        ) from exc


def split_lines(text: str) -> list[str]:
    """Lines as TensorBoard splits them: on ``\\n`` only (a trailing ``\\r`` dropped).

    ``str.splitlines`` would also split on form feeds and Unicode separators that can
    occur inside labels.
    """
    return [line.removesuffix("\r") for line in text.split("\n")]

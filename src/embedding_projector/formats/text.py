"""Reading files with errors a user can act on (missing, unreadable, not text)."""

from __future__ import annotations

import errno
from pathlib import Path

from embedding_projector.errors import FormatError, NotFoundError, ProjectorError


def os_error(path: Path, exc: OSError) -> ProjectorError:
    """Turn an ``OSError`` from opening or reading ``path`` into a clear error."""
    if isinstance(exc, FileNotFoundError):
        return NotFoundError("file not found", path=path)
    if isinstance(exc, IsADirectoryError):
        return FormatError("is a folder, expected a file", path=path)
    if isinstance(exc, PermissionError):
        return ProjectorError("permission denied: make the file readable", path=path)
    reason = exc.strerror or errno.errorcode.get(exc.errno or 0, "") or str(exc)
    return ProjectorError(f"cannot read the file ({reason})", path=path)


def read_bytes(path: Path) -> bytes:
    """The whole file, or a :class:`ProjectorError` naming it."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise os_error(path, exc) from exc


def read_text(path: Path) -> str:
    """The file decoded as UTF-8 (a byte-order mark is dropped)."""
    return decode_text(read_bytes(path), path)


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

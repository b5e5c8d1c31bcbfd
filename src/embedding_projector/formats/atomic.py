"""Atomic file writes: a reader sees the old file or the new one, never half of one.

TensorBoard (or our own server) may be watching a log dir while a script writes into
it; a config or tensor caught mid-write would fail to parse or load wrong values.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from embedding_projector.errors import DISK_FULL, InsufficientStorageError, ProjectorError

Bytes = bytes | bytearray | memoryview


def write_atomic(path: str | os.PathLike[str], data: Bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder.

    The temporary file is flushed to disk and then renamed over ``path`` with
    :func:`os.replace`, which is atomic on POSIX and Windows when both names are
    in the same folder (hence the same file system). The folder must exist.

    Parameters
    ----------
    path
        The file to create or replace.
    data
        The new content; a ``memoryview`` lets large arrays be written without a copy.

    Raises
    ------
    ProjectorError
        If the folder is missing or not writable, or its disk is full
        (:class:`InsufficientStorageError`); ``path`` is then left untouched.
    """
    target = Path(path)
    temporary = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    try:
        # O_EXCL: never write through a file or symlink someone else put there.
        # Mode 0o666 lets the umask decide permissions, as for a plain open().
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, target)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
    except OSError as error:
        if error.errno in DISK_FULL:
            raise InsufficientStorageError(
                "cannot write the file: its disk is full; free some space and try again",
                path=target,
            ) from error
        raise ProjectorError(
            f"cannot write the file: {error.strerror or error}", path=target
        ) from error

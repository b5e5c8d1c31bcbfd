"""Atomic file writes: a reader sees the old file or the new one, never half of one.

TensorBoard (or our own server) may be watching a log dir while a script writes into
it; a config or tensor caught mid-write would fail to parse or load wrong values.

A write goes to ``.<name>.<random>.tmp`` beside the target, then is renamed over it. A
process killed mid-write leaves its temporary file behind; :func:`remove_stale_temporaries`
deletes those. It must never delete the file of a write still in progress in another
process, so a writer holds an exclusive ``flock`` on its temporary file from creation to
rename: the kernel drops the lock when the writer dies, whatever killed it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from embedding_projector.errors import DISK_FULL, InsufficientStorageError, ProjectorError

Bytes = bytes | bytearray | memoryview

#: A temporary file younger than this is left alone even when unlocked: its writer may be
#: between creating it and locking it.
STALE_AFTER = 60.0


def write_atomic(path: str | os.PathLike[str], data: Bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder.

    The temporary file is flushed to disk and then renamed over ``path`` with
    :func:`os.replace`, which is atomic on POSIX when both names are in the same folder
    (hence the same file system). The folder must exist.

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
    try:
        with atomic_writer(path) as file:
            file.write(data)
    except OSError as error:
        if error.errno in DISK_FULL:
            raise InsufficientStorageError(
                "cannot write the file: its disk is full; free some space and try again",
                path=path,
            ) from error
        raise ProjectorError(
            f"cannot write the file: {error.strerror or error}", path=path
        ) from error


@contextlib.contextmanager
def atomic_writer(path: str | os.PathLike[str], *, sync: bool = True) -> Iterator[BinaryIO]:
    """A file to write ``path``'s new content into; renamed over ``path`` on success.

    On an exception (or a kill) ``path`` is left untouched; the temporary file is deleted,
    or left locked-free for :func:`remove_stale_temporaries`. ``sync`` flushes the data to
    disk before the rename (a cache entry that can be recomputed may skip it).

    Raises
    ------
    OSError
        From creating, writing or renaming the temporary file.
    """
    target = Path(path)
    temporary = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    # O_EXCL: never write through a file or symlink someone else put there.
    # Mode 0o666 lets the umask decide permissions, as for a plain open().
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
    try:
        with os.fdopen(fd, "wb") as file:
            fcntl.flock(file.fileno(), fcntl.LOCK_EX)  # "in progress", until closed
            yield file
            file.flush()
            if sync:
                os.fsync(file.fileno())
            os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def remove_stale_temporaries(folder: Path, name: str = "*") -> list[Path]:
    """Delete the temporary files that writes killed midway left in ``folder``.

    Parameters
    ----------
    folder
        Where the writes went.
    name
        A glob of the target names whose temporary files to consider.

    Returns
    -------
    list of Path
        What was deleted: only files older than :data:`STALE_AFTER` whose writer is
        gone (no lock on them). Unreadable folders and files are left alone.
    """
    removed: list[Path] = []
    now = time.time()
    try:
        candidates = list(folder.glob(f".{name}.*.tmp"))
    except OSError:
        return removed
    for temporary in candidates:
        try:
            info = temporary.lstat()
            if not temporary.is_file() or temporary.is_symlink():
                continue
            if now - info.st_mtime < STALE_AFTER:
                continue
        except OSError:
            continue
        if unlink_unless_locked(temporary, os.O_NOFOLLOW):
            removed.append(temporary)
    return removed


def unlink_unless_locked(path: Path, open_flags: int = 0) -> bool:
    """Delete ``path`` under an exclusive ``flock``, unless a process holds a lock on it.

    Returns whether it was deleted; a file that cannot be opened or deleted is left alone.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | open_flags)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        path.unlink(missing_ok=True)  # still holding the lock: no one can be using it
    except OSError:  # BlockingIOError: in use; or no longer ours to delete
        return False
    finally:
        os.close(fd)
    return True

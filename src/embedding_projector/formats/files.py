"""Opening the user's files: inside the opened folder, checked on the file actually opened.

A path named by a configuration is checked when the log dir is opened, but the file can
be replaced by a symlink to anywhere afterwards. So every read of a user file opens it
here: :func:`open_inside` resolves the path, opens the real file without following a
symlink put there since (``O_NOFOLLOW``), and asks the kernel where the opened
descriptor really is (``/proc/self/fd``) before a byte is read. Symlinks that stay
inside the root are fine. Only regular files are read: a FIFO or a device named by a
config would block or never end.

Reads at an offset use ``pread`` on the opened descriptor: a file cut short meanwhile
gives a short read, which is an error here, never the ``SIGBUS`` a memory map of it
would raise.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from embedding_projector.errors import (
    FileChangedError,
    FormatError,
    NotFoundError,
    PathOutsideLogdirError,
    ProjectorError,
)

_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_NONBLOCK", 0)  # opening a FIFO must not wait for a writer
    | getattr(os, "O_CLOEXEC", 0)
)
_PROC_FD = Path("/proc/self/fd")


def os_error(path: str | os.PathLike[str], exc: OSError) -> ProjectorError:
    """Turn an ``OSError`` from opening or reading ``path`` into a clear error."""
    if isinstance(exc, FileNotFoundError):
        return NotFoundError("file not found", path=path)
    if isinstance(exc, IsADirectoryError):
        return FormatError("is a folder, expected a file", path=path)
    if isinstance(exc, PermissionError):
        return ProjectorError("permission denied: make the file readable", path=path)
    if exc.errno == errno.ELOOP:
        return FormatError("is a symlink loop (a link that leads back to itself)", path=path)
    reason = exc.strerror or errno.errorcode.get(exc.errno or 0, "") or str(exc)
    return ProjectorError(f"cannot read the file ({reason})", path=path)


@dataclass(frozen=True)
class FileIdentity:
    """What says a file is still the one that was opened: same inode, size and mtime."""

    device: int
    inode: int
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, info: os.stat_result) -> FileIdentity:
        """The identity in a ``stat`` result."""
        return cls(info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)

    def check(self, now: os.stat_result, path: str | os.PathLike[str]) -> None:
        """Raise :class:`FileChangedError` when ``now`` is not this file as it was."""
        current = FileIdentity.of(now)
        if current == self:
            return
        if (current.device, current.inode) != (self.device, self.inode):
            what = "it was replaced by another file"
        elif current.size != self.size:
            what = f"it was {self.size:,} bytes and is now {current.size:,}"
        else:
            what = "it was modified"
        raise FileChangedError(
            f"changed since it was opened ({what}); open it again to read the new content "
            "(restart the server, or call open() again)",
            path=path,
        )


def real_path(path: str | os.PathLike[str], *, missing_ok: bool = False) -> Path:
    """``path`` with every symlink resolved.

    Parameters
    ----------
    path
        The path as named.
    missing_ok
        Return the resolved path of a file that does not exist (yet) instead of raising.

    Raises
    ------
    FormatError
        The path holds a NUL byte, or a symlink on it leads back to itself.
    NotFoundError
        It does not exist (and ``missing_ok`` is false), or is a dangling symlink.
    """
    text = os.fspath(path)
    if "\0" in text:
        raise FormatError("has a NUL byte in its path", path=text)
    try:
        return Path(os.path.realpath(text, strict=True))
    except FileNotFoundError:
        if missing_ok:
            return Path(os.path.realpath(text))
        if os.path.islink(text):
            target = os.readlink(text)
            raise NotFoundError(
                f"is a symlink to {target}, which does not exist", path=text
            ) from None
        raise NotFoundError("file not found", path=text) from None
    except OSError as exc:
        raise os_error(text, exc) from None


def check_inside(path: str | os.PathLike[str], real: Path, root: Path) -> None:
    """Refuse ``real`` (what ``path`` resolves to) unless it lies inside ``root`` (a real path)."""
    if not real.is_relative_to(root):
        raise PathOutsideLogdirError(
            f"resolves to {real}, outside the opened folder {root}; only files inside it are "
            "read (move the file inside, or open a folder that contains both)",
            path=path,
        )


class OpenedFile:
    """A user file opened by :func:`open_inside`: a binary file object and its identity.

    A context manager; closing it closes the descriptor.
    """

    def __init__(self, path: Path, fd: int, identity: FileIdentity) -> None:
        self.path = path
        """The path as named (for messages)."""
        self.identity = identity
        self.file: BinaryIO = os.fdopen(fd, "rb")

    def __enter__(self) -> OpenedFile:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.file.close()

    def fileno(self) -> int:
        """The descriptor."""
        return self.file.fileno()

    def check_unchanged(self, expected: FileIdentity) -> None:
        """Raise :class:`FileChangedError` unless the opened file is still ``expected``."""
        expected.check(os.fstat(self.fileno()), self.path)

    def read_all(self) -> bytes:
        """The whole file (as long as it is now)."""
        try:
            return self.file.read()
        except OSError as exc:
            raise os_error(self.path, exc) from exc

    def pread(self, offset: int, size: int) -> bytes:
        """Exactly ``size`` bytes at ``offset``; fewer means the file was cut short."""
        data = bytearray(size)
        self.pread_into(offset, memoryview(data))
        return bytes(data)

    def pread_into(self, offset: int, buffer: memoryview) -> None:
        """Fill ``buffer`` with the bytes at ``offset``; fewer means the file was cut short."""
        fd, filled, size = self.fileno(), 0, buffer.nbytes
        with buffer.cast("B") as view:
            while filled < size:
                try:
                    count = os.preadv(fd, [view[filled:]], offset + filled)
                except OSError as exc:
                    raise os_error(self.path, exc) from exc
                if count == 0:
                    raise FileChangedError(
                        f"ends at byte {offset + filled:,} but {offset + size:,} bytes were "
                        "expected: it was cut short after it was opened; open it again",
                        path=self.path,
                    )
                filled += count


def open_inside(path: str | os.PathLike[str], root: str | os.PathLike[str] | None) -> OpenedFile:
    """Open a user file for reading, refusing it unless it lies inside ``root``.

    Parameters
    ----------
    path
        The file, as named (symlinks are followed).
    root
        The folder it must be inside (the opened log dir); ``None`` to open the file as
        named wherever it is (a path the user gave directly).

    Raises
    ------
    PathOutsideLogdirError
        The file, or the file actually opened, lies outside ``root``.
    FormatError
        A NUL byte in the path, a symlink loop, or not a regular file.
    NotFoundError
        No such file, or a dangling symlink.
    ProjectorError
        It cannot be read.
    """
    named = Path(os.fspath(path))
    real = real_path(named)
    real_root = None if root is None else real_path(root)
    if real_root is not None:
        check_inside(named, real, real_root)
    try:
        fd = os.open(real, _OPEN_FLAGS)
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # replaced by a symlink since it was resolved
            raise FileChangedError(
                "was replaced by a symlink while it was being opened; try again", path=named
            ) from None
        raise os_error(named, exc) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
            raise FormatError(f"is {kind}, expected a file", path=named)
        if real_root is not None:
            check_inside(named, _opened_path(fd, real), real_root)
        os.set_blocking(fd, True)
        return OpenedFile(named, fd, FileIdentity.of(info))
    except BaseException:
        os.close(fd)
        raise


def _opened_path(fd: int, real: Path) -> Path:
    """Where the descriptor ``fd`` really points, as the kernel says.

    A folder on the way may have been swapped for a symlink between resolving the path
    and opening it (``O_NOFOLLOW`` only guards the last component); the kernel's answer
    covers every component. Without ``/proc`` (macOS), the opened file must be the one
    ``real`` names now.
    """
    try:
        return Path(os.readlink(_PROC_FD / str(fd)))
    except OSError:
        opened, named = os.fstat(fd), os.stat(real)
        if (opened.st_dev, opened.st_ino) != (named.st_dev, named.st_ino):
            raise FileChangedError(
                "was replaced while it was being opened; try again", path=real
            ) from None
        return real


def read_inside(path: str | os.PathLike[str], root: str | os.PathLike[str] | None) -> bytes:
    """The whole file, opened by :func:`open_inside`."""
    with open_inside(path, root) as opened:
        return opened.read_all()

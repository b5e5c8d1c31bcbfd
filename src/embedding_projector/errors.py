"""The one exception hierarchy of the package.

Every error a user can cause (a bad file, a bad parameter, a missing path) is a
:class:`ProjectorError`. Its message names the file, the place in it and what to
do; the CLI prints it on one line and the server renders it as JSON with
``status``. Anything else that escapes is a bug.

A message is always one readable line: characters that are not printable (a newline,
a NUL, the raw bytes of a binary file a library quoted back) are escaped, so a
corrupt file can never write its bytes into a terminal or a log.
"""

from __future__ import annotations

import errno
from os import PathLike

DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})
"""``OSError.errno`` values meaning that the disk (or the user's quota on it) is full."""

#: How much of a library's own message is quoted in ours (see :func:`quote_exception`).
QUOTE_LIMIT = 200


def one_line(text: str) -> str:
    """``text`` with every non-printable character escaped (``\\n``, ``\\x00``, ``\\udc80``)."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


def quote_text(text: str, limit: int = QUOTE_LIMIT) -> str:
    """``text`` (e.g. a library's message) escaped to one line and cut at ``limit`` characters.

    Libraries quote the bytes they failed on; those of a random file can be anything.
    """
    text = one_line(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def quote_exception(exc: BaseException, limit: int = QUOTE_LIMIT) -> str:
    """A library's exception as a short readable clause: ``ValueError: bad header``."""
    text = quote_text(str(exc), limit)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class ProjectorError(Exception):
    """Base class: a problem the user can act on.

    Parameters
    ----------
    message
        One sentence saying what is wrong and, where it helps, what to do.
    path
        The file concerned; it is prefixed to the message.
    detail
        Optional extra context (e.g. the low-level reason) kept out of the headline.
    """

    status: int = 400
    code: str = "projector_error"

    def __init__(
        self,
        message: str,
        *,
        path: str | PathLike[str] | None = None,
        detail: str | None = None,
    ) -> None:
        self.path = None if path is None else one_line(str(path))
        self.message = one_line(message)
        self.detail = None if detail is None else one_line(detail)
        super().__init__(f"{self.path}: {self.message}" if self.path else self.message)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"


class FormatError(ProjectorError):
    """A file exists but its content is not what its format requires."""

    status = 422
    code = "format_error"


class ChecksumError(FormatError):
    """Stored bytes do not match their checksum: the file is corrupt."""

    code = "checksum_mismatch"


class FileChangedError(ProjectorError):
    """A file changed (re-saved, truncated, replaced) after it was opened.

    Raised instead of reading the new bytes through the old layout (or a memory map of
    a shorter file, which would crash the process); reopening the file is the remedy.
    """

    status = 409
    code = "file_changed"


class UnsupportedFormatError(ProjectorError):
    """A file of a kind (or a variant of a format) this package cannot read."""

    status = 415
    code = "unsupported_format"


class NotFoundError(ProjectorError):
    """A file, run, embedding, tensor or job that was asked for does not exist."""

    status = 404
    code = "not_found"


class PathOutsideLogdirError(ProjectorError):
    """A path named by a configuration resolves outside the opened root."""

    status = 403
    code = "path_outside_logdir"


class InvalidParameterError(ProjectorError):
    """A parameter value is out of range or malformed."""

    status = 400
    code = "invalid_parameter"


class InsufficientStorageError(ProjectorError):
    """The disk a file is being written to is full."""

    status = 507
    code = "insufficient_storage"


class MissingDependencyError(ProjectorError):
    """An optional package is needed for this input; the message gives the install command."""

    status = 501
    code = "missing_dependency"


class ClusterUnavailableError(ProjectorError):
    """The Dask cluster the work was sent to cannot do it (its scheduler is lost)."""

    status = 503
    code = "cluster_unavailable"


class RangeNotSatisfiableError(InvalidParameterError):
    """A byte range outside the resource."""

    status = 416
    code = "range_not_satisfiable"

"""The one exception hierarchy of the package.

Every error a user can cause (a bad file, a bad parameter, a missing path) is a
:class:`ProjectorError`. Its message names the file, the place in it and what to
do; the CLI prints it on one line and the server renders it as JSON with
``status``. Anything else that escapes is a bug.
"""

from __future__ import annotations

import errno
from os import PathLike

DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})
"""``OSError.errno`` values meaning that the disk (or the user's quota on it) is full."""


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
        self.path = None if path is None else str(path)
        self.message = message
        self.detail = detail
        super().__init__(f"{self.path}: {message}" if self.path else message)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"


class FormatError(ProjectorError):
    """A file exists but its content is not what its format requires."""

    status = 422
    code = "format_error"


class ChecksumError(FormatError):
    """Stored bytes do not match their checksum: the file is corrupt."""

    code = "checksum_mismatch"


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


class RangeNotSatisfiableError(InvalidParameterError):
    """A byte range outside the resource."""

    status = 416
    code = "range_not_satisfiable"

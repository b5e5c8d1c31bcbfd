"""Resolving paths named by a configuration, and keeping them inside the opened root."""

from __future__ import annotations

import os
from pathlib import Path

from embedding_projector.errors import PathOutsideLogdirError, ProjectorError
from embedding_projector.formats.files import real_path


def resolve_inside(raw: str, *, base: Path, root: Path, field: str) -> Path:
    """Resolve ``raw`` (``~`` expanded, relative to ``base``) and require it inside ``root``.

    Symlinks are followed before the check, so a link cannot lead outside the root; the
    file is checked again when it is opened (see :func:`..formats.files.open_inside`).
    A file that does not exist (yet) resolves as far as it can.

    Raises
    ------
    PathOutsideLogdirError
        When the real path is outside ``root``.
    FormatError
        A NUL byte in ``raw``, or a symlink loop on the way.
    """
    path = Path(os.path.expanduser(raw))
    try:
        real = real_path(path if path.is_absolute() else base / path, missing_ok=True)
    except ProjectorError as exc:
        raise type(exc)(f"`{field}` {exc.message}", path=exc.path) from None
    if not real.is_relative_to(real_path(root)):
        raise PathOutsideLogdirError(
            f"`{field}` {raw!r} resolves to {real}, outside the opened folder {root}; "
            "only files inside it are read (move the file inside, or open a folder that "
            "contains both)"
        )
    return real


def run_name(folder: Path, root: Path) -> str:
    """A run's name: its folder relative to the root, ``"."`` for the root itself."""
    return folder.relative_to(root).as_posix() if folder != root else "."

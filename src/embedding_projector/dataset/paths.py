"""Resolving paths named by a configuration, and keeping them inside the opened root."""

from __future__ import annotations

import os
from pathlib import Path

from embedding_projector.errors import PathOutsideLogdirError


def resolve_inside(raw: str, *, base: Path, root: Path, field: str) -> Path:
    """Resolve ``raw`` (``~`` expanded, relative to ``base``) and require it inside ``root``.

    Symlinks are followed before the check, so a link cannot lead outside the root.

    Raises
    ------
    PathOutsideLogdirError
        When the real path is outside ``root``.
    """
    path = Path(os.path.expanduser(raw))
    real = (path if path.is_absolute() else base / path).resolve()
    if not real.is_relative_to(root.resolve()):
        raise PathOutsideLogdirError(
            f"`{field}` {raw!r} resolves to {real}, outside the opened folder {root}; "
            "only files inside it are read (move the file inside, or open a folder that "
            "contains both)"
        )
    return real


def run_name(folder: Path, root: Path) -> str:
    """A run's name: its folder relative to the root, ``"."`` for the root itself."""
    return folder.relative_to(root).as_posix() if folder != root else "."

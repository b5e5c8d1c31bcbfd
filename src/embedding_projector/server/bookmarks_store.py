"""Where the page's bookmarks are saved: a file of our own naming, never the user's file.

A config's ``bookmarks_path`` is the user's file: it is read, never written. What the
page saves goes to ``embedding_projector.bookmarks.<id>.json`` beside the data, or,
when that folder is read-only (or the user's config names that very file as its
``bookmarks_path``), to the user cache dir. Our file is read like any user file: inside
the opened folder, checked on the file actually opened.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from embedding_projector.dataset.model import Embedding
from embedding_projector.errors import ProjectorError
from embedding_projector.formats.atomic import remove_stale_temporaries, write_atomic
from embedding_projector.formats.bookmarks import read_bookmarks
from embedding_projector.formats.files import real_path

_READ_ONLY = (errno.EACCES, errno.EPERM, errno.EROFS)


def _file_name(emb_id: str) -> str:
    return f"embedding_projector.bookmarks.{emb_id}.json"


def _cache_path(folder: Path, emb_id: str, cache_dir: Path) -> Path:
    key = hashlib.blake2b(str(folder.resolve()).encode(), digest_size=8).hexdigest()
    return cache_dir / "bookmarks" / key / _file_name(emb_id)


def _places(embedding: Embedding, emb_id: str, cache_dir: Path) -> list[tuple[Path, Path]]:
    """Where our file may be, in order, each with the folder it must be read inside.

    Beside the data, unless the user's own bookmarks file is that very file: it is theirs.
    """
    folder = embedding.source.path.parent
    cached = _cache_path(folder, emb_id, cache_dir)
    places = [(cached, cache_dir / "bookmarks")]
    beside = folder / _file_name(emb_id)
    if not _is_users_file(beside, embedding):
        places.insert(0, (beside, embedding.root))
    return places


def _is_users_file(path: Path, embedding: Embedding) -> bool:
    if embedding.bookmarks_path is None:
        return False
    try:
        users = real_path(embedding.bookmarks_path, missing_ok=True)
        return real_path(path, missing_ok=True) == users
    except ProjectorError:  # a symlink loop on the way: certainly not a place to write
        return True


def saved_path(embedding: Embedding, emb_id: str, cache_dir: Path) -> Path | None:
    """Our saved bookmarks file for this embedding, if one exists."""
    for path, _ in _places(embedding, emb_id, cache_dir):
        if path.is_file():
            return path
    return None


def load(embedding: Embedding, emb_id: str, cache_dir: Path) -> list[dict[str, Any]]:
    """What the page saved last, else the config's bookmarks file (TensorBoard's format)."""
    for path, root in _places(embedding, emb_id, cache_dir):
        if path.is_file():
            return read_bookmarks(path, root=root)
    return embedding.bookmarks


def _writable(folder: Path) -> bool:
    """Whether to write in ``folder``: allowed, and not marked read-only by its mode bits.

    ``os.access`` says yes to root everywhere; a folder without any write bit was made
    read-only on purpose (a shared log dir), so root leaves it alone too.
    """
    try:
        return os.access(folder, os.W_OK) and bool(folder.stat().st_mode & 0o222)
    except OSError:  # gone (a deleted log dir): save in the cache dir
        return False


def save(embedding: Embedding, emb_id: str, cache_dir: Path, states: list[dict[str, Any]]) -> Path:
    """Write atomically beside the data, or in the cache dir when that is read-only."""
    data = json.dumps(states, ensure_ascii=False).encode()
    *preferred, (fallback, _) = _places(embedding, emb_id, cache_dir)
    for target, _ in preferred:
        if _writable(target.parent):
            try:
                write_atomic(target, data)
                return target
            except ProjectorError as exc:
                cause = exc.__cause__
                if not isinstance(cause, OSError) or cause.errno not in _READ_ONLY:
                    raise
    fallback.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(fallback, data)
    return fallback


def remove_stale_saves(embeddings: Iterable[tuple[str, Embedding]], cache_dir: Path) -> None:
    """Delete what saves killed midway left behind (never a save still in progress)."""
    for emb_id, embedding in embeddings:
        for path, _ in _places(embedding, emb_id, cache_dir):
            remove_stale_temporaries(path.parent, path.name)

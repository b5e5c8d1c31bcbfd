"""Where the page's bookmarks are saved: a file of our own naming, never the user's file.

A config's ``bookmarks_path`` is the user's file: it is read, never written. What the
page saves goes to ``embedding_projector.bookmarks.<id>.json`` beside the data, or,
when that folder is read-only, to the user cache dir.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from embedding_projector.dataset.model import Embedding
from embedding_projector.formats.atomic import write_atomic
from embedding_projector.formats.bookmarks import read_bookmarks


def _file_name(emb_id: str) -> str:
    return f"embedding_projector.bookmarks.{emb_id}.json"


def _cache_path(folder: Path, emb_id: str, cache_dir: Path) -> Path:
    key = hashlib.blake2b(str(folder.resolve()).encode(), digest_size=8).hexdigest()
    return cache_dir / "bookmarks" / key / _file_name(emb_id)


def saved_path(embedding: Embedding, emb_id: str, cache_dir: Path) -> Path | None:
    """Our saved bookmarks file for this embedding, if one exists."""
    folder = embedding.source.path.parent
    for path in (folder / _file_name(emb_id), _cache_path(folder, emb_id, cache_dir)):
        if path.is_file():
            return path
    return None


def load(embedding: Embedding, emb_id: str, cache_dir: Path) -> list[dict[str, Any]]:
    """What the page saved last, else the config's bookmarks file (TensorBoard's format)."""
    path = saved_path(embedding, emb_id, cache_dir)
    return embedding.bookmarks if path is None else read_bookmarks(path)


def _writable(folder: Path) -> bool:
    """Whether to write in ``folder``: allowed, and not marked read-only by its mode bits.

    ``os.access`` says yes to root everywhere; a folder without any write bit was made
    read-only on purpose (a shared log dir), so root leaves it alone too.
    """
    return os.access(folder, os.W_OK) and bool(folder.stat().st_mode & 0o222)


def save(embedding: Embedding, emb_id: str, cache_dir: Path, states: list[dict[str, Any]]) -> Path:
    """Write atomically beside the data, or in the cache dir when that is read-only."""
    folder = embedding.source.path.parent
    data = json.dumps(states, ensure_ascii=False).encode()
    target = folder / _file_name(emb_id)
    if _writable(folder):
        try:
            write_atomic(target, data)
            return target
        except OSError as exc:
            if exc.errno not in (errno.EACCES, errno.EPERM, errno.EROFS):
                raise
    fallback = _cache_path(folder, emb_id, cache_dir)
    fallback.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(fallback, data)
    return fallback

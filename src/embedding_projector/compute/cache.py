"""Results on disk, keyed by content and parameters, in a size-capped LRU directory.

Layout of the cache directory (``platformdirs.user_cache_dir("embedding-projector")``,
or ``$EMBEDDING_PROJECTOR_CACHE_DIR``)::

    results/<key>.npz    one result: array "result" and a JSON "meta" string
    vectors/<hash>.npy   vectors shared with the worker processes by memory map
    numba/               numba's compiled-code cache

Every write goes to a temporary file in the same directory, then ``os.replace``:
readers in other processes see a whole file or none. A file that fails to load
(truncated, corrupt) is deleted and treated as missing. When the total size
passes ``max_bytes``, the least recently used files go first (a read touches
the file's mtime); shared vectors still in use are kept, and not counted.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from embedding_projector.compute.hashing import content_hash
from embedding_projector.user_cache import default_cache_dir

#: Default size cap of the cache directory.
DEFAULT_MAX_BYTES = 2 * 1024**3


def result_key(parts: dict[str, Any]) -> str:
    """A stable key for a result: a hash of ``parts`` as canonical JSON."""
    canonical = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:40]


class ResultCache:
    """Size-capped, process-safe store of projection results and shared vectors.

    Parameters
    ----------
    directory
        Root directory; created if missing. Default: :func:`default_cache_dir`.
    max_bytes
        Size cap of ``results/`` and ``vectors/`` together, the vectors in use left out.
    """

    def __init__(self, directory: str | Path | None = None, *, max_bytes: int = DEFAULT_MAX_BYTES):
        self.directory = Path(directory) if directory is not None else default_cache_dir()
        self.max_bytes = int(max_bytes)
        self.results_dir = self.directory / "results"
        self.vectors_dir = self.directory / "vectors"
        for folder in (self.results_dir, self.vectors_dir):
            folder.mkdir(parents=True, exist_ok=True)

    # -- results -------------------------------------------------------------

    def get(self, key: str) -> tuple[np.ndarray, dict[str, Any]] | None:
        """The cached ``(result, meta)`` for ``key``, or None (also for a corrupt file)."""
        path = self.results_dir / f"{key}.npz"
        try:
            # Open the file ourselves: np.load leaks its handle on a corrupt archive.
            with path.open("rb") as file, np.load(file, allow_pickle=False) as archive:
                result = archive["result"]
                meta = json.loads(str(archive["meta"]))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
            path.unlink(missing_ok=True)
            return None
        _touch(path)
        return result, meta

    def put(self, key: str, result: np.ndarray, meta: dict[str, Any] | None = None) -> None:
        """Store ``result`` (and JSON-able ``meta``) under ``key``, atomically, then evict."""
        array, text = np.ascontiguousarray(result), np.array(json.dumps(meta or {}))
        _write_atomic(
            self.results_dir / f"{key}.npz", lambda f: np.savez(f, result=array, meta=text)
        )
        self.evict()

    # -- shared vectors ------------------------------------------------------

    def store_vectors(self, X: np.ndarray) -> tuple[str, Path]:
        """Write float32 ``X`` once under its content hash; returns ``(hash, path)``."""
        key = content_hash(X)
        path = self.vectors_path(key)
        if _is_valid_npy(path, X.shape):
            _touch(path)
        else:
            array = np.ascontiguousarray(X, dtype=np.float32)
            _write_atomic(path, lambda f: np.save(f, array))
        return key, path

    def vectors_path(self, key: str) -> Path:
        """Where the vectors of content hash ``key`` are stored."""
        return self.vectors_dir / f"{key}.npy"

    # -- size cap ------------------------------------------------------------

    def evict(self, *, keep_vectors: Iterable[Path] | None = None) -> None:
        """Delete least recently used files until the cache fits in ``max_bytes``.

        Shared vectors are deleted only when ``keep_vectors`` is given (by the
        manager that registered them, which names those still in use); a
        worker storing a result evicts results only.
        """
        protected = None if keep_vectors is None else {Path(p) for p in keep_vectors}
        entries = []
        for folder in (self.results_dir, self.vectors_dir):
            for path in folder.iterdir():
                if path.name.startswith("."):  # a write in progress
                    continue
                if path.parent == self.vectors_dir and (protected is None or path in protected):
                    # Vectors in use cannot go, so they do not count: ten million points
                    # alone take more than the cap, and their results must still be kept.
                    continue
                try:
                    info = path.stat()
                except FileNotFoundError:  # evicted meanwhile by another process
                    continue
                entries.append((info.st_mtime, info.st_size, path))
        total = sum(size for _, size, _ in entries)
        for _, size, path in sorted(entries):
            if total <= self.max_bytes:
                break
            path.unlink(missing_ok=True)
            total -= size


def _write_atomic(path: Path, write: Any) -> None:
    """Write through ``write(file)`` to a temporary file, then rename it over ``path``."""
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            write(file)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _is_valid_npy(path: Path, shape: tuple[int, ...]) -> bool:
    """True if ``path`` is a whole float32 ``.npy`` of ``shape``."""
    try:
        array = np.load(path, mmap_mode="r")
    except (OSError, ValueError):
        return False
    return bool(array.shape == shape and array.dtype == np.float32)


def _touch(path: Path) -> None:
    """Mark ``path`` as recently used."""
    with contextlib.suppress(OSError):
        os.utime(path)

"""Results on disk, keyed by content and parameters, in a size-capped LRU directory.

Layout of the cache directory (``platformdirs.user_cache_dir("embedding-projector")``,
or ``$EMBEDDING_PROJECTOR_CACHE_DIR``)::

    results/<key>.npz    one result: array "result" and a JSON "meta" string
    vectors/<hash>.npy   vectors shared with the worker processes by memory map
    tables/<hash>.arrow  parsed big metadata files (formats/parsed_cache.py, its own LRU)
    numba/               numba's compiled-code cache

Every write goes to a temporary file in the same directory, then ``os.replace``:
readers in other processes see a whole file or none, and a file is never changed
in place (so a memory map of it stays valid). Temporary files of writes killed
midway are removed when a cache is opened. A file that fails to load (truncated,
corrupt) is deleted and treated as missing. When the total size passes
``max_bytes``, the least recently used files go first (a read touches the file's
mtime); shared vectors still in use are kept, and not counted. In use means
registered by this process's manager (``keep_vectors``) or held by any process:
every process that stores or finds a vectors file keeps a shared ``flock`` on it
for as long as it lives, and eviction deletes a vectors file only under an
exclusive one. Two servers sharing a cache dir never delete each other's vectors.

A shared-vectors file is named by the hash of its content, and that is checked
before one found on disk is used: a file damaged or replaced behind our back is
written again, never trusted.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import threading
import zipfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from embedding_projector.compute.hashing import content_hash, hash_blocks, row_blocks
from embedding_projector.errors import FileChangedError, ProjectorError
from embedding_projector.formats.atomic import (
    atomic_writer,
    remove_stale_temporaries,
    unlink_unless_locked,
)
from embedding_projector.formats.npy import npy_layout
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
            remove_stale_temporaries(folder)
        # Vectors files whose content this process hashed: their identity then, and key.
        self._verified: dict[Path, tuple[tuple[int, int, int, int], str]] = {}
        self._verified_lock = threading.Lock()
        # Vectors files this process uses: a descriptor each, with a shared flock on it.
        self._held: dict[Path, int] = {}

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
        with atomic_writer(self.results_dir / f"{key}.npz", sync=False) as file:
            np.savez(file, result=array, meta=text)
        self.evict()

    # -- shared vectors ------------------------------------------------------

    def store_vectors(self, X: np.ndarray) -> tuple[str, Path]:
        """Write float32 ``X`` once under its content hash; returns ``(hash, path)``."""
        key = content_hash(X)
        return key, self._stored(key, X.shape, lambda: row_blocks(X))

    def store_vector_blocks(
        self, shape: tuple[int, int], blocks: Callable[[], Iterable[np.ndarray]]
    ) -> tuple[str, Path]:
        """Write vectors given as blocks of rows once under their content hash.

        ``blocks()`` yields consecutive float32 row blocks; it is called once to hash them
        and, when no valid copy is stored yet, a second time to write them. Memory stays
        at one block.

        Raises
        ------
        FileChangedError
            When the two passes read different content (the source changed meanwhile).
        ProjectorError
            From ``blocks`` itself.
        """
        key = hash_blocks(shape, blocks())
        return key, self._stored(key, shape, blocks)

    def _stored(
        self, key: str, shape: tuple[int, ...], blocks: Callable[[], Iterable[np.ndarray]]
    ) -> Path:
        """The vectors file of ``key``: the one found if it holds that content, else written."""
        path = self.vectors_path(key)
        if self._holds(path, key, shape):
            _touch(path)
            self._remember(path, key)  # as touched: a later change is seen by its mtime
            return path
        with atomic_writer(path, sync=False) as file:
            header = {"descr": "<f4", "fortran_order": False, "shape": tuple(shape)}
            np.lib.format.write_array_header_1_0(file, header)
            if hash_blocks(shape, _written(file, blocks())) != key:
                raise FileChangedError(
                    "the vectors changed while they were being copied for the workers; "
                    "open them again"
                )
        self._remember(path, key)
        return path

    def _holds(self, path: Path, key: str, shape: tuple[int, ...]) -> bool:
        """Whether ``path`` is a float32 ``.npy`` of ``shape`` whose content hashes to ``key``.

        Read with ``pread``, never mapped: whatever is found there is not trusted yet.
        """
        try:
            with self._verified_lock:
                if self._verified.get(path) == (_identity(path.stat()), key):
                    return True
            stored = npy_layout(path)
            if stored.shape != tuple(shape) or stored.dtype != np.dtype("<f4"):
                return False
            return hash_blocks(shape, stored.row_blocks()) == key
        except (OSError, ProjectorError):
            return False

    def _remember(self, path: Path, key: str) -> None:
        with contextlib.suppress(OSError), self._verified_lock:
            self._verified[path] = (_identity(path.stat()), key)
            self._hold(path)

    def _hold(self, path: Path) -> None:
        """Keep a shared lock on the file now at ``path`` (under ``_verified_lock``)."""
        held = self._held.get(path)
        if held is not None:
            if os.fstat(held).st_ino == path.stat().st_ino:
                return
            os.close(held)  # the file was replaced: hold the new one
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        fcntl.flock(fd, fcntl.LOCK_SH)
        self._held[path] = fd

    def vectors_path(self, key: str) -> Path:
        """Where the vectors of content hash ``key`` are stored."""
        return self.vectors_dir / f"{key}.npy"

    # -- size cap ------------------------------------------------------------

    def evict(self, *, keep_vectors: Iterable[Path] | None = None) -> None:
        """Delete least recently used files until the cache fits in ``max_bytes``.

        Shared vectors are deleted only when ``keep_vectors`` is given (by the
        manager that registered them, which names those still in use: the others
        are no longer held by this process), and never while another process holds
        them; a worker storing a result evicts results only.
        """
        protected = None if keep_vectors is None else {Path(p) for p in keep_vectors}
        if protected is not None:  # what this process no longer uses, it no longer holds
            with self._verified_lock:
                for path in [p for p in self._held if p not in protected]:
                    os.close(self._held.pop(path))
        entries = []
        for folder in (self.results_dir, self.vectors_dir):
            for path in folder.iterdir():
                if path.name.startswith("."):  # a write in progress
                    continue
                if path.parent == self.vectors_dir and (
                    protected is None or path in protected or _held_elsewhere(path)
                ):
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
            if path.parent == self.vectors_dir:
                unlink_unless_locked(path)
            else:
                path.unlink(missing_ok=True)
            total -= size


def _held_elsewhere(path: Path) -> bool:
    """Whether some process (this one too, through :meth:`ResultCache._hold`) uses ``path``."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # releases the lock taken, if any
    return False


def _identity(info: os.stat_result) -> tuple[int, int, int, int]:
    """What says a file is still the one that was hashed."""
    return info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns


def _written(file: BinaryIO, blocks: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
    """Write each block to ``file`` as float32 as it passes, and pass it on."""
    for block in blocks:
        data = np.ascontiguousarray(block, dtype="<f4")
        file.write(data.data)
        yield data


def _touch(path: Path) -> None:
    """Mark ``path`` as recently used."""
    with contextlib.suppress(OSError):
        os.utime(path)

"""Big text tables parsed once: the parsed table kept in the user cache as Arrow IPC.

Parsing the ten-million-row metadata TSV of the ``large`` demo costs ~10 s at every start;
reading back its parsed table costs 0.1 s. An entry is named by a hash of the parser's name
and version and the identity of the opened file (device, inode, size, mtime and ctime in
ns: ctime cannot be set back by a user, so a rewritten file is a new entry even when its
size and mtime were kept). The file is still opened, and its confinement checked, at every
read (:func:`.files.open_inside`); only its parse is skipped.

Files under :data:`MIN_BYTES` are parsed every time (in milliseconds). A cache that cannot
be written (read-only, full) is skipped: the table is the same, only the next start slower.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.ipc as ipc
import xxhash

from embedding_projector.formats.atomic import atomic_writer
from embedding_projector.formats.files import OpenedFile
from embedding_projector.user_cache import default_cache_dir

log = logging.getLogger(__name__)

Parse = Callable[[bytes], pa.Table]
"""A parser: the file's bytes to its table."""

#: Smaller files are parsed at every read.
MIN_BYTES = 16 * 2**20
#: The parsed tables kept, at most (the least recently read go first; the newest stays).
MAX_CACHE_BYTES = 4 * 2**30


def parsed_once(opened: OpenedFile, parser: str, parse: Parse) -> pa.Table:
    """``parse(opened's bytes)``, or the table it gave for this very file before.

    ``parser`` names the parser and the version of its rules (``"metadata-tsv/1"``): a
    change of the rules must change it, so that tables parsed by the old rules are not used.
    """
    info = os.fstat(opened.fileno())
    if info.st_size < MIN_BYTES:
        return parse(opened.read_all())
    folder = default_cache_dir() / "tables"
    entry = folder / f"{xxhash.xxh3_128_hexdigest(repr((parser, *_identity(info))).encode())}.arrow"
    table = _read(entry)
    if table is not None:
        return table
    table = parse(opened.read_all())
    if _identity(os.fstat(opened.fileno())) != _identity(info):
        return table  # changed while it was read: not kept under the identity it had
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with atomic_writer(entry, sync=False) as file, ipc.new_file(file, table.schema) as out:
            out.write_table(table)
        _evict(folder, keep=entry)
    except OSError as exc:
        log.info("could not keep the parsed table of %s in %s: %s", opened.path, folder, exc)
    return table


def _identity(info: os.stat_result) -> tuple[int, ...]:
    """What tells this file's content from any other's, short of reading it."""
    return info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns


def _read(entry: Path) -> pa.Table | None:
    """The table kept in ``entry`` (marked as just used), or None (also for a damaged one)."""
    try:
        with pa.OSFile(str(entry)) as file:  # read, not mapped: a map of a file cut short
            table = ipc.open_file(file).read_all()  # would crash the process
        os.utime(entry)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except (OSError, pa.ArrowInvalid) as exc:
        log.info("parsed table %s is unreadable (%s); parsing again", entry, exc)
        with contextlib.suppress(OSError):
            entry.unlink(missing_ok=True)
        return None
    return table


def _evict(folder: Path, *, keep: Path) -> None:
    """Remove the least recently used tables until they fit in :data:`MAX_CACHE_BYTES`."""
    entries = []
    for path in folder.glob("*.arrow"):
        try:
            info = path.stat()
        except FileNotFoundError:  # another process evicted it
            continue
        entries.append((info.st_mtime_ns, info.st_size, path))
    total = sum(size for _, size, _ in entries)
    for _, size, path in sorted(entries):
        if total <= MAX_CACHE_BYTES:
            break
        if path != keep:
            path.unlink(missing_ok=True)
            total -= size

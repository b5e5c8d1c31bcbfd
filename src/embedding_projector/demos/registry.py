"""The demos by name, and :func:`prepare_demo`, which builds one into the cache once.

A demo is built in a hidden folder beside its final place and renamed into place
only when complete, with a fingerprint file written last: a build that is
interrupted (Ctrl-C, a full disk, a killed process) is never mistaken for a demo.
The fingerprint hashes the source of the modules that generate the demo, so a
changed generator (or, for ``words``, another Python and so another corpus)
rebuilds it on next use.
"""

from __future__ import annotations

import hashlib
import os
import platform
import secrets
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from embedding_projector.demos import digits, large, stdlib_text, words
from embedding_projector.errors import InvalidParameterError, ProjectorError
from embedding_projector.user_cache import default_cache_dir

FINGERPRINT_NAME = ".demo-fingerprint"
"""Written last into a built demo: its presence and content say the demo is complete and current."""

# Older than this, a hidden build folder is left over from a killed build (the
# largest demo builds in seconds), not one that another process is writing now.
_ABANDONED_AFTER_SECONDS = 3600


@dataclass(frozen=True)
class Demo:
    """A built-in demo dataset."""

    name: str
    description: str
    """One line, for a list of demos."""
    size: str
    """``"N × D"``, as the projector shows it."""
    build: Callable[..., None]
    """Writes the log dir into an empty folder: ``build(folder, progress)``, and
    ``n_points=rows`` for a demo of :attr:`rows`."""
    modules: tuple[ModuleType, ...]
    """The modules whose code decides the bytes written."""
    inputs: str = ""
    """What else decides them, such as the Python version whose library is read."""
    projection: str = "pca"
    """What the page shows first: the projection that shows this demo best in seconds."""
    rows: int | None = None
    """The default number of points of a demo that can be built at other sizes
    (``projector demo NAME --rows N``); None for a demo of a fixed size."""
    max_rows: int | None = None
    """The most points it can be built with."""


DEMOS: dict[str, Demo] = {
    demo.name: demo
    for demo in (
        Demo(
            name="digits",
            description="scikit-learn's handwritten digits (8×8 pixels), the images as sprites",
            size=f"{digits.N_DIGITS:,} × {digits.DIMENSIONS}",
            build=digits.write_digits,
            modules=(digits,),
            projection="tsne",  # ten islands form within seconds, live
        ),
        Demo(
            name="words",
            description="word vectors trained here on the docs and comments of Python's library",
            size=f"{words.VOCABULARY_SIZE:,} × {words.DIMENSIONS}",
            build=words.write_words,
            modules=(words, stdlib_text),
            inputs=f"Python {platform.python_version()}",
        ),
        Demo(
            name="large",
            description="a million synthetic points in clusters, sub-clusters and curves",
            size=f"{large.N_POINTS:,} × {large.DIMENSIONS}",
            build=large.write_large,
            modules=(large,),
            rows=large.N_POINTS,
            max_rows=large.MAX_POINTS,
        ),
    )
}
"""The demos, by name."""


def prepare_demo(
    name: str,
    *,
    rows: int | None = None,
    cache_dir: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Build a demo's log dir unless it is already in the cache; return its path.

    Parameters
    ----------
    name
        One of :data:`DEMOS`: ``digits``, ``words`` or ``large``.
    rows
        The number of points, for a demo that can be built at other sizes (``large``:
        ``10_000_000`` builds ten million points of the same clusters); default its own.
    cache_dir
        Where demos are kept, under ``demos/<name>``; by default the user cache dir
        (``EMBEDDING_PROJECTOR_CACHE_DIR`` when set).
    progress
        Called with a line of text at each step of a build.

    Returns
    -------
    Path
        The log dir: open it with :func:`embedding_projector.open`, or in TensorBoard.

    Raises
    ------
    InvalidParameterError
        If ``name`` is not a demo, or ``rows`` is given to a demo of a fixed size or is
        out of range.
    ProjectorError
        If the demo cannot be written (the message names the folder).
    """
    demo = DEMOS.get(name)
    if demo is None:
        raise InvalidParameterError(f"`name` must be one of {', '.join(DEMOS)}; got {name!r}")
    rows = _checked_rows(demo, rows)
    root = (default_cache_dir() if cache_dir is None else Path(cache_dir)) / "demos"
    folder_name = name if rows == demo.rows else f"{name}-{rows}"
    target = root / folder_name
    fingerprint = demo_fingerprint(demo, rows)
    if _fingerprint_of(target) == fingerprint:
        return target
    report = progress or _silent
    started = time.perf_counter()
    try:
        root.mkdir(parents=True, exist_ok=True)
        _remove_abandoned(root, folder_name)
        staging = root / f".{folder_name}.{secrets.token_hex(4)}.tmp"
        staging.mkdir()
        try:
            if rows is None:
                demo.build(staging, report)
            else:
                demo.build(staging, report, n_points=rows)
            (staging / FINGERPRINT_NAME).write_text(fingerprint + "\n", encoding="utf-8")
            _install(staging, target, fingerprint)
        finally:
            shutil.rmtree(staging, ignore_errors=True)  # gone already once installed
    except OSError as error:
        raise ProjectorError(
            f"cannot write the {name} demo: {error.strerror or error}", path=target
        ) from error
    report(f"{name}: ready in {time.perf_counter() - started:.1f} s at {target}")
    return target


def _checked_rows(demo: Demo, rows: int | None) -> int | None:
    """The number of points to build ``demo`` with (None for a demo of a fixed size)."""
    if rows is None:
        return demo.rows
    if demo.rows is None or demo.max_rows is None:
        sized = ", ".join(d.name for d in DEMOS.values() if d.rows is not None)
        raise InvalidParameterError(
            f"the {demo.name} demo has a fixed size; `rows` applies to {sized}"
        )
    if not 1 <= rows <= demo.max_rows:
        raise InvalidParameterError(
            f"`rows` of the {demo.name} demo must be within 1..{demo.max_rows:,}, got {rows:,}"
        )
    return rows


def demo_fingerprint(demo: Demo, rows: int | None = None) -> str:
    """A hash of what decides a demo's bytes: its generators' source, its inputs and size."""
    size = "" if rows is None or rows == demo.rows else f"rows {rows}\n"
    digest = hashlib.sha256(f"{demo.name}\n{demo.inputs}\n{size}".encode())
    for module in demo.modules:
        digest.update(Path(str(module.__file__)).read_bytes())
    return digest.hexdigest()


def _silent(message: str) -> None:
    """Progress that reports nothing."""


def _fingerprint_of(folder: Path) -> str | None:
    """The fingerprint of a built demo; None for a missing or unfinished folder."""
    try:
        return (folder / FINGERPRINT_NAME).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None


def _install(staging: Path, target: Path, fingerprint: str) -> None:
    """Rename a complete build into place, moving an outdated one aside first."""
    if _fingerprint_of(target) == fingerprint:
        return  # another process built the same demo meanwhile: keep the one in use
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.{secrets.token_hex(4)}.old")
        os.replace(target, old)
    try:
        os.replace(staging, target)
    except OSError:
        # Another process installed the same demo since the check above: use its copy.
        if _fingerprint_of(target) != fingerprint:
            raise
    if old is not None:
        # A server may still read the old files: POSIX keeps them until it lets go;
        # elsewhere what cannot be removed now is removed as abandoned later.
        shutil.rmtree(old, ignore_errors=True)


def _remove_abandoned(root: Path, name: str) -> None:
    """Delete hidden build folders of ``name`` left behind by killed builds."""
    now = time.time()
    for folder in root.glob(f".{name}.*"):
        try:
            abandoned = now - folder.stat().st_mtime > _ABANDONED_AFTER_SECONDS
        except OSError:
            continue  # removed by another process meanwhile
        if abandoned:
            shutil.rmtree(folder, ignore_errors=True)

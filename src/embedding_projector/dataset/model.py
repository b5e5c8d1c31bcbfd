"""What :func:`embedding_projector.open` returns: a workspace of runs of embeddings.

Everything heavy is loaded lazily and once: listing a log dir reads only
headers (checkpoint indexes, ``.npy`` headers, Parquet footers); ``vectors``,
``metadata``, ``bookmarks`` and ``steps`` are read on first access.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pyarrow as pa

from embedding_projector.dataset.steps import Step, StepSpec
from embedding_projector.errors import ProjectorError
from embedding_projector.formats.rows import RowFile


class TensorSource(Protocol):
    """Where an embedding's vectors come from (a checkpoint tensor, a file, an array)."""

    @property
    def path(self) -> Path:
        """The file that holds the vectors (a checkpoint prefix for checkpoints)."""
        ...

    @property
    def shape(self) -> tuple[int, int]:
        """``(N, D)``; cheap for binary formats, may parse the file for text formats."""
        ...

    @property
    def dtype(self) -> str:
        """The element type as stored, e.g. ``"float32"``, ``"float64"``, ``"bfloat16"``."""
        ...

    def read(self) -> np.ndarray:
        """The vectors as a C-contiguous float32 ``(N, D)`` array, memory-mapped where possible.

        Read once; every later call checks that a mapped file is unchanged
        (:class:`~embedding_projector.errors.FileChangedError` otherwise).
        """
        ...

    def blocks(self) -> Iterator[np.ndarray]:
        """The vectors as float32 blocks of consecutive rows, never memory-mapping a file.

        What a long-lived process (the server) reads: a file cut short while mapped would
        crash it, while here it is a :class:`~embedding_projector.errors.FileChangedError`.
        A block may be overwritten by the next one: use or copy it before the next.
        """
        ...

    @property
    def rows(self) -> RowFile | None:
        """Where other processes (Dask workers) read row ranges of the file themselves."""
        ...


@dataclass(frozen=True)
class Sprite:
    """A sprite atlas: thumbnails of ``single_image_dim`` in row-major order."""

    image_path: Path
    single_image_dim: tuple[int, int]
    """Width and height of one thumbnail, in pixels."""
    image_size: tuple[int, int]
    """Width and height of the whole atlas, in pixels."""
    root: Path | None = None
    """The folder the image must be inside when it is read (``None``: wherever it is)."""

    @property
    def grid(self) -> tuple[int, int]:
        """Columns and rows of thumbnails in the atlas."""
        (w, h), (width, height) = self.single_image_dim, self.image_size
        return width // w, height // h

    @property
    def capacity(self) -> int:
        """How many thumbnails the atlas holds."""
        columns, rows = self.grid
        return columns * rows


class Embedding:
    """One embedding: ``N`` vectors of ``D`` dimensions, with their metadata, sprite and bookmarks.

    Parameters
    ----------
    name
        Display name (``embedding`` for ``embedding/.ATTRIBUTES/VARIABLE_VALUE``).
    tensor_name
        The full name config entries match: the checkpoint key or the config's ``tensor_name``.
    run
        Name of the run: its folder relative to the opened root (``"."`` for the root).
    source
        Where the vectors are read from.
    root
        The folder every file of the embedding must be inside when it is opened (the
        opened log dir, or the folder of a file opened directly).
    load_metadata
        Called with ``N``; returns the metadata table fitted to ``N`` rows and its warnings.
        ``None`` means no metadata file: the table is a single ``index`` column.
    metadata_path
        The metadata file, if any.
    load_bookmarks
        Called to read the bookmarks; ``None`` means none.
    bookmarks_path
        The bookmarks file, if any.
    sprite
        The sprite atlas, if any.
    warnings
        Problems already found while opening (e.g. a refused asset path).
    load_steps
        Lists the steps of a training timeline (:mod:`.steps`), one of them the
        ``default`` (``source``); ``None`` means a single step, ``source`` itself.

    Notes
    -----
    A loader that raises :class:`ProjectorError` does not make the embedding unusable: the
    error becomes a warning and the fallback (row numbers, no bookmarks) is used.
    """

    def __init__(
        self,
        *,
        name: str,
        tensor_name: str,
        run: str,
        source: TensorSource,
        root: Path,
        load_metadata: Callable[[int], tuple[pa.Table, list[str]]] | None = None,
        metadata_path: Path | None = None,
        load_bookmarks: Callable[[], list[dict[str, Any]]] | None = None,
        bookmarks_path: Path | None = None,
        sprite: Sprite | None = None,
        warnings: list[str] | None = None,
        load_steps: Callable[[], list[StepSpec]] | None = None,
    ) -> None:
        self.name = name
        self.tensor_name = tensor_name
        self.run = run
        self.source = source
        self.root = root
        self.metadata_path = metadata_path
        self.bookmarks_path = bookmarks_path
        self.sprite = sprite
        self._load_metadata = load_metadata
        self._load_bookmarks = load_bookmarks
        self._warnings = list(warnings or [])
        self._load_steps = load_steps
        self._steps: tuple[Step, ...] | None = None
        self._lock = threading.RLock()

    def __repr__(self) -> str:
        return (
            f"Embedding(run={self.run!r}, name={self.name!r}, "
            f"shape={self.shape}, dtype={self.dtype!r})"
        )

    def replace_metadata(
        self, path: Path, load: Callable[[int], tuple[pa.Table, list[str]]]
    ) -> None:
        """Use another metadata file (e.g. one given on the command line)."""
        self.metadata_path = path
        self._load_metadata = load
        self.__dict__.pop("_metadata", None)  # drop what the cached property holds

    @property
    def shape(self) -> tuple[int, int]:
        """``(N, D)``."""
        return self.source.shape

    @property
    def dtype(self) -> str:
        """The element type as stored (vectors are always served as float32)."""
        return self.source.dtype

    @property
    def vectors(self) -> np.ndarray:
        """float32 ``(N, D)``, memory-mapped where the file allows; read once.

        A mapped file that changed since it was opened (re-saved, truncated) raises
        :class:`~embedding_projector.errors.FileChangedError` here, on every access:
        open it again to see the new content. An array already taken from here still maps
        the old file; as with ``np.load(mmap_mode="r")``, cutting that file short while
        the array is in use crashes the process.
        """
        with self._lock:  # threads may ask at the same time: read once
            return self.source.read()

    @property
    def steps(self) -> tuple[Step, ...]:
        """The states this embedding was saved in while training, oldest first (:mod:`.steps`).

        One step (the embedding's own vectors) unless the log dir holds several
        checkpoints or ``add_embedding`` steps of it. Listing reads headers only.
        """
        with self._lock:  # a server's threads may ask at the same time: list once
            if self._steps is None:
                self._steps = self._list_steps()
            return self._steps

    def _list_steps(self) -> tuple[Step, ...]:
        specs = (
            self._load_steps()
            if self._load_steps is not None
            else [StepSpec(None, self.name, self.source.path, lambda: self.source, True)]
        )
        reference = next(spec.label for spec in specs if spec.default), self.shape
        return tuple(
            Step(
                spec,
                position=position,
                reference=reference,
                # The default step is this embedding's vectors: read them once, not twice.
                read=(lambda _: self.vectors) if spec.default else _read_source,
            )
            for position, spec in enumerate(specs)
        )

    @functools.cached_property
    def _metadata(self) -> tuple[pa.Table, list[str]]:
        n = self.shape[0]
        index = pa.table({"index": pa.array(np.arange(n, dtype=np.int64))})
        if self._load_metadata is None:
            return index, []
        try:
            return self._load_metadata(n)
        except ProjectorError as exc:
            return index, [f"{exc} Showing row numbers instead."]

    @property
    def metadata(self) -> pa.Table:
        """One row per vector; a single ``index`` column when there is no (usable) metadata."""
        return self._metadata[0]

    @functools.cached_property
    def _bookmarks(self) -> tuple[list[dict[str, Any]], list[str]]:
        if self._load_bookmarks is None:
            return [], []
        try:
            return self._load_bookmarks(), []
        except ProjectorError as exc:
            return [], [f"{exc} No bookmarks loaded."]

    @property
    def bookmarks(self) -> list[dict[str, Any]]:
        """Saved states, as TensorBoard's JSON objects (SPEC §2.7)."""
        return self._bookmarks[0]

    @property
    def warnings(self) -> list[str]:
        """Everything questionable found while opening; reads metadata and bookmarks."""
        return [*self._warnings, *self._metadata[1], *self._bookmarks[1]]


def _read_source(source: TensorSource) -> np.ndarray:
    return source.read()


@dataclass
class Run:
    """A folder of the opened root that holds embeddings."""

    name: str
    """Path relative to the opened root; ``"."`` for the root itself."""
    path: Path
    embeddings: list[Embedding] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    """Problems of the run as a whole (no checkpoint found, a tensor that failed to open)."""


@dataclass
class Workspace:
    """Everything found under one opened path."""

    root: Path
    runs: list[Run] = field(default_factory=list)

    def __iter__(self) -> Iterator[Embedding]:
        """Every embedding of every run, in order."""
        for run in self.runs:
            yield from run.embeddings

    @property
    def embeddings(self) -> list[Embedding]:
        """Every embedding of every run, in order."""
        return list(self)

"""The steps of an embedding: the states it was saved in while a model trained.

Two kinds of log dir hold several states of one embedding, and each becomes one
embedding with ``steps`` instead of several unrelated ones:

- **TensorFlow checkpoints.** Every checkpoint of the folder that holds the run's
  checkpoint (those its ``checkpoint`` state file lists in
  ``all_model_checkpoint_paths``, and every ``*.index`` file beside it) that has the
  embedding's tensor is a step of it, numbered by the number TensorFlow appends
  (``ckpt-3`` is step 3, ``model.ckpt-1000`` step 1000). A checkpoint whose index
  cannot be read (missing, corrupt, outside the opened folder) is listed as an
  unavailable step: it may well hold the tensor.
- **``add_embedding(..., global_step=s)``** of PyTorch and tensorboardX: config entries
  named ``tag:NNNNN`` with a ``tensor_path`` (folders ``00000/tag/``, ``00100/tag/``, …)
  are the steps of one embedding named ``tag``, when there are two or more of them. A
  single ``tag:00000`` stays an embedding of that name, as TensorBoard lists it.

The embedding's own vectors (its ``default`` step) are those TensorBoard shows: the
latest checkpoint, or the latest ``add_embedding`` step (the latest one that can be
read). Listing steps reads only headers (checkpoint indexes); a step's vectors are
read when asked for. Steps of another shape than the default one are listed but not
``alignable``: a different number of rows means other points, a different number of
dimensions leaves no common basis.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from embedding_projector.errors import ProjectorError

if TYPE_CHECKING:
    from embedding_projector.dataset.model import TensorSource

_STEP_TENSOR_NAME = re.compile(r"(?P<tag>.+):(?P<step>\d+)")


def split_step_name(tensor_name: str) -> tuple[str, int] | None:
    """``("words", 100)`` for ``add_embedding``'s tensor name ``"words:00100"``."""
    match = _STEP_TENSOR_NAME.fullmatch(tensor_name)
    return None if match is None else (match.group("tag"), int(match.group("step")))


@dataclass(frozen=True)
class StepSpec:
    """A step as found while listing; nothing of it has been read yet.

    Attributes
    ----------
    number
        The training step (``global_step``) or checkpoint number, if known.
    label
        How the user knows it: the checkpoint's name or the tensor's name.
    path
        The checkpoint prefix or the tensor file.
    open
        Reads the step's header; raises :class:`ProjectorError` when it cannot.
    default
        Whether this is the embedding's own source (its default step).
    """

    number: int | None
    label: str
    path: Path
    open: Callable[[], TensorSource]
    default: bool = False


class Step:
    """One saved state of an embedding: a checkpoint, or one ``add_embedding`` step.

    Everything is read on first use and once: the header for ``shape``, ``dtype``,
    ``available``, ``alignable`` and ``message``; the vectors for ``vectors``.

    Attributes
    ----------
    position
        Index in ``embedding.steps`` (0 = oldest).
    number
        The training step (``global_step``) or the checkpoint number, or ``None``.
    label
        The checkpoint's name (``ckpt-3``) or the tensor's name (``words:00100``).
    path
        The checkpoint prefix or the tensor file.
    default
        Whether these are the embedding's own vectors (the latest step, as TensorBoard
        shows it).
    """

    def __init__(
        self,
        spec: StepSpec,
        *,
        position: int,
        reference: tuple[str, tuple[int, int]],
        read: Callable[[TensorSource], np.ndarray],
    ) -> None:
        self.position = position
        self.number = spec.number
        self.label = spec.label
        self.path = spec.path
        self.default = spec.default
        self._open = spec.open
        self._reference = reference
        self._read = read
        self._lock = threading.RLock()
        self._opened = False
        self._source: TensorSource | None = None
        self._error: ProjectorError | None = None

    def __repr__(self) -> str:
        return (
            f"Step(position={self.position}, number={self.number}, label={self.label!r}, "
            f"shape={self.shape}, available={self.available})"
        )

    def _header(self) -> TensorSource | None:
        with self._lock:
            if not self._opened:
                try:
                    self._source = self._open()
                    self._source.shape  # noqa: B018 - a text file is parsed to know it
                except ProjectorError as exc:
                    self._source, self._error = None, exc
                self._opened = True
            return None if self._error is not None else self._source

    @property
    def available(self) -> bool:
        """Whether the step can be read: its header could, and its vectors (once read) too."""
        return self._header() is not None

    @property
    def shape(self) -> tuple[int, int] | None:
        """``(N, D)``, or ``None`` when the header cannot be read."""
        source = self._header()
        return None if source is None else source.shape

    @property
    def dtype(self) -> str | None:
        """The element type as stored, or ``None`` when the header cannot be read."""
        source = self._header()
        return None if source is None else source.dtype

    @property
    def alignable(self) -> bool:
        """Whether the step has the shape of the default step, so rows are the same points."""
        return self.shape == self._reference[1]

    @property
    def message(self) -> str | None:
        """The reader's message when unavailable, why it is not alignable, else ``None``."""
        shape = self.shape
        if shape is None:
            return str(self._error)
        label, reference = self._reference
        if shape == reference:
            return None
        (n, d), (ref_n, ref_d) = shape, reference
        why = (
            "its rows are not the same points"
            if n != ref_n
            else f"vectors of {d} and of {ref_d} dimensions share no axes"
        )
        return (
            f"{self.label} is {n:,} × {d} but {label} is {ref_n:,} × {ref_d}: {why}, so it "
            "cannot be aligned with the other steps"
        )

    @property
    def vectors(self) -> np.ndarray:
        """float32 ``(N, D)``, memory-mapped where the file allows; read once.

        As :attr:`Embedding.vectors`: a mapped file that changed since it was opened
        raises :class:`~embedding_projector.errors.FileChangedError` on every access.

        Raises
        ------
        ProjectorError
            The reader's error when the step is unavailable; a step whose vectors fail to
            read (a corrupt data file) is unavailable from then on.
        """
        return self.read_with(self._read)

    def read_with(self, read: Callable[[TensorSource], np.ndarray]) -> np.ndarray:
        """The vectors as ``read`` gets them from the step's source (the server reads
        without a memory map); errors as for :attr:`vectors`."""
        with self._lock:
            source = self._header()
            if source is None:
                assert self._error is not None
                raise self._error
            try:
                return read(source)
            except ProjectorError as exc:
                self._error = exc
                raise

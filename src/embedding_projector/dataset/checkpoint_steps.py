"""Embeddings in a TensorFlow checkpoint, and their steps in the checkpoints beside it.

Which tensors of a checkpoint are embeddings, and how the other checkpoints of the run's
folder (those its ``checkpoint`` state file lists, and every ``*.index`` file there)
become the steps of each embedding (:mod:`.steps`).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np

from embedding_projector.dataset.checkpoints import (
    INDEX_SUFFIX,
    STATE_FILE,
    checkpoint_number,
    checkpoint_prefixes,
    prefix_exists,
)
from embedding_projector.dataset.steps import StepSpec
from embedding_projector.errors import FormatError, NotFoundError, ProjectorError
from embedding_projector.formats.arrays import ArraySource
from embedding_projector.formats.stored import StoredArray
from embedding_projector.formats.tf_checkpoint import CheckpointReader, TensorInfo

OPTIMIZER_SLOT = ".OPTIMIZER_SLOT"


def is_embedding(key: str, shape: tuple[int, ...], dtype: str) -> bool:
    """A non-empty 2-D tensor of real numbers that is not an optimizer slot."""
    return (
        len(shape) == 2
        and min(shape) > 0
        and OPTIMIZER_SLOT not in key
        and dtype not in ("string", "complex64", "complex128")
    )


def array_source(reader: CheckpointReader, info: TensorInfo) -> ArraySource:
    """The vectors of a 2-D tensor of the checkpoint, read on demand as float32.

    An unsliced tensor stays where it is stored (mapped, or read with ``pread``: see
    :class:`ArraySource`); a partitioned one is joined in memory.
    """
    shape = (int(info.shape[0]), int(info.shape[1]))
    return ArraySource(reader.prefix, shape, info.dtype, _reader_of(reader, info.name))


def _reader_of(reader: CheckpointReader, key: str) -> Callable[[], np.ndarray | StoredArray]:
    return lambda: reader.locate(key)


class CheckpointSteps:
    """The checkpoints beside a run's checkpoint, as steps of its embeddings.

    Parameters
    ----------
    prefix
        The run's checkpoint, whose tensors are the embeddings (their default step).
    reader
        Its reader, already open.
    resolve
        Resolves a path the state file names, refusing one outside the opened folder
        (:func:`.paths.resolve_inside` with the run's folders bound).
    root
        The opened folder: every file of a step is opened inside it.

    Each other index is read once, on the first listing of any embedding's steps; a
    checkpoint that does not hold the embedding's tensor (another model's) is not one
    of its steps.
    """

    def __init__(
        self,
        prefix: Path,
        reader: CheckpointReader,
        resolve: Callable[[str, str], Path],
        root: Path,
    ) -> None:
        self._prefix = prefix
        self._resolve = resolve
        self._root = root
        self._readers: dict[Path, CheckpointReader | ProjectorError] = {prefix.resolve(): reader}
        self._lock = threading.Lock()

    def specs(self, key: str, source: ArraySource) -> list[StepSpec]:
        """The steps of tensor ``key``, whose vectors in the run's checkpoint are ``source``."""
        specs = []
        for prefix in checkpoint_prefixes(self._prefix.parent, self._root):
            number, label = checkpoint_number(prefix), prefix.name
            reader = self._reader(prefix)
            if prefix.resolve() == self._prefix.resolve():
                specs.append(StepSpec(number, label, prefix, lambda: source, default=True))
            elif isinstance(reader, ProjectorError):
                specs.append(StepSpec(number, label, prefix, functools.partial(_raise, reader)))
            elif key in reader.variables():
                opener = functools.partial(_step_source, reader, reader.variables()[key])
                specs.append(StepSpec(number, label, prefix, opener))
        return specs

    def _reader(self, prefix: Path) -> CheckpointReader | ProjectorError:
        with self._lock:
            key = prefix.resolve()
            if key not in self._readers:
                try:
                    self._resolve(f"{prefix}{INDEX_SUFFIX}", "all_model_checkpoint_paths")
                    if not prefix_exists(prefix):  # only the state file names it
                        raise NotFoundError(
                            f"lists checkpoint {prefix.name}, but {prefix.name}{INDEX_SUFFIX} "
                            "does not exist beside it (deleted, or not copied along?)",
                            path=prefix.parent / STATE_FILE,
                        )
                    self._readers[key] = CheckpointReader(prefix, root=self._root)
                except ProjectorError as exc:
                    self._readers[key] = exc
            return self._readers[key]


def _raise(error: ProjectorError) -> ArraySource:
    raise error


def _step_source(reader: CheckpointReader, info: TensorInfo) -> ArraySource:
    """The tensor in another checkpoint of the run, if it is an embedding there too."""
    if not is_embedding(info.name, info.shape, info.dtype):
        raise FormatError(
            f"tensor {info.name!r} is {info.dtype} of shape {list(info.shape)} in this "
            "checkpoint, not a 2-D tensor of numbers",
            path=reader.prefix,
        )
    return array_source(reader, info)

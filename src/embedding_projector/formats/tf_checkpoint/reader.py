"""Reading TensorFlow V2 checkpoints ("tensor bundles") without TensorFlow.

A checkpoint ``<prefix>`` is an index, ``<prefix>.index`` (a LevelDB table mapping each
tensor name to where its bytes are), and data shards ``<prefix>.data-SSSSS-of-NNNNN``
holding the raw little-endian tensor bytes. See ``CHECKPOINT_FORMAT.md``.

The index is parsed and validated whole when the reader is created; tensor bytes are
memory-mapped on :meth:`CheckpointReader.read`, and their CRC32C is verified every time.
Every file is opened inside the reader's ``root`` (see :mod:`..files`), data shards too.
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

import numpy as np

from embedding_projector.errors import (
    FormatError,
    NotFoundError,
    UnsupportedFormatError,
)
from embedding_projector.formats.files import FileIdentity, open_inside
from embedding_projector.formats.stored import StoredArray

from .dtypes import DT_BFLOAT16, DT_STRING, dtype_name, storage_dtype, to_numpy
from .index import CheckpointIndex, describe_box, load_index
from .wire import BundleEntry

_DATA_FILE = re.compile(r"(.*)\.data-\d{5,}-of-\d{5,}")


def prefix_of(path: str | PathLike[str]) -> Path:
    """The checkpoint prefix named by a prefix, its ``.index`` file or one of its data files.

    Parameters
    ----------
    path
        ``model.ckpt-1``, ``model.ckpt-1.index`` or ``model.ckpt-1.data-00000-of-00001``.

    Returns
    -------
    Path
        ``model.ckpt-1`` in all three cases.
    """
    path = Path(path)
    if path.name.endswith(".index"):
        return path.with_name(path.name.removesuffix(".index"))
    match = _DATA_FILE.fullmatch(path.name)
    return path.with_name(match.group(1)) if match else path


@dataclass(frozen=True)
class TensorInfo:
    """What the index says about one tensor, without reading it."""

    name: str
    dtype: str
    """As stored: ``"float32"``, ``"float64"``, ``"float16"``, ``"bfloat16"``, ``"int64"``, ..."""
    shape: tuple[int, ...]
    partitioned: bool = False
    """Stored as slices (a partitioned TF1 or sharded TF2 variable), joined on read."""


class CheckpointReader:
    """A TensorFlow V2 checkpoint, opened for reading.

    Parameters
    ----------
    prefix
        The checkpoint prefix (``logs/embedding.ckpt-1``), or its ``.index`` or data file.
    root
        The folder its files must be inside when they are opened (the opened log dir);
        ``None`` reads them wherever the prefix names them.

    Raises
    ------
    NotFoundError
        There is no ``<prefix>.index``.
    FormatError
        The index is truncated or corrupt (:class:`ChecksumError` for a bad block CRC).
    UnsupportedFormatError
        A compressed index, a big-endian checkpoint, or one needing a newer reader.

    Examples
    --------
    >>> reader = CheckpointReader("logs/embedding.ckpt-1")  # doctest: +SKIP
    >>> reader.variables()["embedding/.ATTRIBUTES/VARIABLE_VALUE"].shape  # doctest: +SKIP
    (999, 16)
    >>> vectors = reader.read_float32("embedding/.ATTRIBUTES/VARIABLE_VALUE")  # doctest: +SKIP
    """

    def __init__(self, prefix: str | PathLike[str], *, root: Path | None = None) -> None:
        self.prefix = prefix_of(prefix)
        self.root = root
        self.index_path = Path(f"{self.prefix}.index")
        self._index: CheckpointIndex = load_index(self.index_path, root)

    def __repr__(self) -> str:
        return f"CheckpointReader({str(self.prefix)!r})"

    @property
    def num_shards(self) -> int:
        """How many data files the checkpoint has."""
        return self._index.num_shards

    def data_path(self, shard: int) -> Path:
        """The data file of shard number ``shard``: ``<prefix>.data-0000K-of-0000N``."""
        return Path(f"{self.prefix}.data-{shard:05d}-of-{self.num_shards:05d}")

    def variables(self) -> dict[str, TensorInfo]:
        """Every tensor of the checkpoint, in key order (slices of partitioned ones hidden).

        Returns
        -------
        dict[str, TensorInfo]
            Name, stored dtype and shape of each tensor, keyed by name.
        """
        return {
            name: TensorInfo(name, dtype_name(entry.dtype), entry.shape or (), bool(entry.slices))
            for name, entry in self._index.entries.items()
        }

    def read(self, name: str) -> np.ndarray:
        """Read a tensor in its stored dtype and shape, CRC32C checked.

        An unsliced tensor is returned as a read-only view of the memory-mapped data file:
        no copy is made, whatever its size, and pages are loaded as they are touched (the
        CRC check touches them all once). Copy the array to modify it. A partitioned tensor
        is joined into a new array. bfloat16, which numpy lacks, is returned as float32.

        As with any memory map, truncating the data file while the array is in use makes
        the process crash (SIGBUS). TensorFlow never does so: it writes a checkpoint to new
        files and renames them, which leaves mapped files intact. To read without a map
        (as the server does), use :meth:`locate`.

        Parameters
        ----------
        name
            The tensor's key, e.g. ``"embedding/.ATTRIBUTES/VARIABLE_VALUE"``.

        Returns
        -------
        numpy.ndarray
            The tensor.

        Raises
        ------
        NotFoundError
            No such tensor, or its data file is missing.
        ChecksumError
            The stored bytes do not match their CRC32C.
        FormatError
            The tensor lies past the end of its data file, or its slices do not fit together.
        UnsupportedFormatError
            A string or other non-numeric tensor.
        """
        located = self.locate(name)
        if isinstance(located, StoredArray):
            return to_numpy(located.map(), self._index.entries[name].dtype)
        return located

    def locate(self, name: str) -> StoredArray | np.ndarray:
        """Where an unsliced tensor's bytes lie, or a partitioned tensor joined in memory.

        The stored array is not read yet: map it (:meth:`StoredArray.map`, as :meth:`read`
        does) or read it with ``pread`` (:meth:`StoredArray.row_blocks`), which a data
        file cut short meanwhile cannot turn into a crash. Slices are read with ``pread``.

        Raises
        ------
        As :meth:`read`.
        """
        entry = self._index.entries.get(name)
        if entry is None:
            hint = _suggest(name, list(self._index.entries))
            raise NotFoundError(f"the checkpoint has no tensor {name!r}{hint}", path=self.prefix)
        dtype = storage_dtype(entry.dtype)
        if dtype is None:
            kind = "a string" if entry.dtype == DT_STRING else f"a {dtype_name(entry.dtype)}"
            raise UnsupportedFormatError(
                f"tensor {name!r} is {kind} tensor; only numeric tensors can be read",
                path=self.index_path,
            )
        shape = entry.shape or ()
        # numpy's limits, which a corrupt index can exceed (zero dims do not lift the second).
        if len(shape) > 64 or math.prod(d for d in shape if d) * dtype.itemsize >= 2**63:
            raise UnsupportedFormatError(
                f"tensor {name!r} has shape {shape}: more than numpy's 64 dimensions or 2**63 "
                "bytes",
                path=self.index_path,
            )
        if entry.slices:
            return to_numpy(self._join_slices(name, dtype, shape), entry.dtype)
        return self._stored(f"tensor {name!r}", entry, dtype, shape)

    def read_float32(self, name: str) -> np.ndarray:
        """Read a tensor as float32, without a copy when it is stored as unsliced float32.

        Parameters
        ----------
        name
            The tensor's key.

        Returns
        -------
        numpy.ndarray
            float32, in the stored shape: the memory-mapped view of :meth:`read` when the
            tensor is stored as float32, else a converted copy (integers and float64 are
            rounded to the nearest float32, as TensorBoard serves them).

        Raises
        ------
        UnsupportedFormatError
            A complex tensor (it has no float32 form), or any tensor :meth:`read` refuses.
        """
        array = self.read(name)
        if array.dtype.kind == "c":
            raise UnsupportedFormatError(
                f"tensor {name!r} is {array.dtype.name}; complex numbers have no float32 form",
                path=self.index_path,
            )
        return array if array.dtype == np.float32 else array.astype(np.float32)

    def _stored(
        self, what: str, entry: BundleEntry, dtype: np.dtype[np.generic], shape: tuple[int, ...]
    ) -> StoredArray:
        """Where one stored tensor or slice lies, checked against its data file."""
        path = self.data_path(entry.shard_id)
        expected = math.prod(shape) * dtype.itemsize
        if entry.size != expected:
            raise FormatError(
                f"{what} is {entry.size} bytes in the index, but shape {shape} of "
                f"{dtype_name(entry.dtype)} takes {expected}; the checkpoint is corrupt",
                path=self.index_path,
            )
        identity = self._data_identity(path)
        _check_range(what, entry.offset, entry.size, identity.size, path)
        return StoredArray(
            path,
            self.root,
            identity,
            entry.offset,
            dtype,
            shape,
            bfloat16=entry.dtype == DT_BFLOAT16,
            crc32c=entry.crc32c,
            what=what,
        )

    def _join_slices(
        self, name: str, dtype: np.dtype[np.generic], shape: tuple[int, ...]
    ) -> np.ndarray:
        """Assemble a partitioned tensor from its slices, after checking they tile it exactly."""
        pieces = self._index.slice_boxes(name, shape)
        stored = [
            self._stored(describe_box(name, box), entry, dtype, tuple(n for _, n in box))
            for box, entry in pieces
        ]
        # Every slice lies in its file and no two share bytes (checked by slice_boxes), so
        # this allocation is bounded by the data actually on disk.
        out = np.empty(shape, dtype)
        for (box, _), piece in zip(pieces, stored, strict=True):
            out[tuple(slice(start, start + n) for start, n in box)] = piece.read()
        return out

    def _data_identity(self, path: Path) -> FileIdentity:
        """Open a data shard (inside the root) to know its identity; a missing one is named."""
        try:
            with open_inside(path, self.root) as opened:
                return opened.identity
        except NotFoundError:
            raise NotFoundError(
                "data file of the checkpoint is missing; copy every "
                f"{path.name.split('.data-')[0]}.data-* file along with the .index file",
                path=path,
            ) from None


def _suggest(name: str, names: list[str]) -> str:
    """``"; did you mean 'x'?"`` for the closest tensor name, matching TF2 keys by object path.

    ``embedding`` and ``embedding:0`` (a graph tensor name) both point to
    ``embedding/.ATTRIBUTES/VARIABLE_VALUE``.
    """
    candidates = {full.split("/.ATTRIBUTES/")[0]: full for full in reversed(names)}
    candidates.update({full: full for full in names})
    close = difflib.get_close_matches(name.removesuffix(":0"), list(candidates), n=1)
    return f"; did you mean {candidates[close[0]]!r}?" if close else ""


def _check_range(what: str, offset: int, size: int, file_size: int, path: Path) -> None:
    """Refuse a tensor that extends past the end of its data file (a truncated copy)."""
    if offset + size > file_size:
        raise FormatError(
            f"{what} at byte offset {offset} ({size} bytes) extends past the end of the data "
            f"file ({file_size} bytes); the file is truncated: copy it again or re-save the "
            "checkpoint",
            path=path,
        )

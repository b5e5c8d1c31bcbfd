"""The parsed ``.index`` of a checkpoint: header, tensor entries, and slices of partitioned tensors.

Everything is decoded and validated when the index is loaded, so a reader that opened
successfully only meets data-file problems (missing, truncated, corrupt) afterwards.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from embedding_projector.errors import (
    FormatError,
    NotFoundError,
    UnsupportedFormatError,
)
from embedding_projector.formats.files import read_inside

from .ordered_code import FULL_EXTENT, decode_slice_key
from .sstable import iter_table
from .wire import BundleEntry, BundleHeader, DecodeError, Extent, parse_entry, parse_header

BUNDLE_VERSION = 1
"""``kTensorBundleVersion``: the format version this reader implements."""

T = TypeVar("T")

Box = tuple[tuple[int, int], ...]
"""A slice of a tensor: ``(start, length)`` for each dimension."""


def _ranges(box: Box) -> str:
    """``[0:30, 0:6]``, numpy's notation for a box."""
    return "[" + ", ".join(f"{start}:{start + length}" for start, length in box) + "]"


def describe_box(name: str, box: Box) -> str:
    """``slice [0:30, 0:6] of tensor 'emb'``, for messages."""
    return f"slice {_ranges(box)} of tensor {name!r}"


@dataclass
class CheckpointIndex:
    """The decoded entries of a ``.index`` file, in key order."""

    path: Path
    num_shards: int
    entries: dict[str, BundleEntry] = field(default_factory=dict)
    """Whole tensors by name; a partitioned tensor's entry lists its ``slices``."""
    slices: dict[str, dict[Box, BundleEntry]] = field(default_factory=dict)
    """Slice entries by tensor name, then by their key's extents (length -1 = full)."""

    def slice_boxes(self, name: str, shape: tuple[int, ...]) -> list[tuple[Box, BundleEntry]]:
        """The slices of partitioned tensor ``name``, checked to tile ``shape`` exactly.

        Raises
        ------
        FormatError
            A listed slice has no entry, does not fit the shape or the dtype, overlaps another,
            or the slices leave a gap.
        """
        full = self.entries[name]
        stored = {_resolve(key, shape): entry for key, entry in self.slices.get(name, {}).items()}
        pieces: list[tuple[Box, BundleEntry]] = []
        for extents in full.slices:
            box = self._box(name, extents, shape)
            entry = stored.get(box)
            if entry is None:
                raise self._error(f"{describe_box(name, box)} is listed but has no entry")
            if entry.dtype != full.dtype or entry.shape != tuple(n for _, n in box):
                raise self._error(
                    f"{describe_box(name, box)} has dtype {entry.dtype} and shape "
                    f"{entry.shape}, which do not match the tensor (dtype {full.dtype})"
                )
            pieces.append((box, entry))
        self._check_tiling(name, shape, pieces)
        return pieces

    def _box(self, name: str, extents: tuple[Extent, ...], shape: tuple[int, ...]) -> Box:
        """Resolve a ``TensorSliceProto`` against the tensor's shape, checking its bounds."""
        if len(extents) != len(shape):
            raise self._error(
                f"a slice of tensor {name!r} has {len(extents)} dimensions, not {len(shape)}"
            )
        box = _resolve(
            tuple((e.start, FULL_EXTENT if e.length is None else e.length) for e in extents),
            shape,
        )
        if any(
            start < 0 or n < 0 or start + n > dim
            for (start, n), dim in zip(box, shape, strict=True)
        ):
            raise self._error(f"{describe_box(name, box)} lies outside its shape {shape}")
        return box

    def _check_tiling(
        self, name: str, shape: tuple[int, ...], pieces: list[tuple[Box, BundleEntry]]
    ) -> None:
        """No two slices overlap (in the tensor or on disk) and together they cover it.

        Sweeps along the first dimension, so the usual partitionings (along one axis, or a
        grid) cost O(k log k) for k slices, not O(k^2).
        """
        active: list[Box] = []  # boxes whose first-dimension range reaches the sweep line
        for box in sorted(box for box, _ in pieces):
            start = box[0][0] if box else 0
            active = [other for other in active if not other or sum(other[0]) > start]
            for other in active:
                if all(s < t + m and t < s + n for (s, n), (t, m) in zip(box, other, strict=True)):
                    raise self._error(
                        f"slices {_ranges(other)} and {_ranges(box)} of tensor {name!r} overlap"
                    )
            active.append(box)
        stored = sorted((e.shard_id, e.offset, e.offset + e.size) for _, e in pieces if e.size)
        for (shard, _, end), (next_shard, next_offset, _) in itertools.pairwise(stored):
            if shard == next_shard and next_offset < end:
                raise self._error(
                    f"two slices of tensor {name!r} share bytes at byte offset {next_offset} "
                    f"of data file {shard}"
                )
        covered = sum(math.prod(n for _, n in box) for box, _ in pieces)
        if covered != math.prod(shape):
            raise self._error(
                f"the slices of tensor {name!r} cover {covered} of its {math.prod(shape)} "
                "elements: a slice is missing from the checkpoint"
            )

    def _error(self, message: str) -> FormatError:
        return FormatError(f"{message}; the checkpoint is corrupt", path=self.path)


def _resolve(key: Box, shape: tuple[int, ...]) -> Box:
    """Replace "whole dimension" lengths (-1) by the actual extent."""
    if len(key) != len(shape):
        return key
    return tuple(
        (start, dim - start if n == FULL_EXTENT else n)
        for (start, n), dim in zip(key, shape, strict=True)
    )


def load_index(path: Path, root: Path | None = None) -> CheckpointIndex:
    """Read, decode and validate a checkpoint's ``.index`` file (opened inside ``root``).

    Raises
    ------
    NotFoundError
        The file does not exist.
    FormatError
        Its content is not a valid tensor-bundle index.
    UnsupportedFormatError
        A compressed or big-endian index, or one needing a newer reader.
    """
    try:
        data = read_inside(path, root)
    except NotFoundError as error:
        if path.exists() or path.is_symlink():  # a dangling symlink says where it leads
            raise
        raise NotFoundError(
            "no checkpoint index here; pass a checkpoint prefix such as `model.ckpt-1` "
            "(the part before `.index`) or its .index file",
            path=path,
        ) from error
    items = iter_table(data, path=path)
    first = next(items, None)
    if first is None or first[0] != b"":
        raise FormatError(
            "the index has no header entry (the empty key); the file is corrupt", path=path
        )
    header = _decode(parse_header, first[1], "the header entry", path)
    _check_header(header, path)
    index = CheckpointIndex(path, header.num_shards)
    for key, value in items:
        if key.startswith(b"\x00"):
            name, box, what = _slice_key(key, path)
            entry = _decode(parse_entry, value, what, path)
            index.slices.setdefault(name, {})[box] = entry
        else:
            name = _name(key, path)
            what = f"tensor {name!r}"
            entry = _decode(parse_entry, value, what, path)
            index.entries[name] = entry
        _check_entry(entry, what, header.num_shards, path)
    return index


def _decode(parse: Callable[[bytes], T], value: bytes, what: str, path: Path) -> T:
    """Run a protobuf decoder, turning its :class:`DecodeError` into a :class:`FormatError`."""
    try:
        return parse(value)
    except DecodeError as error:
        raise FormatError(f"the index entry of {what} is corrupt: {error}", path=path) from None


def _slice_key(key: bytes, path: Path) -> tuple[str, Box, str]:
    """Decode a slice key into the tensor name, the key's extents and a description."""
    try:
        raw_name, box = decode_slice_key(key)
    except DecodeError as error:
        raise FormatError(f"slice key {key[:64]!r} is corrupt: {error}", path=path) from None
    name = _name(raw_name, path)
    return name, box, describe_box(name, box)


def _name(key: bytes, path: Path) -> str:
    """A tensor name: TensorFlow writes them as UTF-8."""
    try:
        return key.decode("utf-8")
    except UnicodeDecodeError:
        raise FormatError(
            f"tensor name {key[:64]!r} is not valid UTF-8; the index is corrupt", path=path
        ) from None


def _check_header(header: BundleHeader, path: Path) -> None:
    """Refuse headers this reader cannot honour."""
    if header.big_endian:
        raise UnsupportedFormatError(
            "the checkpoint was written on a big-endian machine and only little-endian "
            "checkpoints can be read; re-save it on a little-endian (x86, ARM) machine",
            path=path,
        )
    if header.num_shards < 1:
        raise FormatError(
            f"the header declares {header.num_shards} data files; the index is corrupt",
            path=path,
        )
    if header.min_consumer > BUNDLE_VERSION:
        raise UnsupportedFormatError(
            f"the checkpoint needs a reader of bundle format version {header.min_consumer} "
            f"or later (this one reads version {BUNDLE_VERSION})",
            path=path,
        )
    if BUNDLE_VERSION in header.bad_consumers:
        raise UnsupportedFormatError(
            f"the checkpoint declares that readers of bundle format version {BUNDLE_VERSION} "
            "(this one) must not read it",
            path=path,
        )


def _check_entry(entry: BundleEntry, what: str, num_shards: int, path: Path) -> None:
    """Refuse entries whose shape or location cannot be right."""
    problem = None
    if entry.shape is None:
        problem = "has an unknown rank"
    elif any(dim < 0 for dim in entry.shape):
        problem = f"has a negative dimension in its shape {entry.shape}"
    elif not entry.slices and not 0 <= entry.shard_id < num_shards:
        problem = f"is in data file {entry.shard_id}, but the checkpoint has {num_shards}"
    elif entry.offset < 0 or entry.size < 0:
        problem = f"has a negative offset ({entry.offset}) or size ({entry.size})"
    if problem:
        raise FormatError(f"{what} {problem}; the index is corrupt", path=path)

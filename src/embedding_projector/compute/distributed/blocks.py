"""The row blocks of an input on the cluster, read by the workers themselves.

An input is cut into blocks of about :data:`BLOCK_BYTES`; a task that needs a block
reads it from the file with the input's row file (:mod:`embedding_projector.formats.rows`,
a few hundred bytes in the task graph), so the vectors go from storage to the worker
that uses them and nowhere else. A worker that cannot read the file fails its task
with one line naming the worker and the path.

:func:`fingerprint` reads every block once (in parallel on the workers) for the
content key of the result cache (an xxh3-128 of the blocks' xxh3-128 digests), checks
that every value is finite, and checks a checkpoint tensor's CRC32C (each block's CRC,
combined in order, against the one the index stores).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from embedding_projector.errors import ChecksumError, InvalidParameterError, ProjectorError
from embedding_projector.formats.crc import combine, crc32c, mask
from embedding_projector.formats.rows import RowFile, StoredRows

T = TypeVar("T")

#: Bytes of float32 rows per block: 128 MiB (524,288 rows of 64 dimensions).
BLOCK_BYTES = 128 * 2**20


@dataclass(frozen=True)
class Blocks:
    """An input cut into row blocks: ``bounds[i]`` is ``(start, stop)`` of block i."""

    rows: RowFile
    bounds: tuple[tuple[int, int], ...]

    @classmethod
    def of(cls, rows: RowFile, block_bytes: int = BLOCK_BYTES) -> Blocks:
        """Blocks of about ``block_bytes`` of float32 (at least one row each)."""
        n, d = rows.shape
        size = max(1, block_bytes // (4 * d))
        return cls(rows, tuple((s, min(s + size, n)) for s in range(0, n, size)))

    @property
    def shape(self) -> tuple[int, int]:
        """``(N, D)``."""
        return self.rows.shape

    @property
    def chunks(self) -> tuple[tuple[int, ...], tuple[int]]:
        """The row chunks of a ``dask.array`` over the blocks."""
        return tuple(stop - start for start, stop in self.bounds), (self.shape[1],)


def read(rows: RowFile, start: int, stop: int) -> np.ndarray:
    """Rows ``start:stop``, read on a worker; a failure names the worker and the file."""
    return on_worker(lambda: rows.read(start, stop))


def on_worker(task: Callable[[], T]) -> T:
    """Run ``task`` in a worker; a :class:`ProjectorError` or ``OSError`` names the worker."""
    try:
        return task()
    except (ProjectorError, OSError) as error:
        raise ProjectorError(f"Dask worker {worker_address()}: {error}") from None


def worker_address() -> str:
    """The address of the worker running this task ("this process" outside a worker)."""
    from distributed import get_worker

    try:
        return str(get_worker().address)
    except ValueError:
        return "(not a worker)"


def row_array(blocks: Blocks, name: str, prepare: Callable[..., np.ndarray] | None = None) -> Any:
    """A ``dask.array`` of the rows, one chunk per block, read by the workers.

    Parameters
    ----------
    blocks
        The input.
    name
        The array's key prefix (unique per input and transform).
    prepare
        Applied to each block on the worker (e.g. spherize); float32 out.
    """
    import dask.array as da

    return da.map_blocks(
        _read_chunk,
        chunks=blocks.chunks,
        dtype=np.float32,
        name=name,
        meta=np.empty((0, 0), dtype=np.float32),
        rows=blocks.rows,
        prepare=prepare,
    )


def _read_chunk(
    *, rows: RowFile, prepare: Callable[..., np.ndarray] | None, block_info: Any = None
) -> np.ndarray:
    (start, stop), _ = block_info[None]["array-location"]
    block = read(rows, start, stop)
    return block if prepare is None else prepare(block)


@dataclass(frozen=True)
class BlockPrint:
    """What :func:`fingerprint` learns from one block."""

    digest: bytes
    """xxh3-128 of the block's float32 bytes."""
    crc32c: int | None
    """CRC32C of its stored bytes (checkpoint tensors only)."""
    stored_bytes: int
    first_bad_row: int | None
    """The first row holding NaN or an infinity, if any."""


def print_block(rows: RowFile, start: int, stop: int) -> BlockPrint:
    """Read one block on a worker and describe it (:class:`BlockPrint`)."""
    import xxhash

    def describe() -> BlockPrint:
        crc, stored = None, 0
        if isinstance(rows, StoredRows) and rows.stored.crc32c is not None:
            raw = rows.read_stored(start, stop)  # one read: its CRC, then its float32 values
            crc, stored = crc32c(raw.data), raw.nbytes
            block = rows.stored.float32(raw)
        else:
            block = rows.read(start, stop)
        finite = np.isfinite(block).all(axis=1)
        bad = None if finite.all() else start + int(np.argmin(finite))
        return BlockPrint(xxhash.xxh3_128_digest(block.data), crc, stored, bad)

    return on_worker(describe)


def combine_prints(blocks: Blocks, prints: list[BlockPrint]) -> str:
    """The content key of the input from its blocks' prints, after checking them.

    Raises
    ------
    InvalidParameterError
        A row holds NaN or an infinity.
    ChecksumError
        The blocks' CRC32C does not combine into the checkpoint's.
    """
    import xxhash

    bad = [p.first_bad_row for p in prints if p.first_bad_row is not None]
    if bad:
        raise InvalidParameterError(
            f"{blocks.rows.location}: row {bad[0]} holds NaN or an infinite value; "
            "every vector must be finite"
        )
    rows = blocks.rows
    if isinstance(rows, StoredRows) and rows.stored.crc32c is not None:
        crc = 0
        for block in prints:
            crc = combine(crc, block.crc32c or 0, block.stored_bytes)
        stored = rows.stored
        if mask(crc) != stored.crc32c:
            raise ChecksumError(
                f"{stored.what} at byte offset {stored.offset} fails its CRC32C check (stored "
                f"{stored.crc32c:#010x}, computed {mask(crc):#010x}) as read by the Dask "
                "workers: the data file is corrupt, or differs between machines",
                path=stored.path,
            )
    hasher = xxhash.xxh3_128()
    hasher.update(f"blocks:float32:{blocks.shape}:{blocks.chunks[0]}".encode())
    for block in prints:
        hasher.update(block.digest)
    return str(hasher.hexdigest())

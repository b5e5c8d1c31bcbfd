"""``embedding_projector.open``: one entry point for every input of SPEC §2."""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import pyarrow as pa

from embedding_projector.dataset.checkpoints import (
    INDEX_SUFFIX,
    CheckpointLookup,
    has_checkpoint_files,
    prefix_exists,
)
from embedding_projector.dataset.embedding_builder import build_run_embeddings
from embedding_projector.dataset.logdir import CONFIG_NAME, open_logdir
from embedding_projector.dataset.metadata import fit_metadata, load_metadata
from embedding_projector.dataset.model import Embedding, Run, Sprite, Workspace
from embedding_projector.errors import (
    InvalidParameterError,
    NotFoundError,
    ProjectorError,
    UnsupportedFormatError,
)
from embedding_projector.formats.arrays import ArraySource, FileEmbeddings
from embedding_projector.formats.files import real_path
from embedding_projector.formats.npy import read_npy, read_npz
from embedding_projector.formats.parquet import SUFFIXES as PARQUET_SUFFIXES
from embedding_projector.formats.parquet import parquet_files, read_parquet
from embedding_projector.formats.protos import ProjectorConfig
from embedding_projector.formats.safetensors import read_safetensors
from embedding_projector.formats.sprite import read_sprite_info
from embedding_projector.formats.tables import embeddings_from_table, read_table_file
from embedding_projector.formats.tensor_file import raw_float32_layout
from embedding_projector.formats.torch_pt import read_torch

PathLike = str | os.PathLike[str]


class Reader(Protocol):
    """A reader of direct inputs: the file and the folder it must be inside."""

    def __call__(self, path: Path, *, root: Path | None = None) -> FileEmbeddings: ...


def _read_table_embeddings(path: Path, *, root: Path | None = None) -> FileEmbeddings:
    return embeddings_from_table(path, read_table_file(path, root=root))


# Built-in readers of direct inputs, by file suffix.
READERS: dict[str, Reader] = {
    ".npy": read_npy,
    ".npz": read_npz,
    ".safetensors": read_safetensors,
    ".pt": read_torch,
    ".pth": read_torch,
    **dict.fromkeys(PARQUET_SUFFIXES, read_parquet),
    **dict.fromkeys(
        (".arrow", ".arrows", ".feather", ".ipc", ".csv", ".tsv", ".txt"), _read_table_embeddings
    ),
}
RAW_SUFFIXES = (".bin", ".bytes", ".raw", ".f32")


def open_path(
    path: PathLike,
    *,
    metadata: PathLike | None = None,
    sprite: PathLike | None = None,
    sprite_size: Sequence[int] | None = None,
    shape: Sequence[int] | None = None,
) -> Workspace:
    """Open anything that holds embeddings.

    Parameters
    ----------
    path
        A TensorBoard log dir (runs found at any depth), a run folder, a checkpoint
        prefix or its ``.index`` file, a ``projector_config.pbtxt``, or a file:
        ``.npy``, ``.npz``, ``.safetensors``, ``.pt``/``.pth`` (with torch installed),
        Parquet, Arrow/Feather, CSV, TSV, or raw float32 bytes (with ``shape``).
    metadata
        A metadata file (TSV, CSV, Parquet, ...) for a file or checkpoint input.
    sprite, sprite_size
        A sprite atlas and the ``(width, height)`` of one thumbnail in it.
    shape
        ``(N, D)`` of a raw float32 file.

    Returns
    -------
    Workspace
        ``ws.runs[i].embeddings[j]`` with ``vectors``, ``metadata``, ``sprite``,
        ``bookmarks`` and ``warnings``.

    Raises
    ------
    ProjectorError
        With a message naming the file and what is wrong.
    """
    target = real_path(os.path.expanduser(os.fspath(path)), missing_ok=True)
    if (sprite is None) != (sprite_size is None):
        raise InvalidParameterError("`sprite` and `sprite_size` go together: give both or neither")
    prefix = _checkpoint_prefix(target)
    if prefix is not None:
        workspace = _open_checkpoint(prefix)
    elif target.is_dir() and _is_parquet_folder(target):
        workspace = _open_file(target, shape)
    elif target.is_dir():
        workspace = open_logdir(target)
    elif target.name == CONFIG_NAME and target.is_file():
        workspace = open_logdir(target.parent)
    elif not target.exists():
        raise NotFoundError("no such file or folder", path=target)
    else:
        workspace = _open_file(target, shape)
    if metadata is not None or sprite is not None:
        _attach_assets(workspace, metadata, sprite, sprite_size)
    return workspace


def _checkpoint_prefix(target: Path) -> Path | None:
    if target.suffix == INDEX_SUFFIX and target.is_file():
        return target.with_suffix("")
    return target if not target.is_dir() and prefix_exists(target) else None


def _open_checkpoint(prefix: Path) -> Workspace:
    root = prefix.parent
    run = Run(name=".", path=root)
    build_run_embeddings(run, root, None, ProjectorConfig(), CheckpointLookup(prefix=prefix))
    if not run.embeddings:
        raise ProjectorError(
            "; ".join(run.warnings) or "the checkpoint holds no 2-D tensor", path=prefix
        )
    return Workspace(root=root, runs=[run])


def _is_parquet_folder(folder: Path) -> bool:
    """A folder of Parquet files (one table) rather than a log dir: no config, no checkpoint."""
    return (
        not (folder / CONFIG_NAME).exists()
        and not has_checkpoint_files(folder)
        and bool(parquet_files(folder))
    )


def _open_file(path: Path, shape: Sequence[int] | None) -> Workspace:
    suffix, root = path.suffix.lower(), path.parent
    if path.is_dir():  # a folder of Parquet files: every file inside it
        contents = read_parquet(path, root=path)
    elif suffix in RAW_SUFFIXES:
        if shape is None:
            raise InvalidParameterError(
                f"{path}: raw float32 bytes need their shape: give `shape=(N, D)`"
            )
        stored = raw_float32_layout(path, shape, root=root)
        contents = FileEmbeddings([(path.stem, ArraySource.stored(stored, "float32"))])
    elif suffix in READERS:
        contents = READERS[suffix](path, root=root)
    else:
        known = ", ".join(sorted({*READERS, *RAW_SUFFIXES}))
        raise UnsupportedFormatError(
            f"unknown file type {suffix or '(no suffix)'!r}; supported: {known}, a log dir "
            "or a TensorFlow checkpoint",
            path=path,
        )
    run = Run(name=".", path=root)
    table = contents.metadata
    load_metadata = None if table is None else functools.partial(_fit_table, table, path)
    for name, source in contents.tensors:
        run.embeddings.append(
            Embedding(
                name=name,
                tensor_name=name,
                run=".",
                source=source,
                root=root,
                load_metadata=load_metadata,
            )
        )
    return Workspace(root=root, runs=[run])


def _fit_table(table: pa.Table, path: Path, n: int) -> tuple[pa.Table, list[str]]:
    return fit_metadata(table, n, path)


def _attach_assets(
    workspace: Workspace,
    metadata: PathLike | None,
    sprite: PathLike | None,
    sprite_size: Sequence[int] | None,
) -> None:
    """Metadata and sprite files given by the caller apply to every embedding opened.

    Each is read inside the folder it was in when named: replacing it by a symlink to
    elsewhere later does not make that file readable.
    """
    metadata_path = None if metadata is None else real_path(metadata, missing_ok=True)
    if metadata_path is not None and not metadata_path.is_file():
        raise NotFoundError("metadata file not found", path=metadata_path)
    atlas = None
    if sprite is not None and sprite_size is not None:
        atlas = _sprite(real_path(sprite, missing_ok=True), sprite_size)
    for embedding in workspace:
        if metadata_path is not None:
            embedding.replace_metadata(
                metadata_path,
                functools.partial(load_metadata, metadata_path, root=metadata_path.parent),
            )
        if atlas is not None:
            embedding.sprite = atlas


def _sprite(path: Path, size: Sequence[int]) -> Sprite:
    if len(size) != 2 or min(size) <= 0:
        raise InvalidParameterError(
            f"`sprite_size` must be a thumbnail's width and height in pixels, got {list(size)}"
        )
    size_px = read_sprite_info(path, root=path.parent)
    return Sprite(path, (int(size[0]), int(size[1])), size_px, root=path.parent)

"""TensorBoard's projector API, without TensorFlow; and a writer for any framework.

A drop-in for ``from tensorboard.plugins import projector``: the same message classes
(same field names, ``config.embeddings.add()``, nested ``sprite``) and
:func:`visualize_embeddings`, writing the same ``projector_config.pbtxt``, byte for byte::

    from embedding_projector import projector

    config = projector.ProjectorConfig()
    embedding = config.embeddings.add()
    embedding.tensor_name = "embedding/.ATTRIBUTES/VARIABLE_VALUE"
    embedding.metadata_path = "metadata.tsv"
    projector.visualize_embeddings(log_dir, config)

:func:`save_embeddings` writes vectors (from numpy, PyTorch, anything array-like),
their metadata and thumbnails in a layout TensorBoard 2.21 opens as well::

    projector.save_embeddings("logs/", "words", vectors, metadata={"word": w, "count": c})
"""

from __future__ import annotations

import contextlib
import io
import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from embedding_projector.errors import InvalidParameterError, ProjectorError
from embedding_projector.formats.arrays import float32_matrix, to_numpy
from embedding_projector.formats.atomic import write_atomic
from embedding_projector.formats.files import real_path
from embedding_projector.formats.projector_config import (
    PROJECTOR_CONFIG_NAME,
    read_projector_config,
    write_projector_config,
)
from embedding_projector.formats.protos import (
    EmbeddingInfo,
    EmbeddingInfoMessage,
    ProjectorConfig,
    ProjectorConfigMessage,
    SpriteMetadata,
)
from embedding_projector.formats.sprite import SpriteAtlas, build_sprite
from embedding_projector.formats.tsv_writer import metadata_to_tsv

__all__ = [
    "EmbeddingInfo",
    "ProjectorConfig",
    "SpriteMetadata",
    "save_embeddings",
    "visualize_embeddings",
]

TENSOR_BYTES_NAME = "tensor.bytes"
TENSOR_TSV_NAME = "tensor.tsv"
METADATA_NAME = "metadata.tsv"
SPRITE_NAME = "sprite.png"
_ASSET_NAMES = (TENSOR_BYTES_NAME, TENSOR_TSV_NAME, METADATA_NAME, SPRITE_NAME)


def visualize_embeddings(logdir: Any, config: ProjectorConfigMessage) -> None:
    """Write ``config`` to ``<logdir>/projector_config.pbtxt``, as TensorBoard does.

    Parameters
    ----------
    logdir
        The log dir, created if missing. As in TensorBoard, an object with a
        ``get_logdir()`` method (a ``FileWriter``, a PyTorch ``SummaryWriter``) is
        accepted too.
    config
        A ``ProjectorConfig``; relative paths in it are relative to ``logdir``.
    """
    logdir = getattr(logdir, "get_logdir", lambda: logdir)()
    if logdir is None:
        raise InvalidParameterError("`logdir` must be a path, got None")
    _make_folder(Path(logdir))
    write_projector_config(logdir, config)


def save_embeddings(
    logdir: str | os.PathLike[str],
    name: str,
    vectors: Any,
    metadata: Any = None,
    images: Any = None,
    *,
    overwrite: bool = False,
) -> EmbeddingInfoMessage:
    """Save vectors, with optional metadata and thumbnails, for the projector.

    Writes ``<logdir>/<folder>/tensor.bytes`` (raw little-endian float32),
    ``metadata.tsv`` and ``sprite.png``, where ``<folder>`` is ``name`` with
    characters other than letters, digits, ``_ . -`` replaced by ``_``. Then adds an
    entry named ``name`` to ``<logdir>/projector_config.pbtxt``, keeping everything
    else in that file. Every file is replaced atomically, the config last.

    TensorBoard 2.21 opens the result: it reads ``tensor_path`` as text first and as
    raw float32 only if that fails, so the rare vectors whose bytes happen to be valid
    UTF-8 (all zeros, for instance) are written as ``tensor.tsv`` instead, with
    values exact to float32.

    Parameters
    ----------
    logdir
        The log dir; created if missing.
    name
        The embedding's ``tensor_name``, as shown in the projector.
    vectors
        ``N x D`` finite numbers: a numpy array, a PyTorch or TensorFlow tensor, nested
        lists, anything :func:`numpy.asarray` accepts. Stored as float32.
    metadata
        One label per vector (a list, 1-D array, pandas Series: one column, no header),
        or columns (a dict of name to values, a pandas or polars DataFrame, a pyarrow
        Table; several columns get a header row). Tabs and line breaks in values
        are replaced by spaces, with a warning, since a TSV cell cannot hold them.
    images
        One thumbnail per vector: ``N x H x W`` or ``N x H x W x C`` (C = 1, 3, 4),
        ``uint8`` or floats in ``[0, 1]``. Tiled into an atlas that fits TensorBoard's
        8192 px limit when any grid can.
    overwrite
        Replace an entry named ``name`` and the files in its folder. Without it,
        an existing entry or folder is an error: nothing saved is silently lost.

    Returns
    -------
    EmbeddingInfo
        The entry added to the config (paths relative to ``logdir``).

    Notes
    -----
    The config is read, changed and replaced without a lock: two processes saving
    into the same log dir at the same moment may lose one of the two entries.

    Raises
    ------
    InvalidParameterError
        If an input is malformed (the message says which and how), or the name is taken.
    FormatError
        If an existing ``projector_config.pbtxt`` cannot be parsed; it is left untouched.
    """
    root = Path(logdir)
    matrix = float32_matrix(vectors)
    n_vectors = matrix.shape[0]
    tsv = None if metadata is None else metadata_to_tsv(metadata, n_vectors)
    sprite = None if images is None else _build_sprite(images, n_vectors)
    folder_name = _folder_name(name)
    config_path = root / PROJECTOR_CONFIG_NAME
    config = read_projector_config(config_path) if config_path.exists() else ProjectorConfig()
    _check_name_free(config, root, name, folder_name, overwrite)

    folder = root / folder_name
    _make_folder(folder)
    tensor_name, tensor_data = _tensor_file(matrix)
    assets = {tensor_name: tensor_data}
    if tsv is not None:
        assets[METADATA_NAME] = tsv
    if sprite is not None:
        assets[SPRITE_NAME] = sprite.png
    for asset_name, data in assets.items():
        write_atomic(folder / asset_name, data)

    entry = _entry(name, folder_name, matrix.shape, tensor_name, tsv is not None, sprite)
    _put_entry(config, entry)
    write_projector_config(root, config)
    # Files of an earlier save under this name that this one did not rewrite.
    for stale in set(_ASSET_NAMES) - set(assets):
        (folder / stale).unlink(missing_ok=True)
    return entry


def _build_sprite(images: Any, n_vectors: int) -> SpriteAtlas:
    array = np.asarray(to_numpy(images))
    if array.ndim >= 1 and array.shape[0] != n_vectors:
        raise InvalidParameterError(
            f"`images` has {array.shape[0]} images but there are {n_vectors} vectors; "
            "give one image per vector"
        )
    return build_sprite(array)


def _folder_name(name: str) -> str:
    """A folder name for ``name``: safe on every OS, never hidden, ``.`` or ``..``."""
    if not isinstance(name, str) or not name:
        raise InvalidParameterError(f"`name` must be a non-empty string, got {name!r}")
    folder = re.sub(r"[^\w.-]+", "_", name).strip(".")
    if not folder:
        raise InvalidParameterError(f"`name` {name!r} gives no usable folder name")
    return folder


def _check_name_free(
    config: ProjectorConfigMessage, root: Path, name: str, folder_name: str, overwrite: bool
) -> None:
    """Refuse to replace what is already saved, unless ``overwrite``; never another entry."""
    folder = (root / folder_name).resolve()
    for entry in config.embeddings:
        if entry.tensor_name != name and any(
            folder == path or folder in path.parents for path in _asset_paths(entry, root)
        ):
            raise InvalidParameterError(
                f"the folder {folder_name!r} for `name` {name!r} holds the files of the "
                f"embedding {entry.tensor_name!r}; choose another name"
            )
    if overwrite:
        return
    config_path = root / PROJECTOR_CONFIG_NAME
    if any(entry.tensor_name == name for entry in config.embeddings):
        raise InvalidParameterError(
            f"an embedding named {name!r} already exists in {config_path}; "
            "pass overwrite=True to replace it, or choose another name"
        )
    if folder.exists():
        raise InvalidParameterError(
            f"{root / folder_name} already exists; pass overwrite=True to replace the "
            f"embedding {name!r} there, or choose another name"
        )


def _asset_paths(entry: EmbeddingInfoMessage, root: Path) -> list[Path]:
    """The resolved files an entry names (relative paths are relative to ``root``).

    A path that cannot be resolved (a symlink loop, a NUL byte) names none of our folders.
    """
    named = [entry.tensor_path, entry.metadata_path, entry.bookmarks_path, entry.sprite.image_path]
    paths = []
    for path in filter(None, named):
        with contextlib.suppress(ProjectorError):
            paths.append(real_path(root / os.path.expanduser(path), missing_ok=True))
    return paths


def _tensor_file(matrix: np.ndarray) -> tuple[str, bytes | memoryview]:
    """The tensor file's name and content: raw float32, unless TensorBoard would misread it."""
    raw = matrix.reshape(-1).view(np.uint8).data
    try:
        str(raw, "utf-8")
    except UnicodeDecodeError:
        return TENSOR_BYTES_NAME, raw
    # TensorBoard would parse these bytes as TSV text and fail. "%.9g" is exact for float32.
    text = io.BytesIO()
    np.savetxt(text, matrix, fmt="%.9g", delimiter="\t")
    return TENSOR_TSV_NAME, text.getvalue()


def _entry(
    name: str,
    folder_name: str,
    shape: tuple[int, ...],
    tensor_name: str,
    has_metadata: bool,
    sprite: SpriteAtlas | None,
) -> EmbeddingInfoMessage:
    """The config entry for the files written; paths are POSIX, relative to the log dir."""
    entry = EmbeddingInfo(
        tensor_name=name, tensor_shape=list(shape), tensor_path=f"{folder_name}/{tensor_name}"
    )
    if has_metadata:
        entry.metadata_path = f"{folder_name}/{METADATA_NAME}"
    if sprite is not None:
        entry.sprite.image_path = f"{folder_name}/{SPRITE_NAME}"
        entry.sprite.single_image_dim.extend(sprite.single_image_dim)
    return entry


def _put_entry(config: ProjectorConfigMessage, entry: EmbeddingInfoMessage) -> None:
    """Replace the entries named like ``entry`` by it (at the first one's place), or append it."""
    same = [i for i, e in enumerate(config.embeddings) if e.tensor_name == entry.tensor_name]
    if not same:
        config.embeddings.append(entry)
        return
    config.embeddings[same[0]].CopyFrom(entry)
    for index in reversed(same[1:]):
        del config.embeddings[index]


def _make_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ProjectorError(
            f"cannot create the folder: {error.strerror or error}", path=folder
        ) from error

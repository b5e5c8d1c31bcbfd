"""Read and write ``projector_config.pbtxt`` and TensorFlow's ``checkpoint`` state file.

Both are protobuf text format. Parsing is exactly as strict as TensorBoard's (it calls
``text_format.Parse`` too): an unknown field or a syntax error is an error, reported
with the file, line and column. Writing uses ``text_format.MessageToString``, so the
text is byte-identical to what TensorBoard's ``visualize_embeddings`` writes.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from google.protobuf import text_format

from embedding_projector.errors import FormatError, quote_text
from embedding_projector.formats.atomic import write_atomic
from embedding_projector.formats.files import read_inside
from embedding_projector.formats.protos import (
    CheckpointState,
    CheckpointStateMessage,
    ProjectorConfig,
    ProjectorConfigMessage,
)

PROJECTOR_CONFIG_NAME = "projector_config.pbtxt"
"""The file name TensorBoard looks for in a run folder."""


def read_projector_config(
    path: str | os.PathLike[str], *, root: str | os.PathLike[str] | None = None
) -> ProjectorConfigMessage:
    """Parse a ``projector_config.pbtxt`` file.

    Parameters
    ----------
    path
        The config file. Paths inside it are relative to its folder.
    root
        The folder it must be inside (see :func:`.files.open_inside`).

    Returns
    -------
    ProjectorConfig
        The parsed message; an empty file gives an empty config.

    Raises
    ------
    NotFoundError
        If the file does not exist.
    FormatError
        If it is not UTF-8 or not a valid ``ProjectorConfig`` in text format; the
        message gives the line and column.
    ProjectorError
        If it cannot be read (permissions, a folder).
    """
    return _parse_text_proto(Path(path), root, ProjectorConfig(), "a projector config")


def read_checkpoint_state(
    path: str | os.PathLike[str], *, root: str | os.PathLike[str] | None = None
) -> CheckpointStateMessage:
    """Parse TensorFlow's ``checkpoint`` state file (a ``CheckpointState`` in text format).

    Parameters
    ----------
    path
        The state file, usually named ``checkpoint``, beside the checkpoint files.
    root
        The folder it must be inside (see :func:`.files.open_inside`).

    Returns
    -------
    CheckpointState
        ``model_checkpoint_path`` (the latest prefix) and ``all_model_checkpoint_paths``
        exactly as written: they may be absolute paths from another machine.

    Raises
    ------
    NotFoundError, FormatError, ProjectorError
        As for :func:`read_projector_config`.
    """
    return _parse_text_proto(Path(path), root, CheckpointState(), "a checkpoint state file")


def write_projector_config(
    directory: str | os.PathLike[str], config: ProjectorConfigMessage
) -> Path:
    """Write ``config`` to ``<directory>/projector_config.pbtxt`` atomically.

    Parameters
    ----------
    directory
        An existing folder (a run folder or the log dir).
    config
        A ``ProjectorConfig`` message (ours or TensorBoard's).

    Returns
    -------
    pathlib.Path
        The file written.
    """
    path = Path(directory) / PROJECTOR_CONFIG_NAME
    write_atomic(path, text_format.MessageToString(config).encode("utf-8"))
    return path


def _parse_text_proto(
    path: Path, root: str | os.PathLike[str] | None, message: Any, what: str
) -> Any:
    """Parse ``path`` into ``message``, turning every failure into a :class:`ProjectorError`."""
    text = _read_utf8(path, root)
    try:
        text_format.Parse(text, message)
    except text_format.ParseError as error:
        raise FormatError(
            f"{_location(error)}not {what}: {_reason(error)}",
            path=path,
            detail="protobuf text format, as read by TensorBoard's projector",
        ) from error
    return message


def _read_utf8(path: Path, root: str | os.PathLike[str] | None) -> str:
    """The text of ``path``, which must be UTF-8 (as protobuf text format requires)."""
    data = read_inside(path, root)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise FormatError(
            f"not UTF-8 text (invalid byte at offset {error.start}); is this a text file?",
            path=path,
        ) from error


def _location(error: text_format.ParseError) -> str:
    line, column = error.GetLine(), error.GetColumn()
    if line is None:
        return ""
    return f"line {line}, column {column}: " if column is not None else f"line {line}: "


def _reason(error: text_format.ParseError) -> str:
    """The parser's message without the ``line:column : `` prefix it adds itself."""
    message = str(error)
    line, column = error.GetLine(), error.GetColumn()
    prefix = f"{line}:{column} : " if column is not None else f"{line} : "
    return quote_text(message.removeprefix(prefix) if line is not None else message)

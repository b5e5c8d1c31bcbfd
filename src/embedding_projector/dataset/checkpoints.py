"""Finding the checkpoint of a run (SPEC §2.2).

TensorBoard's most common "no data" reports come from here: a ``checkpoint`` state
file holding absolute paths of another machine, a checkpoint written with
``Checkpoint.write`` (no state file), a relative ``model_checkpoint_path``
resolved against the server's working directory. Each case is handled, and
every guess is said in a warning.
"""

from __future__ import annotations

import contextlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from embedding_projector.errors import ProjectorError
from embedding_projector.formats.projector_config import read_checkpoint_state
from embedding_projector.formats.tf_checkpoint import prefix_of

STATE_FILE = "checkpoint"
INDEX_SUFFIX = ".index"
# ``Checkpoint.save`` and ``CheckpointManager`` append ``-<save counter>``, ``Saver`` ``-<step>``.
_CHECKPOINT_NUMBER = re.compile(r"-(\d+)$")


@dataclass
class CheckpointLookup:
    """The prefix found (or ``None``) and what was guessed or looked at on the way."""

    prefix: Path | None = None
    warnings: list[str] = field(default_factory=list)
    looked_in: list[Path] = field(default_factory=list)


def has_checkpoint_files(folder: Path) -> bool:
    """Whether ``folder`` holds a state file or a ``*.index`` file."""
    return (folder / STATE_FILE).is_file() or any(folder.glob("*" + INDEX_SUFFIX))


def prefix_exists(prefix: Path) -> bool:
    """A V2 checkpoint prefix exists when ``<prefix>.index`` does."""
    return Path(str(prefix) + INDEX_SUFFIX).is_file()


def latest_checkpoint(folder: Path, root: Path | None = None) -> CheckpointLookup:
    """The latest checkpoint in ``folder``: named by its state file, else the newest index.

    The state file is read inside ``root`` (see :func:`..formats.files.open_inside`).
    """
    lookup = CheckpointLookup(looked_in=[folder])
    state_path = folder / STATE_FILE
    if state_path.is_file():
        named = _from_state_file(state_path, lookup, root)
        if named is not None:
            lookup.prefix = named
            return lookup
    # is_file() leaves out dangling and looping symlinks, whose stat() would fail.
    indexes = sorted(
        (p for p in folder.glob("*" + INDEX_SUFFIX) if p.is_file()),
        key=lambda p: (p.stat().st_mtime, p.name),
        reverse=True,
    )
    if indexes:
        lookup.prefix = indexes[0].with_suffix("")
        reason = (
            "its `checkpoint` state file names no existing checkpoint"
            if state_path.is_file()
            else "it has no `checkpoint` state file"
        )
        others = f" (of {len(indexes)} found)" if len(indexes) > 1 else ""
        lookup.warnings.append(
            f"{folder}: {reason}; using the newest checkpoint{others}, {lookup.prefix.name}"
        )
    return lookup


def _from_state_file(state_path: Path, lookup: CheckpointLookup, root: Path | None) -> Path | None:
    """The prefix a state file names, also when it holds another machine's absolute path."""
    try:
        state = read_checkpoint_state(state_path, root=root)
    except ProjectorError as exc:
        lookup.warnings.append(f"{exc}; looking for checkpoint files instead")
        return None
    named = state.model_checkpoint_path
    if not named:
        return None
    found = _locate(named, state_path.parent)
    if found is None:
        lookup.warnings.append(
            f"{state_path}: names checkpoint {named!r}, which does not exist "
            f"(no {Path(named).name}{INDEX_SUFFIX} beside the state file either)"
        )
    return found


def _locate(named: str, folder: Path) -> Path | None:
    """The checkpoint a state file in ``folder`` names: as written, else beside the file.

    A name with a NUL byte names no file.
    """
    if "\0" in named:
        return None
    candidate = Path(os.path.expanduser(named))
    if not candidate.is_absolute():
        candidate = folder / candidate
    if prefix_exists(candidate):
        return candidate
    # A moved log dir: the state file still names the folder it was written in.
    beside = folder / Path(named).name
    return beside if prefix_exists(beside) else None


def checkpoint_prefixes(folder: Path, root: Path | None = None) -> list[Path]:
    """Every checkpoint of ``folder``, by the number TensorFlow appends to its name.

    Those the ``checkpoint`` state file lists (``all_model_checkpoint_paths`` and the
    latest), found as :func:`latest_checkpoint` finds the latest, and every ``*.index``
    file in the folder. A listed checkpoint that exists nowhere is returned beside the
    state file, where it was looked for: the caller reports it missing. Checkpoints
    without a number come first, by name. The state file is read inside ``root``; a name
    with a NUL byte in it names nothing.
    """
    listed: list[str] = []
    state_path = folder / STATE_FILE
    if state_path.is_file():
        with contextlib.suppress(ProjectorError):  # reported when the run was opened
            state = read_checkpoint_state(state_path, root=root)
            listed = [*state.all_model_checkpoint_paths, state.model_checkpoint_path]
    found = {
        *(
            _locate(named, folder) or folder / Path(named).name
            for named in listed
            if named and "\0" not in named
        ),
        *(prefix_of(index) for index in folder.glob("*" + INDEX_SUFFIX)),
    }
    unique = {prefix.resolve(): prefix for prefix in sorted(found)}
    return sorted(unique.values(), key=_order)


def _order(prefix: Path) -> tuple[int, str]:
    number = checkpoint_number(prefix)
    return -1 if number is None else number, prefix.name


def checkpoint_number(prefix: Path) -> int | None:
    """The number TensorFlow appends to a checkpoint's name: 3 for ``ckpt-3``, else ``None``."""
    match = _CHECKPOINT_NUMBER.search(prefix.name)
    return None if match is None else int(match.group(1))


def resolve_configured(named: str, config_dir: Path, root: Path | None = None) -> CheckpointLookup:
    """The checkpoint a config's ``model_checkpoint_path`` names (a prefix or a folder).

    Relative paths are relative to the config's folder, not the working directory; an
    absolute path that no longer exists (a moved log dir) falls back to the same name
    beside the config.
    """
    if "\0" in named:
        return CheckpointLookup(
            warnings=[f"{config_dir}: `model_checkpoint_path` {named!r} has a NUL byte; ignored"]
        )
    path = Path(os.path.expanduser(named.removesuffix(INDEX_SUFFIX)))
    path = path if path.is_absolute() else config_dir / path
    if prefix_exists(path):
        return CheckpointLookup(prefix=path)
    if path.is_dir():
        return latest_checkpoint(path, root)
    beside = config_dir / path.name
    if prefix_exists(beside):
        return CheckpointLookup(
            prefix=beside,
            warnings=[
                f"{config_dir}: `model_checkpoint_path` {named!r} does not exist; "
                f"using {beside.name} beside the config (was the log dir moved?)"
            ],
        )
    return CheckpointLookup(
        warnings=[
            f"{config_dir}: `model_checkpoint_path` {named!r} names no checkpoint "
            f"({path}{INDEX_SUFFIX} does not exist)"
        ],
        looked_in=[path],
    )

"""Turning a run's config entries and checkpoint into embeddings (SPEC §2.2, §2.5–2.7).

Config entries are matched to checkpoint tensors by name (a trailing ``:0`` ignored);
every other 2-D tensor of the checkpoint is offered too. A problem with one asset
(metadata, sprite, bookmarks) is a warning on that embedding, never the loss of it.
The other checkpoints beside the run's, and ``add_embedding``'s ``tag:NNNNN`` entries,
become the embeddings' steps (:mod:`.steps`).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from embedding_projector.dataset.checkpoint_steps import (
    CheckpointSteps,
    array_source,
    is_embedding,
)
from embedding_projector.dataset.checkpoints import CheckpointLookup
from embedding_projector.dataset.metadata import load_metadata
from embedding_projector.dataset.model import Embedding, Run, Sprite, TensorSource
from embedding_projector.dataset.names import canonical_tensor_name, display_name
from embedding_projector.dataset.paths import resolve_inside
from embedding_projector.dataset.steps import StepSpec, split_step_name
from embedding_projector.errors import ProjectorError
from embedding_projector.formats.arrays import ArraySource
from embedding_projector.formats.bookmarks import read_bookmarks
from embedding_projector.formats.protos import EmbeddingInfo, ProjectorConfig
from embedding_projector.formats.sprite import read_sprite_info
from embedding_projector.formats.tensor_file import open_tensor_file
from embedding_projector.formats.tf_checkpoint import CheckpointReader


def build_run_embeddings(
    run: Run,
    root: Path,
    config_path: Path | None,
    config: ProjectorConfig,
    checkpoint: CheckpointLookup,
) -> None:
    """Fill ``run.embeddings`` (and ``run.warnings``) from its config and checkpoint."""
    assets = _Assets(root, config_path.parent if config_path else run.path)
    entries = normalized_entries(config, run.warnings)
    shared = entries.pop(0) if entries and not entries[0].tensor_name else None
    for name, members in _file_groups(entries):
        _add_file_embedding(run, name, members, assets)
    configured = {canonical_tensor_name(e.tensor_name): e for e in entries if not e.tensor_path}
    if checkpoint.prefix is not None:
        _add_checkpoint_embeddings(run, checkpoint.prefix, configured, shared, assets)
    elif configured or not entries:
        places = ", ".join(str(p) for p in checkpoint.looked_in) or "the run folder"
        run.warnings.append(
            f"{run.path}: no TensorFlow checkpoint found (looked for a `checkpoint` state "
            f"file or *.index files in {places}); tensors named in the config without a "
            "`tensor_path` cannot be shown"
        )


def normalized_entries(config: ProjectorConfig, warnings: list[str]) -> list[EmbeddingInfo]:
    """Config entries with ``:0`` stripped, file tensors named, and repeats shown once.

    tensorboardX appends to the config on every run, so the same entry can appear many
    times; the last one wins, and differing repeats are reported.
    """
    result: list[EmbeddingInfo] = []
    position: dict[str, int] = {}
    for raw in config.embeddings:
        entry = EmbeddingInfo()
        entry.CopyFrom(raw)
        entry.tensor_name = canonical_tensor_name(entry.tensor_name)
        if entry.tensor_path and not entry.tensor_name:
            entry.tensor_name = os.path.basename(entry.tensor_path)
        name = entry.tensor_name
        if name and name in position:
            if result[position[name]] != entry:
                warnings.append(
                    f"the config lists tensor {name!r} more than once with different "
                    "settings; using the last entry"
                )
            result[position[name]] = entry
            continue
        if name:
            position[name] = len(result)
        result.append(entry)
    return result


Members = list[tuple[int | None, EmbeddingInfo]]
"""Config entries of one embedding with their step numbers, oldest first."""


def _file_groups(entries: list[EmbeddingInfo]) -> list[tuple[str, Members]]:
    """Entries with a ``tensor_path``, by embedding: a tag's ``add_embedding`` steps together.

    Two or more ``tag:NNNNN`` entries are the steps of one embedding named ``tag``; every
    other entry (a single ``tag:00000`` too) is an embedding of its own, under its name.
    """
    groups: dict[tuple[bool, str], Members] = {}
    for entry in entries:
        if entry.tensor_path:
            step = split_step_name(entry.tensor_name)
            key = (True, step[0]) if step else (False, entry.tensor_name)
            groups.setdefault(key, []).append((step[1] if step else None, entry))
    return [
        (tag if len(members) > 1 else members[0][1].tensor_name, sorted(members, key=_step_order))
        for (_, tag), members in groups.items()
    ]


def _step_order(member: tuple[int | None, EmbeddingInfo]) -> int:
    return member[0] or 0


def _add_file_embedding(run: Run, name: str, members: Members, assets: _Assets) -> None:
    """One embedding for a ``tensor_path`` entry, or for a tag's ``add_embedding`` steps.

    Steps show their latest step that can be read (with its metadata, sprite and
    bookmarks); the steps that cannot are listed, unavailable, with the reader's message.
    """
    failures: list[str] = []
    for _, entry in reversed(members):
        try:
            source = _file_source(entry, assets)
            break
        except ProjectorError as exc:
            failures.append(f"tensor {entry.tensor_name!r} not loaded: {exc}")
    else:
        run.warnings.extend(reversed(failures))
        return

    def opener(member: EmbeddingInfo) -> Callable[[], TensorSource]:
        if member is entry:
            return lambda: source  # parsed already
        return functools.partial(_file_source, member, assets)

    specs = [
        StepSpec(
            number,
            member.tensor_name,
            assets.config_dir / member.tensor_path,
            opener(member),
            default=member is entry,
        )
        for number, member in members
    ]
    shown = f"showing step {entry.tensor_name}, the latest that could be read: "
    warnings = [shown + "; ".join(failures)] if failures else []
    run.embeddings.append(
        assets.embedding(
            run.name,
            name,
            name,
            source,
            entry,
            load_steps=lambda: specs,
            warnings=warnings,
        )
    )


def _file_source(entry: EmbeddingInfo, assets: _Assets) -> ArraySource:
    """The vectors of a ``tensor_path``, parsed now: a broken file is reported at once."""
    path = assets.resolve(entry.tensor_path, "tensor_path")
    return open_tensor_file(path, list(entry.tensor_shape), root=assets.root)


def _add_checkpoint_embeddings(
    run: Run,
    prefix: Path,
    configured: dict[str, EmbeddingInfo],
    shared: EmbeddingInfo | None,
    assets: _Assets,
) -> None:
    try:
        assets.resolve(str(prefix) + ".index", "model_checkpoint_path")
        reader = CheckpointReader(prefix, root=assets.root)
        variables = reader.variables()
    except ProjectorError as exc:
        run.warnings.append(f"checkpoint not loaded: {exc}")
        return
    keys = [key for key, info in variables.items() if is_embedding(key, info.shape, info.dtype)]
    by_canonical = {canonical_tensor_name(k): k for k in keys}
    for name in configured:
        if name not in by_canonical:
            run.warnings.append(
                f"the config names tensor {name!r}, which is not a 2-D tensor of checkpoint "
                f"{prefix} (it has: {', '.join(keys[:10]) or 'none'})"
            )
    ordered = [by_canonical[n] for n in configured if n in by_canonical]
    ordered += [k for k in keys if k not in ordered]
    names = [display_name(k) for k in ordered]
    steps = CheckpointSteps(prefix, reader, assets.resolve, assets.root)
    for key, name in zip(ordered, names, strict=True):
        entry = configured.get(canonical_tensor_name(key)) or _shared_entry(key, shared)
        source = array_source(reader, variables[key])
        unique_name = name if names.count(name) == 1 else key
        run.embeddings.append(
            assets.embedding(
                run.name,
                unique_name,
                key,
                source,
                entry,
                load_steps=functools.partial(steps.specs, key, source),
                warnings=[],
            )
        )


def _shared_entry(key: str, shared: EmbeddingInfo | None) -> EmbeddingInfo:
    """TensorBoard's rule: a first entry without a name lends its metadata and bookmarks."""
    entry = EmbeddingInfo(tensor_name=key)
    if shared is not None:
        entry.metadata_path = shared.metadata_path
        entry.bookmarks_path = shared.bookmarks_path
    return entry


class _Assets:
    """Resolves a run's asset paths (inside the root) and attaches them to embeddings."""

    def __init__(self, root: Path, config_dir: Path) -> None:
        self.root = root
        self.config_dir = config_dir

    def resolve(self, raw: str, field: str) -> Path:
        return resolve_inside(raw, base=self.config_dir, root=self.root, field=field)

    def embedding(
        self,
        run: str,
        name: str,
        tensor_name: str,
        source: TensorSource,
        entry: EmbeddingInfo,
        *,
        load_steps: Callable[[], list[StepSpec]],
        warnings: list[str],
    ) -> Embedding:
        warnings = list(warnings)
        metadata_path = self._file(entry.metadata_path, "metadata_path", warnings)
        bookmarks_path = self._file(entry.bookmarks_path, "bookmarks_path", warnings)
        sprite = self._sprite(entry, source.shape[0], warnings)
        return Embedding(
            name=name,
            tensor_name=tensor_name,
            run=run,
            source=source,
            root=self.root,
            load_metadata=_metadata_loader(metadata_path, self.root) if metadata_path else None,
            metadata_path=metadata_path,
            load_bookmarks=(
                (lambda: read_bookmarks(bookmarks_path, root=self.root)) if bookmarks_path else None
            ),
            bookmarks_path=bookmarks_path,
            sprite=sprite,
            warnings=warnings,
            load_steps=load_steps,
        )

    def _file(self, raw: str, field: str, warnings: list[str]) -> Path | None:
        if not raw:
            return None
        try:
            path = self.resolve(raw, field)
        except ProjectorError as exc:
            warnings.append(f"{exc}; ignored")
            return None
        if not path.is_file():
            what = "is not a regular file" if path.exists() else "does not exist"
            warnings.append(f"`{field}` {raw!r}: {path} {what}; ignored")
            return None
        return path

    def _sprite(self, entry: EmbeddingInfo, n: int, warnings: list[str]) -> Sprite | None:
        if not entry.HasField("sprite"):
            return None
        image_path = self._file(entry.sprite.image_path, "sprite.image_path", warnings)
        if image_path is None:
            return None
        dims = list(entry.sprite.single_image_dim)
        if len(dims) != 2 or min(dims) <= 0:
            warnings.append(
                f"sprite {image_path}: `single_image_dim` must give a width and a height, "
                f"got {dims}; sprite ignored"
            )
            return None
        try:
            size = read_sprite_info(image_path, root=self.root)
        except ProjectorError as exc:
            warnings.append(f"{exc}; sprite ignored")
            return None
        sprite = Sprite(image_path, (dims[0], dims[1]), size, root=self.root)
        if sprite.capacity < n:
            warnings.append(
                f"sprite {image_path}: a {size[0]}×{size[1]} atlas of {dims[0]}×{dims[1]} "
                f"thumbnails holds {sprite.capacity} images, fewer than the {n} points; "
                "points beyond it have no thumbnail"
            )
        return sprite


def _metadata_loader(path: Path, root: Path) -> Callable[[int], Any]:
    return lambda n: load_metadata(path, n, root=root)

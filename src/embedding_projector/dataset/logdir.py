"""Opening a TensorBoard log dir: runs at any depth, their configs and checkpoints (SPEC §2.2).

TensorBoard only looks at folders that hold event files; here a run is any folder
with a ``projector_config.pbtxt`` (beside it or under
``plugins/org_tensorflow_tensorboard_projector/``) or with checkpoint files.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from embedding_projector.dataset.checkpoints import (
    CheckpointLookup,
    has_checkpoint_files,
    latest_checkpoint,
    resolve_configured,
)
from embedding_projector.dataset.embedding_builder import build_run_embeddings
from embedding_projector.dataset.model import Run, Workspace
from embedding_projector.dataset.paths import run_name
from embedding_projector.errors import NotFoundError, ProjectorError
from embedding_projector.formats.projector_config import read_projector_config
from embedding_projector.formats.protos import ProjectorConfig

CONFIG_NAME = "projector_config.pbtxt"
PLUGIN_ASSETS = ("plugins", "org_tensorflow_tensorboard_projector")


@dataclass
class RunLayout:
    """A run folder, its config file (if any) and the checkpoint found for it."""

    folder: Path
    config_path: Path | None
    config: ProjectorConfig
    checkpoint: CheckpointLookup = field(default_factory=CheckpointLookup)
    warnings: list[str] = field(default_factory=list)


def open_logdir(root: Path) -> Workspace:
    """Every run under ``root``, in path order, with its embeddings."""
    layouts = find_runs(root)
    if not layouts:
        raise NotFoundError(
            f"no embeddings found: no {CONFIG_NAME} and no TensorFlow checkpoint in this "
            "folder or below it",
            path=root,
        )
    workspace = Workspace(root=root, runs=[_open_run(root, layout) for layout in layouts])
    if not workspace.embeddings:
        problems = [w for run in workspace.runs for w in run.warnings]
        raise ProjectorError("no embedding could be opened: " + "; ".join(problems), path=root)
    return workspace


def find_runs(root: Path) -> list[RunLayout]:
    """Folders with a config (either location) and folders with checkpoints no config uses."""
    configs: dict[Path, list[Path]] = {}
    checkpoint_dirs: list[Path] = []
    for folder in _walk(root):
        if (folder / CONFIG_NAME).is_file():
            is_assets = folder.parts[-2:] == PLUGIN_ASSETS and folder.parent.parent != folder
            run_folder = folder.parent.parent if is_assets else folder
            configs.setdefault(run_folder, []).append(folder / CONFIG_NAME)
        if has_checkpoint_files(folder):
            checkpoint_dirs.append(folder)
    layouts = [_config_layout(folder, paths, root) for folder, paths in configs.items()]
    used = {layout.checkpoint.prefix.parent for layout in layouts if layout.checkpoint.prefix}
    for folder in checkpoint_dirs:
        if folder not in used and folder not in configs:
            lookup = latest_checkpoint(folder, root)
            layouts.append(RunLayout(folder, None, ProjectorConfig(), lookup))
    return sorted(layouts, key=lambda layout: layout.folder.relative_to(root).parts)


def _walk(root: Path) -> Iterator[Path]:
    """Every folder under ``root`` (itself included), hidden ones and symlinks skipped."""
    for folder, subfolders, _ in os.walk(root):
        subfolders[:] = sorted(
            d for d in subfolders if not d.startswith(".") and not os.path.islink(Path(folder, d))
        )
        yield Path(folder)


def _config_layout(folder: Path, config_paths: list[Path], root: Path) -> RunLayout:
    """Read the run's config (TensorBoard prefers the plugin-assets one) and find its checkpoint.

    A config that does not parse is reported, and the run's checkpoint is still offered.
    """
    config_path = max(config_paths, key=lambda p: len(p.parts))
    layout = RunLayout(folder, config_path, ProjectorConfig())
    if len(config_paths) > 1:
        layout.warnings.append(
            f"{folder}: two projector configs; using {config_path.relative_to(folder)}, "
            "as TensorBoard does"
        )
    try:
        layout.config = read_projector_config(config_path, root=root)
    except ProjectorError as exc:
        layout.warnings.append(str(exc))
    layout.checkpoint = _checkpoint_for(layout, root)
    return layout


def _checkpoint_for(layout: RunLayout, root: Path) -> CheckpointLookup:
    """The run's checkpoint: named by the config, else the latest in the run or its parent."""
    config = layout.config
    config_dir = layout.config_path.parent if layout.config_path else layout.folder
    if config.model_checkpoint_path:
        return resolve_configured(config.model_checkpoint_path, config_dir, root)
    if config.model_checkpoint_dir:
        return resolve_configured(config.model_checkpoint_dir, config_dir, root)
    lookup = latest_checkpoint(layout.folder, root)
    parent = layout.folder.parent
    if lookup.prefix is None and layout.folder != root and parent.is_relative_to(root):
        parent_lookup = latest_checkpoint(parent, root)
        parent_lookup.looked_in[:0] = lookup.looked_in
        parent_lookup.warnings[:0] = lookup.warnings
        return parent_lookup
    return lookup


def _open_run(root: Path, layout: RunLayout) -> Run:
    run = Run(name=run_name(layout.folder, root), path=layout.folder, warnings=layout.warnings)
    run.warnings.extend(layout.checkpoint.warnings)
    build_run_embeddings(run, root, layout.config_path, layout.config, layout.checkpoint)
    return run

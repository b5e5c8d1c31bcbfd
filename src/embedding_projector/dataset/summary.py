"""A JSON-ready description of what was opened (for ``projector inspect`` and the API)."""

from __future__ import annotations

from typing import Any

from embedding_projector.dataset.metadata import ColumnInfo, describe_columns
from embedding_projector.dataset.model import Embedding, Run, Workspace


def describe_workspace(workspace: Workspace) -> dict[str, Any]:
    """Runs, embeddings, metadata columns, sprites, bookmark counts and warnings.

    This is the stable document ``projector inspect --json`` prints.
    """
    return {"root": str(workspace.root), "runs": [describe_run(run) for run in workspace.runs]}


def describe_run(run: Run) -> dict[str, Any]:
    """One run and its embeddings."""
    return {
        "name": run.name,
        "path": str(run.path),
        "warnings": list(run.warnings),
        "embeddings": [describe_embedding(e) for e in run.embeddings],
    }


def describe_embedding(
    embedding: Embedding, columns: list[ColumnInfo] | None = None
) -> dict[str, Any]:
    """One embedding; reads its metadata and bookmarks (not its vectors).

    ``columns``: its columns' descriptions, when the caller has them already.
    """
    sprite = embedding.sprite
    if columns is None:
        columns = describe_columns(embedding.metadata)
    return {
        "name": embedding.name,
        "tensor_name": embedding.tensor_name,
        "run": embedding.run,
        "shape": list(embedding.shape),
        "dtype": embedding.dtype,
        "source": str(embedding.source.path),
        "metadata": {
            "path": None if embedding.metadata_path is None else str(embedding.metadata_path),
            "columns": [{"name": c.name, "kind": c.kind, "distinct": c.distinct} for c in columns],
        },
        "sprite": None
        if sprite is None
        else {
            "path": str(sprite.image_path),
            "image_size": list(sprite.image_size),
            "single_image_dim": list(sprite.single_image_dim),
            "grid": list(sprite.grid),
        },
        "bookmarks": len(embedding.bookmarks),
        "steps": len(embedding.steps),
        "warnings": embedding.warnings,
    }

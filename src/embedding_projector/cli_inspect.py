"""Text rendering of ``projector inspect``."""

from __future__ import annotations

from typing import Any


def format_workspace(document: dict[str, Any]) -> str:
    """The inspect document as indented text, one embedding a paragraph."""
    lines = [document["root"]]
    for run in document["runs"]:
        count = len(run["embeddings"])
        lines.append(f"run {run['name']}  ({count} embedding{'s' if count != 1 else ''})")
        lines += [f"  warning: {w}" for w in run["warnings"]]
        for emb in run["embeddings"]:
            lines += _format_embedding(emb)
    return "\n".join(lines)


def _format_embedding(emb: dict[str, Any]) -> list[str]:
    n, d = emb["shape"]
    name = (
        emb["name"]
        if emb["name"] == emb["tensor_name"]
        else f"{emb['name']} [{emb['tensor_name']}]"
    )
    lines = [f"  {name}  {n:,} × {d}  {emb['dtype']}  from {emb['source']}"]
    meta = emb["metadata"]
    columns = ", ".join(
        f"{c['name']} ({c['kind']}, {c['distinct']:,} distinct)" for c in meta["columns"]
    )
    lines.append(f"    metadata: {meta['path'] or 'none (row numbers)'}  columns: {columns}")
    sprite = emb["sprite"]
    if sprite:
        (w, h), (cols, rows) = sprite["single_image_dim"], sprite["grid"]
        width, height = sprite["image_size"]
        lines.append(
            f"    sprite: {sprite['path']}  {width}×{height} px, {w}×{h} thumbnails, "
            f"{cols}×{rows} grid"
        )
    lines.append(f"    bookmarks: {emb['bookmarks']}")
    if emb["steps"] > 1:
        lines.append(f"    steps: {emb['steps']}")
    lines += [f"    warning: {w}" for w in emb["warnings"]]
    return lines

"""embedding-projector: see your embeddings, on all of your points, without TensorFlow.

The public API::

    import embedding_projector
    ws = embedding_projector.open("logs/")     # any input of SPEC §2
    emb = ws.runs[0].embeddings[0]
    emb.vectors, emb.metadata, emb.sprite, emb.bookmarks, emb.warnings
    emb.steps                                   # checkpoints / add_embedding steps, oldest first

    from embedding_projector import projector  # TensorBoard-compatible writer API
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from embedding_projector._version import __version__

if TYPE_CHECKING:
    from embedding_projector.dataset.model import Embedding, Run, Sprite, Workspace
    from embedding_projector.dataset.opening import open_path as open
    from embedding_projector.dataset.steps import Step
    from embedding_projector.errors import ProjectorError
    from embedding_projector.notebook import compare, load_ipython_extension, serve, show
    from embedding_projector.projector import save_embeddings

# Loaded on first use, so that `projector --help` does not import numpy and pyarrow.
_LAZY = {
    "open": ("embedding_projector.dataset.opening", "open_path"),
    "Workspace": ("embedding_projector.dataset.model", "Workspace"),
    "Run": ("embedding_projector.dataset.model", "Run"),
    "Embedding": ("embedding_projector.dataset.model", "Embedding"),
    "Sprite": ("embedding_projector.dataset.model", "Sprite"),
    "Step": ("embedding_projector.dataset.steps", "Step"),
    "ProjectorError": ("embedding_projector.errors", "ProjectorError"),
    "save_embeddings": ("embedding_projector.projector", "save_embeddings"),
    "show": ("embedding_projector.notebook", "show"),
    "compare": ("embedding_projector.notebook", "compare"),
    "serve": ("embedding_projector.notebook", "serve"),
    "load_ipython_extension": ("embedding_projector.notebook", "load_ipython_extension"),
}

__all__ = [
    "Embedding",
    "ProjectorError",
    "Run",
    "Sprite",
    "Step",
    "Workspace",
    "__version__",
    "compare",
    "load_ipython_extension",
    "open",
    "save_embeddings",
    "serve",
    "show",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module, attribute = _LAZY[name]
        return getattr(importlib.import_module(module), attribute)
    raise AttributeError(f"module 'embedding_projector' has no attribute {name!r}")

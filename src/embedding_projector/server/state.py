"""What the server holds: the opened workspace, embedding ids, and the compute engine."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from fastapi import Request

from embedding_projector.dataset.model import Embedding, Workspace
from embedding_projector.errors import NotFoundError
from embedding_projector.server.engine import ComputeEngine


def embedding_id(embedding: Embedding) -> str:
    """An opaque, URL-safe id, stable across restarts (for shareable URLs and bookmarks)."""
    digest = hashlib.blake2b(f"{embedding.run}\0{embedding.tensor_name}".encode(), digest_size=9)
    return base64.urlsafe_b64encode(digest.digest()).decode()


@dataclass
class ServerState:
    """The workspace being served, its embeddings by id."""

    workspace: Workspace
    cache_dir: Path
    embeddings: dict[str, Embedding] = field(default_factory=dict)
    engine: ComputeEngine | None = None
    """Started with the app (its lifespan), stopped with it."""
    selections: dict[str, np.ndarray] = field(default_factory=dict)
    """What the page has selected, per embedding (it reports every change)."""
    last_selected: str | None = None
    """The embedding whose selection changed last."""

    def __post_init__(self) -> None:
        self.embeddings = {embedding_id(e): e for e in self.workspace}

    @property
    def compute(self) -> ComputeEngine:
        """The compute engine (the app's lifespan starts it)."""
        if self.engine is None:
            raise RuntimeError("the compute engine is not running (the app was not started)")
        return self.engine

    def select(self, embedding_id: str, rows: np.ndarray) -> None:
        """Record the page's selection of rows of an embedding."""
        self.selections[embedding_id] = rows
        self.last_selected = embedding_id

    def embedding(self, embedding_id: str) -> Embedding:
        """The embedding with this id, or a 404."""
        try:
            return self.embeddings[embedding_id]
        except KeyError:
            raise NotFoundError(
                f"no embedding with id {embedding_id!r}; GET /api/embeddings lists them"
            ) from None


def get_state(request: Request) -> ServerState:
    """FastAPI dependency: the state of the app serving this request."""
    state: ServerState = request.app.state.projector
    return state

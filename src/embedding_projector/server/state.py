"""What the server holds: the opened workspace, embedding ids, and the compute engine."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
from fastapi import Request

from embedding_projector.compute.cache import result_key
from embedding_projector.compute.hashing import table_hash
from embedding_projector.dataset.metadata import DESCRIBE_RULES, ColumnInfo, describe_columns
from embedding_projector.dataset.model import Embedding, Workspace
from embedding_projector.errors import NotFoundError
from embedding_projector.server.engine import ComputeEngine
from embedding_projector.server.layouts import LayoutStore
from embedding_projector.server.settings import DEFAULT_LOD_THRESHOLD

log = logging.getLogger(__name__)


def embedding_id(embedding: Embedding) -> str:
    """An opaque, URL-safe id, stable across restarts (for shareable URLs and bookmarks)."""
    digest = hashlib.blake2b(f"{embedding.run}\0{embedding.tensor_name}".encode(), digest_size=9)
    return base64.urlsafe_b64encode(digest.digest()).decode()


@dataclass
class ServerState:
    """The workspace being served, its embeddings by id."""

    workspace: Workspace
    cache_dir: Path
    lod_threshold: int = DEFAULT_LOD_THRESHOLD
    """Layouts of more points reach the page as tiles."""
    embeddings: dict[str, Embedding] = field(default_factory=dict)
    engine: ComputeEngine | None = None
    """Started with the app (its lifespan), stopped with it."""
    selections: dict[str, np.ndarray] = field(default_factory=dict)
    """What the page has selected, per embedding (it reports every change)."""
    last_selected: str | None = None
    """The embedding whose selection changed last."""
    layouts: LayoutStore = field(init=False)
    """The layouts shown last, with their tiles."""
    _column_infos: dict[str, list[ColumnInfo]] = field(default_factory=dict)
    _column_infos_lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.embeddings = {embedding_id(e): e for e in self.workspace}
        self.layouts = LayoutStore(self.cache_dir, threshold=self.lod_threshold)

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

    def column_infos(self, embedding_id: str) -> list[ColumnInfo]:
        """The kind and distinct count of each metadata column (read once: at ten million
        rows, counting takes seconds)."""
        with self._column_infos_lock:  # the warm-up and the first request share one read
            infos = self._column_infos.get(embedding_id)
            if infos is None:
                infos = self._described(self.embedding(embedding_id).metadata)
                self._column_infos[embedding_id] = infos
            return infos

    def _described(self, table: pa.Table) -> list[ColumnInfo]:
        """:func:`describe_columns`, kept in the result cache under the table's hash: a
        restart finds the distinct counts (2 s for ten million unique labels) at once."""
        cache = self.compute.jobs.cache
        key = result_key({"columns of": table_hash(table), "rules": DESCRIBE_RULES})
        found = cache.get(key)
        if found is not None:
            return [ColumnInfo(**column) for column in found[1]["columns"]]
        infos = describe_columns(table)
        try:
            cache.put(key, np.zeros(0, np.float32), {"columns": [asdict(i) for i in infos]})
        except OSError as exc:  # a full disk costs the next start 2 s, not this answer
            log.info("could not keep the description of the metadata columns: %s", exc)
        return infos

    async def warm_up_first_embedding(self) -> None:
        """Read the metadata and share the vectors of the embedding the page opens first.

        Started with the server: the page's first requests (the embeddings' columns, the
        first projection) then find them ready instead of waiting for them, as this runs
        while the browser loads the page's scripts. A failure is left for those requests to
        report.
        """
        first = next(iter(self.embeddings.items()), None)
        if first is None:
            return
        emb_id, embedding = first
        # Side by side: each is one core's work for seconds at ten million rows.
        results = await asyncio.gather(
            asyncio.to_thread(self.column_infos, emb_id),
            self.compute.vectors_key(emb_id, embedding),
            return_exceptions=True,
        )
        for exc in results:  # the page's own request reports it, with its context
            if isinstance(exc, Exception):
                log.info("could not warm up embedding %s: %s", emb_id, exc)

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

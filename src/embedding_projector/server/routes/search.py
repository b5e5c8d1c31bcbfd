"""Searching metadata: every matching row index, as int32 bytes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from embedding_projector.dataset.search import search_rows
from embedding_projector.server.binary import OCTET_STREAM, array_response
from embedding_projector.server.schemas import binary_responses
from embedding_projector.server.state import ServerState, get_state

router = APIRouter()
State = Annotated[ServerState, Depends(get_state)]


@router.get(
    "/embeddings/{emb_id}/search",
    response_class=Response,
    responses=binary_responses(OCTET_STREAM, "int32 row indices, ascending", shape=True),
)
def search(
    emb_id: str,
    state: State,
    q: Annotated[str, Query(max_length=10_000, description="Text (or regex) to find.")],
    column: Annotated[
        str | None, Query(description="Column to search (default: the first).")
    ] = None,
    regex: bool = False,
) -> Response:
    """Row indices matching ``q`` in ``column`` (case-insensitive substring, or regex)."""
    table = state.embedding(emb_id).metadata
    return array_response(search_rows(table, column or table.column_names[0], q, regex=regex))

"""The page's current selection, reported to the server (for ``show().selection`` in Python)."""

from __future__ import annotations

import asyncio
from typing import Annotated

import numpy as np
from fastapi import APIRouter, Depends, Request, Response

from embedding_projector.server.binary import OCTET_STREAM, array_response, int32_rows
from embedding_projector.server.schemas import SelectionSaved, binary_body, binary_responses
from embedding_projector.server.state import ServerState, get_state

router = APIRouter()
State = Annotated[ServerState, Depends(get_state)]


@router.put(
    "/embeddings/{emb_id}/selection",
    openapi_extra=binary_body(OCTET_STREAM, "The selected rows, int32 little-endian."),
)
async def put_selection(emb_id: str, request: Request, state: State) -> SelectionSaved:
    """Replace the selection: the body is the selected row indices as int32 bytes."""
    n = state.embedding(emb_id).shape[0]
    body = await request.body()  # at most 4 bytes a point (the router's bound)
    # Checking and sorting up to N rows must not block the event loop.
    rows, count = await asyncio.to_thread(_selected_rows, body, n)
    state.select(emb_id, rows)
    return SelectionSaved(selected=count)


def _selected_rows(body: bytes, n: int) -> tuple[np.ndarray, int]:
    """The distinct rows of int32 ``body``, and how many were sent."""
    rows = int32_rows(body, n)
    return np.unique(rows), int(rows.size)


@router.get(
    "/embeddings/{emb_id}/selection",
    response_class=Response,
    responses=binary_responses(OCTET_STREAM, "int32 row indices", shape=True),
)
async def get_selection(emb_id: str, state: State) -> Response:
    """The selected row indices, int32 bytes (empty when nothing is selected)."""
    state.embedding(emb_id)
    return array_response(state.selections.get(emb_id, np.empty(0, np.int64)).astype("<i4"))

"""The page's current selection, reported to the server (for ``show().selection`` in Python)."""

from __future__ import annotations

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
    rows = int32_rows(await request.body(), state.embedding(emb_id).shape[0])
    state.select(emb_id, np.unique(rows))
    return SelectionSaved(selected=int(rows.size))


@router.get(
    "/embeddings/{emb_id}/selection",
    response_class=Response,
    responses=binary_responses(OCTET_STREAM, "int32 row indices", shape=True),
)
async def get_selection(emb_id: str, state: State) -> Response:
    """The selected row indices, int32 bytes (empty when nothing is selected)."""
    state.embedding(emb_id)
    return array_response(state.selections.get(emb_id, np.empty(0, np.int64)).astype("<i4"))

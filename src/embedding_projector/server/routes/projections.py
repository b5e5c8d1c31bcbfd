"""Starting projections (jobs in the workers) and computing custom projections."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Depends, Response

from embedding_projector.compute import custom
from embedding_projector.dataset.model import Embedding
from embedding_projector.dataset.search import search_rows
from embedding_projector.errors import InvalidParameterError
from embedding_projector.server.binary import OCTET_STREAM, array_response
from embedding_projector.server.routes.layouts import layout_info
from embedding_projector.server.schemas import (
    CustomRequest,
    JobStatus,
    LayoutInfo,
    ProjectionRequest,
    StepQuery,
    binary_responses,
)
from embedding_projector.server.state import ServerState, get_state

router = APIRouter()
State = Annotated[ServerState, Depends(get_state)]


@router.post("/embeddings/{emb_id}/projections")
async def start_projection(
    emb_id: str, request: ProjectionRequest, state: State, step: StepQuery = None
) -> JobStatus:
    """Queue a projection; an identical one computed before is ``done`` at once (cache).

    Parameters not given take their defaults (``GET /api/config``), adapted to the number
    of points where they must stay below a bound that depends on it. ``step`` projects
    one of the embedding's steps instead of its own vectors (the compare view's other side).
    """
    embedding = state.embedding(emb_id)
    # Only what the client gave: the job engine fills in (and adapts) the defaults.
    spec = request.model_dump(exclude_unset=True)
    spec["params"] = with_labels(spec.get("params", {}), embedding)
    engine = state.compute
    key = await (
        engine.vectors_key(emb_id, embedding)
        if step is None
        else engine.step_key(emb_id, embedding, step)
    )
    job_id = await asyncio.to_thread(engine.jobs.submit, key, spec)
    return JobStatus.model_validate(engine.jobs.status(job_id))


def with_labels(params: dict[str, Any], embedding: Embedding) -> dict[str, Any]:
    """t-SNE's ``supervise_column`` names a metadata column; the workers get its values
    (also for timelines)."""
    params = dict(params)
    column = params.pop("supervise_column", None)
    if column is None:
        return params
    table = embedding.metadata
    if column not in table.column_names:
        raise InvalidParameterError(
            f"unknown `supervise_column` {column!r}; the metadata has "
            f"{', '.join(table.column_names)}"
        )
    params["labels"] = table.column(column).to_pylist()
    return params


@router.post(
    "/embeddings/{emb_id}/custom-projection",
    response_class=Response,
    responses=binary_responses(OCTET_STREAM, "float32 N × 2", shape=True),
)
async def custom_projection(emb_id: str, request: CustomRequest, state: State) -> Response:
    """N × 2 float32 coordinates, at once (a few matrix-vector products)."""
    return array_response(await custom_layout(state, emb_id, request))


@router.post("/embeddings/{emb_id}/custom-projection/layout")
async def custom_projection_layout(emb_id: str, request: CustomRequest, state: State) -> LayoutInfo:
    """The same projection, registered as a layout and described (its coordinates stay on
    the server: above ``lod_threshold`` points the page loads its tiles)."""
    positions = await custom_layout(state, emb_id, request)
    return layout_info(state, await asyncio.to_thread(state.layouts.add, positions))


async def custom_layout(state: ServerState, emb_id: str, request: CustomRequest) -> np.ndarray:
    """The custom projection's N × 2 float32 layout (computed in a thread)."""
    embedding = state.embedding(emb_id)
    table = embedding.metadata
    vectors = await state.compute.vectors(emb_id, embedding)

    def compute() -> np.ndarray:
        ends = {
            name: search_rows(
                table, query.column or table.column_names[0], query.text, regex=query.regex
            )
            for name, query in (
                ("left", request.left),
                ("right", request.right),
                ("up", request.up),
                ("down", request.down),
            )
        }
        return custom.run(vectors, spherize=request.spherize, **ends)

    layout: np.ndarray = await asyncio.to_thread(compute)
    return layout

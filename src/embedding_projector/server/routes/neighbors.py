"""Exact nearest neighbours in the original (or spherized) space."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from embedding_projector.errors import InvalidParameterError
from embedding_projector.server.bodies import JSONOffLoopRoute
from embedding_projector.server.schemas import Metric, NeighborQuery, Neighbors, StepQuery
from embedding_projector.server.state import ServerState, get_state

router = APIRouter(route_class=JSONOffLoopRoute)  # a query may hold N row numbers
State = Annotated[ServerState, Depends(get_state)]


@router.get("/embeddings/{emb_id}/neighbors")
async def neighbors_of_rows(
    emb_id: str,
    state: State,
    index: Annotated[int | None, Query(description="The row whose neighbours are wanted.")] = None,
    indices: Annotated[
        str | None, Query(description="Comma-separated rows: neighbours of their centroid.")
    ] = None,
    k: int = 100,
    metric: Metric = "cosine",
    spherize: bool = False,
    step: StepQuery = None,
) -> Neighbors:
    """The ``k`` nearest rows (the query rows excluded), nearest first, with distances."""
    rows = None if indices is None else _parse_rows(indices)
    return await _query(
        state, emb_id, spherize, step, k=k, metric=metric, index=index, indices=rows
    )


@router.post("/embeddings/{emb_id}/neighbors")
async def neighbors_of_vector(
    emb_id: str, query: NeighborQuery, state: State, step: StepQuery = None
) -> Neighbors:
    """The ``k`` nearest rows to a raw vector or to the centroid of ``indices``."""
    return await _query(
        state,
        emb_id,
        query.spherize,
        step,
        k=query.k,
        metric=query.metric,
        vector=query.vector,
        indices=query.indices,
    )


async def _query(
    state: ServerState, emb_id: str, spherize: bool, step: int | None, **target: Any
) -> Neighbors:
    embedding = state.embedding(emb_id)
    index = await state.compute.neighbor_index(emb_id, embedding, spherize=spherize, step=step)
    found = await asyncio.to_thread(lambda: index.query(**target))
    return Neighbors(indices=found.indices.tolist(), distances=found.distances.tolist())


def _parse_rows(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise InvalidParameterError(
            f"`indices` must be comma-separated row numbers, got {text[:40]!r}"
        ) from None

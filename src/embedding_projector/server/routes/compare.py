"""Comparing two embeddings of the same items: their rows paired, the overlap of k-NN sets."""

from __future__ import annotations

import asyncio
from typing import Annotated

import numpy as np
import pyarrow as pa
from fastapi import APIRouter, Depends, Response

from embedding_projector.dataset.alignment import Alignment, align_rows
from embedding_projector.server.binary import OCTET_STREAM, array_response
from embedding_projector.server.schemas import (
    CompareRequest,
    CompareSide,
    CompareSides,
    Comparison,
    JobStatus,
    binary_responses,
)
from embedding_projector.server.state import ServerState, get_state

router = APIRouter()
State = Annotated[ServerState, Depends(get_state)]


@router.post("/compare")
async def start_comparison(request: CompareRequest, state: State) -> Comparison:
    """Pair the rows of ``a`` and ``b`` and queue the overlap of their k-NN sets.

    Rows are paired by a metadata column of unique labels that both have, else by
    position; when they are not the same items, a 400 ``rows_differ`` says why. The job's
    result (``GET /api/jobs/{job}/result``) is float32 N × 1: per row of ``a``, the
    Jaccard index of its k nearest neighbours in ``a``'s space and in ``b``'s (exact,
    in the original spaces). An identical comparison computed before is ``done`` at once.
    """
    alignment = await _alignment(state, request)
    engine = state.compute
    key_a = await _key(state, request.a)
    key_b = await _aligned_key(state, request, alignment)
    params = {"k": request.k, "metric": request.metric}
    job_id = await asyncio.to_thread(engine.jobs.submit_overlap, key_a, key_b, params)
    return Comparison(
        a=request.a,
        b=request.b,
        rows=len(alignment.order),
        aligned_by=alignment.column,
        job=JobStatus.model_validate(engine.jobs.status(job_id)),
    )


@router.post(
    "/compare/alignment",
    response_class=Response,
    responses=binary_responses(OCTET_STREAM, "int32 N: the row of b of each row of a", shape=True),
)
async def comparison_alignment(request: CompareSides, state: State) -> Response:
    """Which row of ``b`` is each row of ``a`` (int32 N), paired as ``POST /api/compare`` does.

    400 ``rows_differ`` when the rows are not the same items.
    """
    alignment = await _alignment(state, request)
    return array_response(alignment.order.astype(np.int32))


def _name(state: State, side: CompareSide) -> str:
    """The side for people: ``run/name``, and the step's label."""
    embedding = state.embedding(side.embedding)
    name = embedding.name if embedding.run == "." else f"{embedding.run}/{embedding.name}"
    return name if side.step is None else f"{name} ({embedding.steps[side.step].label})"


def _ids(side: CompareSide) -> tuple[str, ...]:
    return (side.embedding, "" if side.step is None else str(side.step))


async def _alignment(state: State, request: CompareSides) -> Alignment:
    tables = [await _metadata(state, side) for side in (request.a, request.b)]
    names = (_name(state, request.a), _name(state, request.b))
    return await state.compute.once(
        ("alignment", *_ids(request.a), *_ids(request.b)),
        lambda: align_rows(tables[0], tables[1], names),
    )


async def _metadata(state: State, side: CompareSide) -> pa.Table:
    """The side's metadata: the embedding's, when the step has its rows; else row numbers."""
    embedding = state.embedding(side.embedding)
    table = await asyncio.to_thread(lambda: embedding.metadata)
    if side.step is None:
        return table
    vectors = await state.compute.step_vectors(side.embedding, embedding, side.step)
    if len(vectors) == table.num_rows:
        return table
    return pa.table({"index": pa.array(np.arange(len(vectors), dtype=np.int64))})


async def _vectors(state: State, side: CompareSide) -> np.ndarray:
    embedding = state.embedding(side.embedding)
    if side.step is None:
        return await state.compute.vectors(side.embedding, embedding)
    return await state.compute.step_vectors(side.embedding, embedding, side.step)


async def _key(state: State, side: CompareSide) -> str:
    """The side's vectors key, shared with its projections (and on the Dask cluster when
    they are: the overlap refuses those)."""
    embedding = state.embedding(side.embedding)
    if side.step is None:
        return await state.compute.vectors_key(side.embedding, embedding)
    return await state.compute.step_key(side.embedding, embedding, side.step)


async def _aligned_key(state: State, request: CompareSides, alignment: Alignment) -> str:
    """The key of ``b``'s vectors put in the order of ``a``'s rows."""
    if alignment.identity:
        return await _key(state, request.b)
    vectors = await _vectors(state, request.b)
    return await state.compute.registered(
        ("aligned", *_ids(request.a), *_ids(request.b)),
        lambda: np.ascontiguousarray(vectors[alignment.order]),
    )

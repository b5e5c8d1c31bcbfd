"""Timelines: one job over every step of an embedding (aligned layouts, or per-point drift)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends

from embedding_projector.dataset.model import Embedding
from embedding_projector.errors import InvalidParameterError, ProjectorError
from embedding_projector.server.routes.projections import with_labels
from embedding_projector.server.schemas import (
    DriftRequest,
    JobStatus,
    LeftOut,
    ProjectionRequest,
    TimelineStarted,
)
from embedding_projector.server.state import ServerState, get_state

router = APIRouter()
State = Annotated[ServerState, Depends(get_state)]


@router.post("/embeddings/{emb_id}/timeline")
async def start_timeline(emb_id: str, request: ProjectionRequest, state: State) -> TimelineStarted:
    """Every step that can be aligned, projected so that the steps can be morphed into each
    other: PCA on one basis fitted on all steps; t-SNE and UMAP each step started from the
    previous step's layout. Each step is streamed (`WS /api/jobs/{job}/stream`) and cached as
    it is done; steps already computed come from the cache."""
    embedding = state.embedding(emb_id)
    spec = request.model_dump(exclude_unset=True)
    spec["params"] = with_labels(spec.get("params", {}), embedding)
    return await _start(emb_id, embedding, spec, state)


@router.post("/embeddings/{emb_id}/drift")
async def start_drift(emb_id: str, request: DriftRequest, state: State) -> TimelineStarted:
    """Per point and step, the share of its k nearest neighbours (exact, in the original
    space) kept from the previous step and from the last: a timeline job whose step `s` is
    N × 2 float32 (NaN at the first step, which has no previous one)."""
    embedding = state.embedding(emb_id)
    spec = {"method": "drift", "params": request.model_dump()}
    return await _start(emb_id, embedding, spec, state)


async def _start(
    emb_id: str, embedding: Embedding, spec: dict[str, Any], state: ServerState
) -> TimelineStarted:
    engine = state.compute
    included: list[int] = []
    keys: list[str] = []
    left_out: list[LeftOut] = []
    for step in embedding.steps:
        if not step.alignable:  # unavailable, or another shape: its message says which
            why = step.message or "it cannot be aligned"
            left_out.append(LeftOut(index=step.position, label=step.label, message=why))
            continue
        try:
            keys.append(await engine.step_key(emb_id, embedding, step.position))
        except ProjectorError as exc:  # a corrupt step: the reader's message, the others go on
            left_out.append(LeftOut(index=step.position, label=step.label, message=str(exc)))
            continue
        included.append(step.position)
    if len(included) < 2:
        reasons = "; ".join(f"{gone.label}: {gone.message}" for gone in left_out)
        raise InvalidParameterError(
            f"embedding {emb_id!r} has {len(included)} step(s) that can be aligned, and a "
            f"timeline needs two or more" + (f" ({reasons})" if reasons else "")
        )
    job_id = await asyncio.to_thread(engine.jobs.submit_timeline, keys, spec)
    status = JobStatus.model_validate(engine.jobs.status(job_id))
    return TimelineStarted(job=status, steps=included, left_out=left_out)

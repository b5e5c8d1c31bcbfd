"""Following, controlling and streaming projection jobs."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated, Literal

import numpy as np
from fastapi import APIRouter, Depends, Response, WebSocket, WebSocketDisconnect

from embedding_projector.compute.tiles import sample_rows
from embedding_projector.server.binary import OCTET_STREAM, array_response
from embedding_projector.server.schemas import (
    ErrorFrame,
    JobStatus,
    LayoutFrame,
    StatusFrame,
    binary_responses,
)
from embedding_projector.server.state import ServerState, get_state

router = APIRouter()
State = Annotated[ServerState, Depends(get_state)]


@router.get("/jobs/{job_id}")
async def job_status(job_id: str, state: State) -> JobStatus:
    """State, progress, iteration, message or error (and PCA's variance ratios)."""
    return JobStatus.model_validate(state.compute.jobs.status(job_id))


@router.get(
    "/jobs/{job_id}/result",
    response_class=Response,
    responses=binary_responses(OCTET_STREAM, "float32 N × dims", shape=True),
)
async def job_result(job_id: str, state: State, step: int | None = None) -> Response:
    """The layout, float32 N × dims (a cancelled job's last one); 409 until there is one.

    Timelines: `step` (0 = the job's first) chooses the step (without it, the newest done);
    a drift job's steps are N × 2 (kept from the previous step, kept from the last)."""
    jobs = state.compute.jobs
    return array_response(jobs.result(job_id) if step is None else jobs.step_result(job_id, step))


@router.delete("/jobs/{job_id}")
async def cancel_job(job_id: str, state: State) -> JobStatus:
    """Stop the job (its worker is killed if it does not stop at once)."""
    return JobStatus.model_validate(state.compute.jobs.cancel(job_id))


@router.post("/jobs/{job_id}/{action}")
async def control_job(
    job_id: str, action: Literal["pause", "resume", "perturb"], state: State
) -> JobStatus:
    """Pause, resume, or perturb (shake the layout out of a poor minimum) a running t-SNE."""
    jobs = state.compute.jobs
    control = {"pause": jobs.pause, "resume": jobs.resume, "perturb": jobs.perturb}[action]
    return JobStatus.model_validate(control(job_id))


@router.websocket("/jobs/{job_id}/stream")
async def stream_job(websocket: WebSocket, job_id: str) -> None:
    """Status as JSON text frames; each new layout as ``{"type": "layout"}`` + float32 bytes.

    A layout comes before the status frame it came with: the status that ends a job follows
    the job's final layout, which the page then draws without asking for the result.
    A layout of more rows than ``lod_threshold`` streams as a density-preserving sample: the
    float32 frame holds the sampled rows' coordinates and an int32 frame of their indices
    follows (``LayoutFrame.sample_of`` says so).
    """
    state: ServerState = websocket.app.state.projector
    await websocket.accept()
    try:
        events = state.compute.jobs.subscribe(job_id)
    except Exception as exc:  # an unknown job: say so, then close
        await websocket.send_text(ErrorFrame(message=str(exc)).model_dump_json())
        await websocket.close(code=1008)
        return
    sample: np.ndarray | None = None
    with contextlib.suppress(WebSocketDisconnect, asyncio.CancelledError):
        async for event in events:
            coordinates = event.pop("coordinates")
            status = StatusFrame.model_validate({k: v for k, v in event.items() if k != "step"})
            if coordinates is not None:
                sample = await _send_layout(
                    websocket, state, coordinates, status.iteration, event["step"], sample
                )
            await websocket.send_text(status.model_dump_json())
        await websocket.close()


async def _send_layout(
    websocket: WebSocket,
    state: ServerState,
    coordinates: np.ndarray,
    iteration: int | None,
    step: int | None,
    sample: np.ndarray | None,
) -> np.ndarray | None:
    """Send one layout's frames; returns the rows sampled (the same all along a job)."""
    # A plain job's frame stays as it was: `step` only for timelines.
    unset = {"step"} if step is None else None
    n = len(coordinates)
    if n <= state.lod_threshold:
        header = LayoutFrame(iteration=iteration, shape=coordinates.shape, step=step)
        await websocket.send_text(header.model_dump_json(exclude=unset))
        await websocket.send_bytes(coordinates.astype("<f4", copy=False).tobytes())
        return sample
    if sample is None:  # the same rows all along: the page's points move, not change
        sample = await asyncio.to_thread(sample_rows, n, state.layouts.capacity)
    sampled = coordinates[sample].astype("<f4")
    header = LayoutFrame(iteration=iteration, shape=sampled.shape, sample_of=n, step=step)
    await websocket.send_text(header.model_dump_json(exclude=unset))
    await websocket.send_bytes(sampled.tobytes())
    await websocket.send_bytes(sample.astype("<i4").tobytes())
    return sample

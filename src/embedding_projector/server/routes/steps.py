"""The steps of an embedding (its checkpoints or ``add_embedding`` steps) and their vectors."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Response

from embedding_projector.dataset.steps import Step
from embedding_projector.errors import NotFoundError
from embedding_projector.server.binary import OCTET_STREAM, array_response
from embedding_projector.server.schemas import StepInfo, StepList, binary_responses
from embedding_projector.server.state import ServerState, get_state

router = APIRouter()
State = Annotated[ServerState, Depends(get_state)]


@router.get("/embeddings/{emb_id}/steps")
def list_steps(emb_id: str, state: State) -> StepList:
    """Every step with its shape, availability and, when there is one, the reader's message."""
    steps = state.embedding(emb_id).steps
    root = state.workspace.root
    return StepList(
        embedding=emb_id,
        default=next(s.position for s in steps if s.default),
        steps=[_describe(step, root) for step in steps],
    )


@router.get(
    "/embeddings/{emb_id}/steps/{index}/vectors",
    response_class=Response,
    responses=binary_responses(OCTET_STREAM, "float32 N × D, row-major", shape=True, ranges=True),
)
async def get_step_vectors(
    emb_id: str,
    index: int,
    state: State,
    range_header: Annotated[str | None, Header(alias="Range")] = None,
) -> Response:
    """float32 little-endian row-major bytes of one step; ``X-Shape: N,D``; byte ranges."""
    embedding = state.embedding(emb_id)
    steps = embedding.steps
    if not 0 <= index < len(steps):
        raise NotFoundError(
            f"embedding {emb_id!r} has {len(steps)} steps (0..{len(steps) - 1}), not {index}; "
            f"GET /api/embeddings/{emb_id}/steps lists them"
        )
    vectors = await state.compute.step_vectors(emb_id, embedding, index)  # CRCs checked
    return array_response(vectors, byte_range=range_header)


def _describe(step: Step, root: Path) -> StepInfo:
    return StepInfo(
        index=step.position,
        step=step.number,
        label=step.label,
        file=step.path.relative_to(root).as_posix()
        if step.path.is_relative_to(root)
        else step.path.name,
        shape=step.shape,
        dtype=step.dtype,
        default=step.default,
        available=step.available,
        alignable=step.alignable,
        message=step.message,
    )

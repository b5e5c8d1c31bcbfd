"""Reading a layout: its faithfulness and its clusters, as jobs in the workers.

Both answer a :class:`.JobStatus` (``done`` at once from the cache); the page follows
the job like a projection's, then reads ``GET /api/jobs/{job}/result`` (float32 per
point, or int32 cluster labels) and the status's ``summary``.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Depends

from embedding_projector.compute import analyses
from embedding_projector.dataset.metadata import describe_columns
from embedding_projector.errors import InvalidParameterError
from embedding_projector.server.routes.projections import custom_layout
from embedding_projector.server.schemas import (
    ClustersRequest,
    CustomRequest,
    FaithfulnessRequest,
    JobStatus,
)
from embedding_projector.server.state import ServerState, get_state

router = APIRouter()
State = Annotated[ServerState, Depends(get_state)]


@router.post("/embeddings/{emb_id}/faithfulness")
async def start_faithfulness(emb_id: str, request: FaithfulnessRequest, state: State) -> JobStatus:
    """Per point, the share of its k nearest neighbours (in the original space, with
    this metric, spherized or not) that the layout keeps among its k nearest.

    The layout is a finished projection job's (``job``) or a custom projection
    (``custom``). Fewer than k + 1 points is a 400 that says so.
    """
    layout = await _layout(state, emb_id, request.job, request.custom, required=True)
    assert layout is not None
    key = await state.compute.vectors_key(emb_id, state.embedding(emb_id))

    def spec(n: int) -> analyses.AnalysisSpec:
        return analyses.faithfulness_spec(
            layout, n, k=request.k, metric=request.metric, spherize=request.spherize
        )

    return await _submit(state, key, spec)


@router.post("/embeddings/{emb_id}/clusters")
async def start_clusters(emb_id: str, request: ClustersRequest, state: State) -> JobStatus:
    """HDBSCAN clusters of a finished layout (``job`` or ``custom``), or of the vectors'
    first ten principal components (neither), each named from ``name_column``: its most
    distinctive terms (a text column) or its majority value and share (a categorical
    one); "cluster 3" without. Labels are int32, -1 for noise; when every point is
    noise the job fails with a sentence saying what to change."""
    embedding = state.embedding(emb_id)
    layout = await _layout(state, emb_id, request.job, request.custom, required=False)
    key = await state.compute.vectors_key(emb_id, embedding)
    naming = await asyncio.to_thread(_naming_column, embedding.metadata, request.name_column)

    def spec(n: int) -> analyses.AnalysisSpec:
        return analyses.clusters_spec(
            layout, n, min_cluster_size=request.min_cluster_size, **naming
        )

    return await _submit(state, key, spec)


async def _layout(
    state: ServerState,
    emb_id: str,
    job: str | None,
    custom: CustomRequest | None,
    *,
    required: bool,
) -> np.ndarray | None:
    """The layout a request names: a finished job's (of this embedding), or a custom one."""
    if job is not None and custom is not None:
        raise InvalidParameterError("give `job` or `custom`, not both")
    if custom is not None:
        return await custom_layout(state, emb_id, custom)
    if job is None:
        if required:
            raise InvalidParameterError("give `job` (a finished projection) or `custom`")
        return None
    jobs = state.compute.jobs
    key = await state.compute.vectors_key(emb_id, state.embedding(emb_id))
    if jobs.status(job)["method"] not in ("pca", "tsne", "umap") or jobs.vectors_of(job) != key:
        raise InvalidParameterError(f"job `{job}` is not a projection of this embedding")
    return jobs.result(job)


def _naming_column(table: Any, name: str | None) -> dict[str, list[Any]]:
    """``text=`` or ``categories=`` for :func:`.analyses.clusters_spec` from a column."""
    if name is None:
        return {}
    if name not in table.column_names:
        raise InvalidParameterError(
            f"unknown `name_column` {name!r}; the metadata has {', '.join(table.column_names)}"
        )
    (info,) = describe_columns(table.select([name]))
    values = table.column(name).to_pylist()
    return {"text": values} if info.kind == "text" else {"categories": values}


async def _submit(state: ServerState, key: str, spec: Any) -> JobStatus:
    jobs = state.compute.jobs
    job_id = await asyncio.to_thread(jobs.submit_analysis, key, spec)
    return JobStatus.model_validate(jobs.status(job_id))

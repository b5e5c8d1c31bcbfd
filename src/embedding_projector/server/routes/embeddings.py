"""Listing embeddings and serving their vectors, metadata and sprite."""

from __future__ import annotations

import mimetypes
from typing import Annotated

import pyarrow as pa
from fastapi import APIRouter, Depends, Header, Query, Request, Response

from embedding_projector.dataset.metadata import ColumnInfo
from embedding_projector.dataset.summary import describe_embedding
from embedding_projector.errors import InvalidParameterError, NotFoundError
from embedding_projector.formats.files import read_inside
from embedding_projector.server.binary import OCTET_STREAM, array_response, int32_rows
from embedding_projector.server.schemas import (
    EmbeddingInfo,
    RunInfo,
    SpriteInfo,
    binary_body,
    binary_responses,
)
from embedding_projector.server.state import ServerState, embedding_id, get_state

router = APIRouter()
State = Annotated[ServerState, Depends(get_state)]
ARROW_STREAM = "application/vnd.apache.arrow.stream"
#: Text columns of at most this many distinct values are sent dictionary-encoded; the page
#: loads them (and every numeric column) even above the level-of-detail threshold.
DICTIONARY_LIMIT = 65_536


@router.get("/embeddings")
def list_embeddings(state: State) -> list[EmbeddingInfo]:
    """Every embedding: id, run, name, shape, stored dtype, columns, sprite, steps, warnings."""
    result = []
    for emb_id, embedding in state.embeddings.items():
        described = describe_embedding(embedding, state.column_infos(emb_id))
        sprite = described["sprite"]
        result.append(
            EmbeddingInfo(
                id=emb_id,
                run=described["run"],
                name=described["name"],
                tensor_name=described["tensor_name"],
                shape=described["shape"],
                dtype=described["dtype"],
                columns=described["metadata"]["columns"],
                has_sprite=sprite is not None,
                sprite=None if sprite is None else SpriteInfo.model_validate(sprite),
                bookmarks=described["bookmarks"],
                steps=described["steps"],
                warnings=described["warnings"],
            )
        )
    return result


@router.get("/runs")
def list_runs(state: State) -> list[RunInfo]:
    """Runs and their own warnings (e.g. "no checkpoint found"), with their embeddings' ids."""
    return [
        RunInfo(
            name=run.name,
            warnings=run.warnings,
            embeddings=[embedding_id(e) for e in run.embeddings],
        )
        for run in state.workspace.runs
    ]


@router.get(
    "/embeddings/{emb_id}/vectors",
    response_class=Response,
    responses=binary_responses(OCTET_STREAM, "float32 N × D, row-major", shape=True, ranges=True),
)
async def get_vectors(
    emb_id: str,
    state: State,
    start: Annotated[int | None, Query(ge=0, description="First row (default 0).")] = None,
    stop: Annotated[int | None, Query(ge=1, description="Row after the last (default N).")] = None,
    range_header: Annotated[str | None, Header(alias="Range")] = None,
) -> Response:
    """float32 little-endian row-major bytes; ``X-Shape: N,D``. Rows or byte ranges on demand."""
    embedding = state.embedding(emb_id)
    vectors = await state.compute.vectors(emb_id, embedding)  # the first read checks CRCs
    if start is None and stop is None:
        state.compute.prefetch_neighbor_index(emb_id, embedding)
    n = vectors.shape[0]
    first, last = start or 0, n if stop is None else stop
    if not 0 <= first < last <= n:
        raise InvalidParameterError(f"rows `start`={first}, `stop`={last} are not within 0..{n}")
    return array_response(vectors[first:last], byte_range=range_header)


@router.get(
    "/embeddings/{emb_id}/metadata",
    response_class=Response,
    responses=binary_responses(ARROW_STREAM, "One row per vector"),
)
def get_metadata(
    emb_id: str,
    state: State,
    columns: Annotated[
        list[str] | None,
        Query(description="Only these columns (repeat the parameter), in this order."),
    ] = None,
) -> Response:
    """The metadata table as an Arrow IPC stream (one row per vector).

    Text columns of at most ``DICTIONARY_LIMIT`` distinct values are dictionary-encoded:
    a code per row and each value once.
    """
    table = state.embedding(emb_id).metadata
    if columns is not None:
        unknown = [c for c in columns if c not in table.column_names]
        if unknown:
            raise InvalidParameterError(
                f"unknown `columns` {', '.join(map(repr, unknown))}; the metadata has "
                f"{', '.join(table.column_names)}"
            )
        table = table.select(columns)
    return arrow_response(_dictionary_encoded(table, state.column_infos(emb_id)))


@router.post(
    "/embeddings/{emb_id}/rows",
    response_class=Response,
    responses=binary_responses(ARROW_STREAM, "The rows asked for, in that order"),
    openapi_extra=binary_body(OCTET_STREAM, "Row indices, int32 little-endian."),
)
async def get_rows(emb_id: str, request: Request, state: State) -> Response:
    """The metadata of some rows (every column), as an Arrow IPC stream: what the page shows
    of the few points it labels when it has not loaded a column (above ``lod_threshold``)."""
    embedding = state.embedding(emb_id)
    rows = int32_rows(await request.body(), embedding.shape[0])
    return arrow_response(embedding.metadata.take(pa.array(rows)))


def arrow_response(table: pa.Table) -> Response:
    """A table as an Arrow IPC stream."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return Response(sink.getvalue().to_pybytes(), media_type=ARROW_STREAM)


def _dictionary_encoded(table: pa.Table, infos: list[ColumnInfo]) -> pa.Table:
    """The table with its text columns of few distinct values dictionary-encoded."""
    limit = {info.name: info.distinct <= DICTIONARY_LIMIT for info in infos}
    for k, name in enumerate(table.column_names):
        column = table.column(k)
        if limit.get(name) and pa.types.is_string(column.type):
            table = table.set_column(k, name, column.dictionary_encode())
    return table


@router.get(
    "/embeddings/{emb_id}/sprite",
    response_class=Response,
    responses=binary_responses("image/*", "The atlas image, as stored (PNG or JPEG)"),
)
def get_sprite(emb_id: str, state: State) -> Response:
    """The sprite atlas image, read now, inside the opened folder (404 once it is gone)."""
    sprite = state.embedding(emb_id).sprite
    if sprite is None:
        raise NotFoundError(f"embedding {emb_id!r} has no sprite")
    media_type = mimetypes.guess_type(sprite.image_path.name)[0] or OCTET_STREAM
    return Response(read_inside(sprite.image_path, sprite.root), media_type=media_type)

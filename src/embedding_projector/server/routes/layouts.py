"""Layouts by id: their tiles (level of detail), positions of rows, and selection by shape.

Above ``lod_threshold`` points the page never holds a whole layout: it registers the
projection's layout (``GET /api/jobs/{job}/layout``), loads the tiles its view needs, asks
for the positions of the few rows it highlights, and sends a drawn rectangle or lasso here
to be decided over every row.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import numpy as np
from fastapi import APIRouter, Depends, Query, Request, Response

from embedding_projector.compute.layout_select import rows_in_shape
from embedding_projector.compute.tiles import TileTree
from embedding_projector.errors import InvalidParameterError, NotFoundError
from embedding_projector.server.binary import OCTET_STREAM, array_response, int32_rows
from embedding_projector.server.layouts import Layout
from embedding_projector.server.schemas import (
    LayoutInfo,
    SelectRequest,
    TileIndex,
    TileNodes,
    binary_body,
    binary_responses,
)
from embedding_projector.server.state import ServerState, get_state

router = APIRouter()
State = Annotated[ServerState, Depends(get_state)]
#: Tiles are named by the layout's id, which names its coordinates and tiling for good.
IMMUTABLE = "public, max-age=31536000, immutable"


def layout_info(state: ServerState, layout: Layout) -> LayoutInfo:
    """What the page needs to know of a registered layout."""
    return LayoutInfo(
        id=layout.id,
        n=layout.n,
        dims=layout.dims,  # type: ignore[arg-type]
        low=layout.low.tolist(),
        high=layout.high.tolist(),
        tiled=state.layouts.tiled(layout),
    )


@router.get("/jobs/{job_id}/layout")
async def job_layout(job_id: str, state: State) -> LayoutInfo:
    """Register the job's layout (its result, or a cancelled job's last) and describe it;
    409 until it has one."""
    positions = state.compute.jobs.result(job_id)
    layout = await asyncio.to_thread(state.layouts.add, positions)
    return layout_info(state, layout)


@router.get("/layouts/{layout_id}")
def get_layout(layout_id: str, state: State) -> LayoutInfo:
    """A registered layout; 404 ``stale_layout`` once a newer one replaced it."""
    return layout_info(state, state.layouts.get(layout_id))


@router.get("/layouts/{layout_id}/tiles")
async def tile_index(layout_id: str, state: State) -> TileIndex:
    """How the layout is cut into tiles (built the first time, then cached with it)."""
    layout = state.layouts.get(layout_id)
    tree = await state.layouts.tiles(layout)
    return TileIndex(
        layout=layout.id,
        dims=tree.dims,  # type: ignore[arg-type]
        low=tree.low.tolist(),
        size=tree.size,
        capacity=tree.capacity,
        levels=tree.levels.tolist(),
        outliers=tree.outliers,
        tiles=TileNodes(
            depth=tree.depth.tolist(),
            cell=tree.cell.tolist(),
            parent=tree.parent.tolist(),
            count=tree.counts.tolist(),
            total=tree.subtree_counts().tolist(),
            level_counts=tree.level_counts.tolist(),
        ),
    )


@router.get(
    "/layouts/{layout_id}/tiles/{depth}/{x}/{y}",
    response_class=Response,
    responses=binary_responses(
        OCTET_STREAM,
        "The tile's rows in rank order: float32 count × dims coordinates, then int32 "
        "count row indices",
        shape=True,
    ),
)
async def get_tile(
    layout_id: str,
    depth: int,
    x: int,
    y: int,
    state: State,
    z: Annotated[int | None, Query(description="The cell's third coordinate (3-D).")] = None,
) -> Response:
    """One tile: its rows' coordinates and row indices, in one body (``X-Shape: count,dims``)."""
    layout = state.layouts.get(layout_id)
    tree = await state.layouts.tiles(layout)
    k = _tile_at(tree, depth, (x, y) if z is None else (x, y, z))
    rows = tree.tile_rows(k)
    positions = np.ascontiguousarray(layout.positions[rows], "<f4")
    body = positions.tobytes() + rows.astype("<i4").tobytes()
    headers = {"X-Shape": f"{len(rows)},{tree.dims}", "Cache-Control": IMMUTABLE}
    return Response(body, media_type=OCTET_STREAM, headers=headers)


def _tile_at(tree: TileTree, depth: int, cell: tuple[int, ...]) -> int:
    """The index of the tile at ``depth`` and ``cell``, or a 4xx saying why there is none."""
    if len(cell) != tree.dims:
        axes = "x, y, z" if tree.dims == 3 else "x, y"
        raise InvalidParameterError(
            f"the tiles of this layout have {tree.dims} coordinates ({axes})"
        )
    deepest = int(tree.depth.max())
    if not 0 <= depth <= deepest:
        raise NotFoundError(f"no tile at depth {depth}: this layout's tiles go from 0 to {deepest}")
    side = 2**depth
    if not all(0 <= c < side for c in cell):
        raise InvalidParameterError(
            f"tile {'/'.join(map(str, cell))} is outside depth {depth}, whose cells go from 0 "
            f"to {side - 1}"
        )
    k = tree.tile_at(depth, cell)
    if k is None:
        raise NotFoundError(
            f"no tile at depth {depth}, cell {'/'.join(map(str, cell))}: that cell is empty or "
            "its points are in a tile above it"
        )
    return k


@router.post(
    "/layouts/{layout_id}/positions",
    response_class=Response,
    responses=binary_responses(OCTET_STREAM, "float32 rows × dims, in the order asked", shape=True),
    openapi_extra=binary_body(OCTET_STREAM, "Row indices, int32 little-endian."),
)
async def row_positions(layout_id: str, request: Request, state: State) -> Response:
    """The coordinates of the given rows (those the page highlights or labels)."""
    layout = state.layouts.get(layout_id)
    rows = int32_rows(await request.body(), layout.n)
    return array_response(np.ascontiguousarray(layout.positions[rows], "<f4"))


@router.post(
    "/layouts/{layout_id}/select",
    response_class=Response,
    responses=binary_responses(OCTET_STREAM, "int32 row indices, ascending", shape=True),
)
async def select_in_shape(layout_id: str, request: SelectRequest, state: State) -> Response:
    """Every row drawn inside the rectangle or lasso, over all rows (not only those loaded)."""
    layout = state.layouts.get(layout_id)
    if (request.rectangle is None) == (request.polygon is None):
        raise InvalidParameterError("give a `rectangle` or a `polygon` (one of them)")
    if request.polygon is not None and len(request.polygon) % 2:
        raise InvalidParameterError("`polygon` must hold x, y pairs (an even count of numbers)")
    rectangle = None if request.rectangle is None else tuple(request.rectangle)
    polygon = None if request.polygon is None else np.array(request.polygon)
    rows = await asyncio.to_thread(
        rows_in_shape,
        layout.positions,
        np.array(request.matrix),
        rectangle=rectangle,  # type: ignore[arg-type]
        polygon=polygon,
    )
    return array_response(rows)

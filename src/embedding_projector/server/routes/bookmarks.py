"""Reading and saving an embedding's bookmarks."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from embedding_projector.errors import InvalidParameterError
from embedding_projector.formats.bookmarks import parse_bookmarks
from embedding_projector.server import bookmarks_store
from embedding_projector.server.schemas import BookmarksSaved, json_body
from embedding_projector.server.state import ServerState, get_state

router = APIRouter()
State = Annotated[ServerState, Depends(get_state)]


@router.get("/embeddings/{emb_id}/bookmarks")
def get_bookmarks(emb_id: str, state: State) -> list[dict[str, Any]]:
    """The saved states: the page's last save, else the config's ``bookmarks_path`` file."""
    return bookmarks_store.load(state.embedding(emb_id), emb_id, state.cache_dir)


@router.put(
    "/embeddings/{emb_id}/bookmarks",
    openapi_extra=json_body({"type": "array", "items": {"type": "object"}}, "The saved states."),
)
async def put_bookmarks(emb_id: str, request: Request, state: State) -> BookmarksSaved:
    """Save the page's bookmarks (a JSON array of objects), atomically, in our own file."""
    embedding = state.embedding(emb_id)
    body = await request.body()  # at most MAX_BOOKMARKS_BYTES (see app.py)
    # Parsing and writing big bookmark files (per-point coordinates) must not block the loop.
    states = await run_in_threadpool(_parse_states, body)
    path = await run_in_threadpool(bookmarks_store.save, embedding, emb_id, state.cache_dir, states)
    return BookmarksSaved(saved=len(states), path=str(path))


def _parse_states(body: bytes) -> list[dict[str, Any]]:
    try:
        return parse_bookmarks(body.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise InvalidParameterError(
            f"bookmarks not saved: the body is not UTF-8 (byte {exc.start})"
        ) from exc
    except ValueError as exc:  # one sentence saying what is wrong
        raise InvalidParameterError(f"bookmarks not saved: {exc}") from exc

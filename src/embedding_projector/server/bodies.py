"""Request bodies: a bound on every route's, and JSON parsed off the event loop.

Every request body is read through :class:`BodyLimitMiddleware`: a body larger than its
route's bound is refused with 413 (the JSON error) as soon as its declared length, or
the bytes counted so far, pass the bound; nothing beyond it is ever read. Most routes
take small JSON; those whose bodies grow with the data have bounds derived from the
largest embedding served.

(FastAPI's own ``max_body_size`` answers in plain text, and replaces whatever the route
answered, so it cannot give the API's JSON error.)
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Coroutine, Iterable, Mapping
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from embedding_projector.dataset.model import Embedding

DEFAULT_BODY_BYTES = 2**20
"""Every route without a bound of its own: small JSON (a projection, a custom projection)."""


def selection_body_bytes(embeddings: Iterable[Embedding]) -> int:
    """A selection is int32 row numbers, each row at most once: 4 bytes a point."""
    return 4 * max((e.shape[0] for e in embeddings), default=0)


def neighbors_body_bytes(embeddings: Iterable[Embedding]) -> int:
    """A neighbour query is JSON holding up to N row numbers (at most 10 digits and ", ")
    or one vector of D numbers (at most 24 characters and ", " each)."""
    largest = max((12 * e.shape[0] + 26 * e.shape[1] for e in embeddings), default=0)
    return DEFAULT_BODY_BYTES + largest


class BodyLimitMiddleware:
    """ASGI middleware bounding every request body; ``bounds`` maps endpoints to theirs."""

    def __init__(
        self, app: ASGIApp, *, default: int, bounds: Mapping[Callable[..., Any], int]
    ) -> None:
        self.app = app
        self.default = default
        self.bounds = bounds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _declared_length(scope)
        received = 0

        async def bounded_receive() -> Message:
            nonlocal received
            # Read when the route reads its body: by then the router has set its endpoint.
            bound = self.bounds.get(scope.get("endpoint"), self.default)  # type: ignore[arg-type]
            if declared is not None and declared > bound:
                raise _too_large(bound)
            message = await receive()
            received += len(message.get("body", b""))
            if received > bound:
                raise _too_large(bound)
            return message

        await self.app(scope, bounded_receive, send)


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() and len(value) < 19 else sys.maxsize
    return None


def _too_large(bound: int) -> HTTPException:
    # An HTTPException, so that FastAPI passes it on from its own parsing of JSON bodies.
    return HTTPException(
        413, f"the request body is larger than the {bound:,} bytes this route accepts"
    )


class JSONOffLoopRoute(APIRoute):
    """A route whose JSON body is parsed in a thread: big bodies never stall the server."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            return await handler(_JSONOffLoopRequest(request.scope, request.receive))

        return handle


class _JSONOffLoopRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = await run_in_threadpool(json.loads, await self.body())
        return self._json

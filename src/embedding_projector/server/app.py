"""The FastAPI application: ``create_app(workspace, settings=...)``."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from embedding_projector._version import __version__
from embedding_projector.dataset.model import Workspace
from embedding_projector.server.engine import ComputeEngine
from embedding_projector.server.errors import install_error_handlers
from embedding_projector.server.routes import (
    bookmarks,
    embeddings,
    jobs,
    neighbors,
    projections,
    search,
    selection,
    steps,
)
from embedding_projector.server.security import SecurityMiddleware, is_loopback
from embedding_projector.server.settings import Settings
from embedding_projector.server.state import ServerState

_NO_BUNDLE = """<!doctype html><meta charset="utf-8"><title>Embedding Projector</title>
<p>The web page of embedding-projector is not built. Run <code>make build</code> in the
source tree (it needs Node.js), or install a released wheel, which includes it.
The API is up: <a href="api/docs">api/docs</a>.</p>"""


def create_app(workspace: Workspace, *, settings: Settings | None = None) -> FastAPI:
    """Build the app serving ``workspace``: the API under ``/api``, the page at ``/``."""
    settings = settings or Settings()
    state = ServerState(workspace, settings.cache_dir)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Workers start with the server and stop with it (Ctrl-C included).
        state.engine = ComputeEngine(
            cache_dir=settings.cache_dir, n_workers=settings.workers, cluster=settings.cluster
        )
        state.engine.start()
        try:
            yield
        finally:
            engine, state.engine = state.engine, None
            await asyncio.to_thread(engine.close)

    app = FastAPI(
        lifespan=lifespan,
        title="Embedding Projector",
        version=__version__,
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
    )
    app.state.projector = state
    app.state.settings = settings
    install_error_handlers(app)

    api = APIRouter(prefix="/api")

    @api.get("/health")
    async def health() -> dict[str, str]:
        """Liveness: answers at once, whatever the workers are doing."""
        return {"status": "ok"}

    @api.get("/config")
    async def config() -> dict[str, Any]:
        """What the page needs to start: version and the projection to show first."""
        return {"version": __version__, "projection": settings.projection}

    for module in (embeddings, steps, search, bookmarks, neighbors, projections, jobs, selection):
        api.include_router(module.router)
    app.include_router(api)

    if (settings.static_dir / "index.html").is_file():
        app.mount("/", StaticFiles(directory=settings.static_dir, html=True), name="static")
    else:

        @app.get("/", response_class=HTMLResponse, include_in_schema=False)
        async def no_bundle() -> str:
            return _NO_BUNDLE

    app.add_middleware(
        SecurityMiddleware, token=settings.token, loopback_only=is_loopback(settings.host)
    )
    return app

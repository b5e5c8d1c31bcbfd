"""The FastAPI application: ``create_app(workspace, settings=...)``."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.routing import Route

from embedding_projector._version import __version__
from embedding_projector.dataset.model import Workspace
from embedding_projector.formats.bookmarks import MAX_BOOKMARKS_BYTES
from embedding_projector.server import bookmarks_store
from embedding_projector.server.bodies import (
    DEFAULT_BODY_BYTES,
    BodyLimitMiddleware,
    neighbors_body_bytes,
    selection_body_bytes,
)
from embedding_projector.server.engine import ComputeEngine
from embedding_projector.server.errors import install_error_handlers
from embedding_projector.server.in_process import Request, answer
from embedding_projector.server.routes import (
    analyses,
    bookmarks,
    compare,
    embeddings,
    jobs,
    layouts,
    neighbors,
    projections,
    search,
    selection,
    steps,
    timeline,
)
from embedding_projector.server.schemas import (
    ERROR_RESPONSES,
    STREAM_FRAMES,
    Health,
    ServerConfig,
)
from embedding_projector.server.security import SecurityMiddleware, is_loopback
from embedding_projector.server.settings import Settings
from embedding_projector.server.state import ServerState

_NO_BUNDLE = """<!doctype html><meta charset="utf-8"><title>Embedding Projector</title>
<p>The web page of embedding-projector is not built. Run <code>make build</code> in the
source tree (it needs Node.js), or install a released wheel, which includes it.
The API is up: <a href="api/docs">api/docs</a>.</p>"""


async def _warm_up(app: FastAPI, state: ServerState) -> None:
    """What the page's first requests would otherwise wait for, done while it loads.

    The first embedding's metadata and vectors; then one request that matches no route,
    answered in-process: FastAPI builds a router's table of routes on the first request that
    walks it (0.1 s for ours, which the first projection request paid), and this one walks
    them all.
    """
    await state.warm_up_first_embedding()
    await answer(app, Request("GET", "/api/-"), lambda *_: None, lambda *_: None)


def create_app(
    workspace: Workspace, *, settings: Settings | None = None, engine: ComputeEngine | None = None
) -> FastAPI:
    """Build the app serving ``workspace``: the API under ``/api``, the page at ``/``.

    ``engine``: one made with :meth:`ComputeEngine.of` before this app (its workers start
    while the server is still importing); else the app starts its own. Either way the
    app's shutdown closes it.
    """
    settings = settings or Settings()
    state = ServerState(workspace, settings.cache_dir, lod_threshold=settings.lod_threshold)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # What bookmark saves killed midway left behind (never a save still under way).
        await asyncio.to_thread(
            bookmarks_store.remove_stale_saves, state.embeddings.items(), settings.cache_dir
        )
        # Workers start with the server (or before it) and stop with it (Ctrl-C included).
        nonlocal engine  # one made before is this lifespan's only: a closed engine never returns
        state.engine, engine = engine or ComputeEngine.of(settings), None
        state.engine.start()
        # First paint first: the first embedding's metadata and vectors are read while the
        # browser loads the page.
        warm_up = asyncio.create_task(_warm_up(app, state))
        try:
            yield
        finally:
            warm_up.cancel()
            stopping, state.engine = state.engine, None
            await asyncio.to_thread(stopping.close)

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

    api = APIRouter(prefix="/api", responses=ERROR_RESPONSES)
    server_config = ServerConfig.of(
        __version__,
        settings.projection,
        settings.lod_threshold,
        cluster=settings.cluster is not None,
    )

    @api.get("/health")
    async def health() -> Health:
        """Liveness: answers at once, whatever the workers are doing."""
        return Health()

    @api.get("/config")
    async def config() -> ServerConfig:
        """What the page needs to start: version, the projection to show first, and the
        projection methods with their parameters' defaults and ranges."""
        return server_config

    routers = (embeddings, steps, timeline, search, bookmarks, neighbors, projections, jobs)
    for module in (*routers, layouts, selection, analyses, compare):
        api.include_router(module.router)
    bundled = (settings.static_dir / "index.html").is_file()
    if bundled:
        # The page and its scripts are matched before the API: FastAPI builds a router's
        # table on the first request that walks it (a tenth of a second, more while the
        # data is read), which the first visit's requests then need not wait for.
        page = StaticFiles(directory=settings.static_dir, html=True)
        app.router.routes.append(Route("/", page, methods=["GET", "HEAD"]))
        app.mount("/assets", StaticFiles(directory=settings.static_dir / "assets"))
    app.include_router(api)

    if bundled:
        app.mount("/", page, name="static")
    else:

        @app.get("/", response_class=HTMLResponse, include_in_schema=False)
        async def no_bundle() -> str:
            return _NO_BUNDLE

    # Bodies that grow with the data are bounded by the largest embedding served.
    served = state.embeddings.values()
    bounds: dict[Callable[..., Any], int] = {
        bookmarks.put_bookmarks: MAX_BOOKMARKS_BYTES,
        neighbors.neighbors_of_vector: neighbors_body_bytes(served),
        selection.put_selection: selection_body_bytes(served),
        # Row numbers, as a selection's: the rows whose metadata or positions are shown.
        embeddings.get_rows: selection_body_bytes(served),
        layouts.row_positions: selection_body_bytes(served),
    }
    app.add_middleware(BodyLimitMiddleware, default=DEFAULT_BODY_BYTES, bounds=bounds)
    app.add_middleware(  # outermost: who may ask comes first
        SecurityMiddleware,
        token=settings.token,
        loopback_only=is_loopback(settings.host) and settings.judge_host,
    )
    app.openapi = functools.partial(_openapi, app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, plus the job stream's frames (WebSockets are not in OpenAPI)."""
    if app.openapi_schema is None:
        document = get_openapi(
            title=app.title, version=app.version, routes=app.routes, description=app.description
        )
        schemas = document["components"]["schemas"]
        for model in STREAM_FRAMES:
            schema = model.model_json_schema(
                ref_template="#/components/schemas/{model}", mode="serialization"
            )
            schemas.update(schema.pop("$defs", {}))
            schemas[model.__name__] = schema
        app.openapi_schema = document
    return app.openapi_schema

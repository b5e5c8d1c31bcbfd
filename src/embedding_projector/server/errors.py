"""One JSON shape for every error: ``{"error": {"code", "message", "detail"}}``."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from embedding_projector.errors import DISK_FULL, ProjectorError
from embedding_projector.user_cache import ENV_CACHE_DIR

log = logging.getLogger(__name__)
_HTTP_CODES = {404: "not_found", 413: "payload_too_large"}


def error_response(status: int, code: str, message: str, detail: str | None = None) -> JSONResponse:
    """The JSON error body every route returns."""
    return JSONResponse(
        {"error": {"code": code, "message": message, "detail": detail}}, status_code=status
    )


def install_error_handlers(app: FastAPI) -> None:
    """Render project errors, HTTP errors, validation errors and bugs the same way."""

    @app.exception_handler(ProjectorError)
    async def projector_error(_: Request, exc: ProjectorError) -> JSONResponse:
        return error_response(exc.status, exc.code, str(exc), exc.detail)

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, exc: HTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}")
        return error_response(exc.status_code, code, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(_field_path(first.get("loc", ()), exc.body))
        reason = first.get("msg", "invalid value")
        message = f"`{where}`: {reason}" if where else f"invalid request: {reason}"
        return error_response(400, "invalid_parameter", message, str(exc.errors()[:5]))

    @app.exception_handler(OSError)
    async def disk_full(request: Request, exc: OSError) -> JSONResponse:
        # A write of ours (the cache, a bookmarks folder) met a full disk: say so, and where.
        if exc.errno not in DISK_FULL:
            raise exc  # anything else is a bug: the handler below answers 500
        cache_dir = request.app.state.settings.cache_dir
        where = Path(exc.filename).parent if exc.filename else cache_dir
        message = (
            f"{where}: no space left on its disk; free some space there and try again "
            f"(the cache dir {cache_dir} can be moved with {ENV_CACHE_DIR})"
        )
        return error_response(507, "insufficient_storage", message, exc.strerror)

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        # A bug: logged with its traceback on the server, never sent to the client.
        log.exception("unexpected error")
        return error_response(
            500, "internal_error", f"internal error ({type(exc).__name__}); see the server log"
        )


def _field_path(loc: Sequence[Any], body: Any) -> list[str]:
    """The field an error is about, as the client wrote it.

    pydantic's location starts with where the value came from (``body``, ``query``, ...)
    and names the member of a tagged union it tried (``tsne`` in
    ``body.tsne.params.foo``): only the keys found along the body are kept.
    """
    where, parts = loc[0] if loc else None, loc[1:]
    if where != "body":
        return [str(p) for p in parts]
    path, value = [], body
    for k, part in enumerate(parts):
        if _has(value, part):
            path.append(str(part))
            value = value[part]
        elif k == len(parts) - 1:  # a missing field
            path.append(str(part))
    return path


def _has(value: Any, part: Any) -> bool:
    if isinstance(value, dict):
        return part in value
    return isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value)

"""One JSON shape for every error: ``{"error": {"code", "message", "detail"}}``."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from embedding_projector.errors import ProjectorError

log = logging.getLogger(__name__)


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
        code = "not_found" if exc.status_code == 404 else f"http_{exc.status_code}"
        return error_response(exc.status_code, code, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("body", "query"))
        message = f"`{where}`: {first.get('msg', 'invalid value')}" if where else "invalid request"
        return error_response(400, "invalid_parameter", message, str(exc.errors()[:5]))

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        # A bug: logged with its traceback on the server, never sent to the client.
        log.exception("unexpected error")
        return error_response(
            500, "internal_error", f"internal error ({type(exc).__name__}); see the server log"
        )

"""The app served without a socket: requests given as plain values, answered in-process.

The Jupyter widget has no HTTP connection to the kernel, only the comm; this module
lets the kernel answer the page's requests with the very same FastAPI app (every
route, the compute engine with its worker processes and cache, the JSON errors). A
daemon thread runs its own event loop: the app's lifespan (which starts and stops the
workers), and every request, so that the kernel's main thread stays free and long
requests never wait for each other.

A request is an ASGI call made directly: method, path, query, headers and body in;
the response's start (status, headers) and its body pieces out, as they come. The
job stream (a WebSocket route) is driven the same way, frame by frame.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

from starlette.types import ASGIApp, Message

T = TypeVar("T")

#: The Host the in-process requests carry: they come from this machine (the kernel's
#: own comm), so the server's loopback-only rule lets them in.
HOST = "localhost"
_STARTED_WITHIN = 60.0


@dataclass(frozen=True)
class Request:
    """One HTTP request: ``target`` is the path with its query (``/api/runs?x=1``)."""

    method: str
    target: str
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""


#: Called with the status and headers of a response, once, before its body.
OnStart = Callable[[int, list[tuple[str, str]]], None]
#: Called with each piece of a response's body; ``more`` is False for the last one.
OnBody = Callable[[bytes, bool], None]
#: Called with each frame a WebSocket route sends (``str`` or ``bytes``), then with None
#: and the close code when it closes.
OnFrame = Callable[[str | bytes | None, int], None]


class InProcessServer:
    """Runs ``app`` (its lifespan, then requests) in a thread of its own; see the module."""

    def __init__(self, app: ASGIApp, *, name: str = "embedding-projector") -> None:
        self.app = app
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, daemon=True, name=name)

    def start(self) -> None:
        """Start the thread and the app's lifespan; raise what made it fail."""
        self._thread.start()
        if not self._ready.wait(_STARTED_WITHIN):
            raise RuntimeError("the projector did not start within a minute")
        if self._failure is not None:
            raise RuntimeError(f"the projector did not start: {self._failure}")

    @property
    def running(self) -> bool:
        """Whether requests can still be answered."""
        return self._thread.is_alive() and self._stop is not None and not self._stop.is_set()

    def close(self, timeout: float = 30.0) -> None:
        """Run the app's shutdown (its workers stop) and end the thread."""
        if self._stop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(timeout)

    def submit(self, work: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Run ``work`` on the server's loop (from any thread)."""
        return asyncio.run_coroutine_threadsafe(work, self._loop)

    async def http(self, request: Request, on_start: OnStart, on_body: OnBody) -> None:
        """Answer one request through the app, reporting its response as it is sent."""
        await answer(self.app, request, on_start, on_body)

    async def websocket(
        self, request: Request, on_frame: OnFrame, closed_by_client: asyncio.Event
    ) -> None:
        """Drive a WebSocket route until it closes or ``closed_by_client`` is set."""
        connected = False

        async def receive() -> Message:
            nonlocal connected
            if not connected:
                connected = True
                return {"type": "websocket.connect"}
            await closed_by_client.wait()
            return {"type": "websocket.disconnect", "code": 1000}

        async def send(message: Message) -> None:
            kind = message["type"]
            if kind == "websocket.send":
                frame = message.get("text")
                on_frame(frame if frame is not None else bytes(message["bytes"]), 0)
            elif kind == "websocket.close":
                on_frame(None, int(message.get("code", 1000)))

        await self.app(scope_of("websocket", request), receive, send)

    # -- the thread ----------------------------------------------------------

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._serve())
        finally:
            self._ready.set()  # never leave start() waiting
            self._loop.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        events: asyncio.Queue[Message] = asyncio.Queue()
        await events.put({"type": "lifespan.startup"})
        outcome: asyncio.Queue[Message] = asyncio.Queue()

        async def send(message: Message) -> None:
            await outcome.put(message)

        async def lifespan() -> None:
            try:
                await self.app({"type": "lifespan", "asgi": _ASGI, "state": {}}, events.get, send)
            except Exception as exc:  # reported by start(), not lost in this thread
                await send({"type": "lifespan.startup.failed", "message": repr(exc)})

        running = asyncio.create_task(lifespan())
        started = await outcome.get()
        if started["type"] != "lifespan.startup.complete":
            self._failure = RuntimeError(started.get("message") or started["type"])
            self._ready.set()
            await running
            return
        self._ready.set()
        await self._stop.wait()
        await events.put({"type": "lifespan.shutdown"})
        await outcome.get()
        await running


async def answer(app: ASGIApp, request: Request, on_start: OnStart, on_body: OnBody) -> None:
    """Answer one request through ``app``, reporting its response as it is sent."""
    received = False
    finished = asyncio.Event()

    async def receive() -> Message:
        nonlocal received
        if not received:
            received = True
            return {"type": "http.request", "body": request.body, "more_body": False}
        await finished.wait()  # the client stays until the response is complete
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            on_start(message["status"], _decoded(message.get("headers", [])))
        elif message["type"] == "http.response.body":
            on_body(bytes(message.get("body", b"")), bool(message.get("more_body", False)))

    try:
        await app(scope_of("http", request), receive, send)
    finally:
        finished.set()


_ASGI = {"version": "3.0", "spec_version": "2.3"}


def scope_of(kind: str, request: Request) -> dict[str, Any]:
    """The ASGI scope of ``request`` as a server on this machine would make it."""
    parts = urlsplit(request.target)
    headers = [(b"host", HOST.encode())] + [
        (k.lower().encode("latin-1"), v.encode("latin-1"))
        for k, v in request.headers
        if k.lower() != "host"
    ]
    scope: dict[str, Any] = {
        "type": kind,
        "asgi": _ASGI,
        "http_version": "1.1",
        "scheme": "ws" if kind == "websocket" else "http",
        "path": unquote(parts.path),
        "raw_path": parts.path.encode("latin-1"),
        "query_string": parts.query.encode("latin-1"),
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 0),
        "server": (HOST, 80),
        "state": {},
    }
    if kind == "http":
        scope["method"] = request.method.upper()
    else:
        scope["subprotocols"] = []
    return scope


def _decoded(headers: list[tuple[bytes, bytes]]) -> list[tuple[str, str]]:
    return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers]

"""Running the server: pick a free port, print the URL, open the browser, stop cleanly."""

from __future__ import annotations

import contextlib
import errno
import importlib.abc
import os
import secrets
import socket
import sys
import threading
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from embedding_projector.errors import ProjectorError
from embedding_projector.server.security import is_loopback
from embedding_projector.server.settings import DEFAULT_HOST, DEFAULT_PORT, Settings

if TYPE_CHECKING:
    import uvicorn
    from fastapi import FastAPI

    from embedding_projector.dataset.model import Workspace

PORT_ATTEMPTS = 100


def bind_socket(host: str, port: int, *, on_busy: Callable[[int, int], None]) -> socket.socket:
    """A listening socket on ``port``, or on the next free port (``on_busy(asked, got)``)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for candidate in range(port, port + PORT_ATTEMPTS):
        # IPPROTO_TCP named (not 0): asyncio turns Nagle's algorithm off only on sockets that
        # say they are TCP. Left on, every answer after a connection's first waited for the
        # page's delayed ACK: 40 ms each, on the requests of the first paint too.
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, candidate))
        except OSError as exc:
            sock.close()
            if exc.errno == errno.EADDRINUSE:
                continue
            raise ProjectorError(f"cannot listen on {host}:{candidate}: {exc.strerror}") from exc
        sock.listen(2048)
        sock.set_inheritable(True)
        if candidate != port:
            on_busy(port, candidate)
        return sock
    raise ProjectorError(
        f"ports {port}–{port + PORT_ATTEMPTS - 1} on {host} are all busy; use --port"
    )


def _arrow_without_pandas() -> None:
    """Let pyarrow find no pandas in this process (a server's, which converts no DataFrame).

    pyarrow looks for pandas once per process, on the first array it builds, and imports
    it when installed: a third of a second (a second when the cores are busy) that the
    first metadata read, and so the first paint, waited for. ``to_pandas`` still works:
    it imports pandas itself.
    """
    import pyarrow as pa

    if "pandas" in sys.modules:
        return
    hidden = _Hidden("pandas")
    sys.meta_path.insert(0, hidden)
    try:
        pa.array([0])
    finally:
        sys.meta_path.remove(hidden)


class _Hidden(importlib.abc.MetaPathFinder):
    """Makes ``import <name>`` fail as if the module were not installed."""

    def __init__(self, name: str) -> None:
        self.name = name

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> None:
        if fullname == self.name:
            raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname)


def new_token() -> str:
    """A random token (192 bits)."""
    return secrets.token_urlsafe(24)


def token_for(host: str) -> str | None:
    """A random token when the server is reachable beyond this machine, else none."""
    return None if is_loopback(host) else new_token()


def url_for(host: str, port: int, token: str | None, fragment: str = "") -> str:
    """The address to open (with the token when there is one)."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else f"[{host}]" if ":" in host else host
    query = f"?token={token}" if token else ""
    return f"http://{shown}:{port}/{query}{fragment}"


def open_browser_later(url: str, delay: float = 0.5) -> None:
    """Open the page once the server is listening (the socket is bound already)."""
    threading.Timer(delay, webbrowser.open, args=(url,)).start()


@dataclass
class PreparedServer:
    """An app bound to its listening socket, not yet serving."""

    app: FastAPI
    sock: socket.socket
    url: str
    token: str | None

    def uvicorn_server(self, *, debug: bool = False) -> uvicorn.Server:
        """The uvicorn server that will serve :attr:`app` on :attr:`sock`."""
        import uvicorn

        from embedding_projector.server.connections import GuardedH11Protocol

        config = uvicorn.Config(
            self.app,
            log_level="info" if debug else "warning",
            access_log=debug,
            http=GuardedH11Protocol,  # a deadline for request heads, a cap on connections
            timeout_keep_alive=5,  # seconds a connection may idle between requests
            # The page never sends on its WebSockets: no big messages to queue up.
            ws_max_size=2**12,
            ws_max_queue=4,
            ws_per_message_deflate=False,
        )
        return uvicorn.Server(config)


def prepare_server(
    workspace: Workspace,
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    projection: str | None = None,
    lod_threshold: int | None = None,
    workers: int | None = None,
    dask: Any = None,
    say: Callable[[str], None],
    token: str | None = None,
    judge_host: bool = True,
) -> PreparedServer:
    """The app for ``workspace``, listening on ``port`` or the next free one.

    ``dask`` (else ``$EMBEDDING_PROJECTOR_DASK``): a Dask cluster for the work that grows
    with N: ``"local[:N]"``, a scheduler's address or a ``distributed.Client``. It is
    connected (and its workers' package version checked) before anything is served.

    ``token`` and ``judge_host`` are for a loopback server reached through a proxy (see
    :class:`~embedding_projector.server.settings.Settings`); beyond loopback a token is
    always made.
    """
    from embedding_projector.server.engine import ComputeEngine

    token = token_for(host) or token
    settings = Settings(
        host=host, port=port, token=token, judge_host=judge_host, projection=projection
    )
    if workers is not None:
        settings = replace(settings, workers=workers)
    if lod_threshold is not None:
        settings = replace(settings, lod_threshold=lod_threshold)
    cluster = connect_cluster(dask, settings.cache_dir, say)
    try:
        sock = bind_socket(
            host, port, on_busy=lambda asked, got: say(f"port {asked} is busy; using {got}")
        )
    except BaseException:
        if cluster is not None:
            cluster.close()
        raise
    settings = replace(settings, cluster=cluster)
    # The workers start here, before the web framework is imported (a third of a second):
    # they are ready sooner for the page's first projection.
    engine = ComputeEngine.of(settings)
    from embedding_projector.server.app import create_app

    # On loopback, loopback names need no token: the URL of this machine goes without it.
    url = url_for(host, sock.getsockname()[1], None if is_loopback(host) else token)
    return PreparedServer(create_app(workspace, settings=settings, engine=engine), sock, url, token)


def connect_cluster(dask: Any, cache_dir: Path, say: Callable[[str], None]) -> Any:
    """The Dask cluster asked for by ``dask`` or ``$EMBEDDING_PROJECTOR_DASK``, or None."""
    from embedding_projector.compute.distributed.cluster import ENV_VAR, connect

    target = dask if dask is not None else os.environ.get(ENV_VAR) or None
    if target is None:
        return None
    say(f"connecting to the Dask cluster {target if isinstance(target, str) else ''}".rstrip())
    cluster = connect(target, cache_dir=cache_dir)
    count = len(cluster.workers())
    say(f"Dask cluster at {cluster.address}: {count} worker{'s' * (count != 1)}")
    return cluster


def run_server(
    target: str,
    *,
    metadata: str | None = None,
    sprite: str | None = None,
    sprite_size: tuple[int, int] | None = None,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    open_browser: bool = True,
    projection: str | None = None,
    lod_threshold: int | None = None,
    workers: int | None = None,
    dask: str | None = None,
    debug: bool = False,
) -> None:
    """Open ``target``, serve it until Ctrl-C, printing the URL (and opening it)."""
    from embedding_projector.compute.threads import limit_blas_threads
    from embedding_projector.dataset.opening import open_path

    # This process is ours (not a notebook kernel): its neighbour-index builds split
    # their products over threads, each with one-thread BLAS.
    limit_blas_threads()
    _arrow_without_pandas()

    workspace = open_path(target, metadata=metadata, sprite=sprite, sprite_size=sprite_size)
    prepared = prepare_server(
        workspace,
        host=host,
        port=port,
        projection=projection,
        lod_threshold=lod_threshold,
        workers=workers,
        dask=dask,
        say=_say,
    )
    count = len(workspace.embeddings)
    _say(
        f"{workspace.root}: {count} embedding{'s' * (count != 1)} in {len(workspace.runs)} run"
        f"{'s' * (len(workspace.runs) != 1)}"
    )
    for run in workspace.runs:
        for warning in run.warnings:
            _say(f"  warning ({run.name}): {warning}")
    _say(f"Embedding Projector at {prepared.url}  (Ctrl-C to stop)")
    if prepared.token:
        _say("  listening beyond this machine: the token in the URL is required")
    if open_browser:
        open_browser_later(prepared.url)
    # uvicorn shuts down cleanly (the workers too), then re-raises Ctrl-C: that is the end.
    with contextlib.suppress(KeyboardInterrupt):
        prepared.uvicorn_server(debug=debug).run(sockets=[prepared.sock])
    _say("stopped")


def _say(message: str) -> None:
    print(message, flush=True)

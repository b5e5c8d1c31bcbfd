"""The projector as a Jupyter widget: the page in the notebook, its data over the comm.

:class:`ProjectorWidget` is an anywidget whose front end is the projector's own page
(``static/widget.js``, the same Svelte app). The page never opens a connection to the
kernel's machine: every API request travels over the widget's comm, and the kernel
answers it with the same FastAPI app the ``projector`` server runs, in-process
(:mod:`embedding_projector.server.in_process`), so routes, compute engine, cache and
errors are the very same. Works wherever the notebook's own connection reaches the
kernel: JupyterLab, Notebook 7, VS Code, Colab, JupyterHub, marimo.

Messages, page → kernel (``model.send``):

- ``{"type": "request", "id", "method", "url", "headers"}`` and the body as a buffer;
- ``{"type": "stream", "id", "url"}`` opens a job stream, ``{"type": "stream-close", "id"}``
  ends it;
- ``{"type": "layout", "id", "dims", "done"}`` and a buffer: a piece of the coordinates
  the page shows (:attr:`ProjectorWidget.layout`); pieces of one ``id`` follow each other.

Kernel → page:

- ``{"type": "response", "id", "status", "headers", "done"}`` with the first piece of the
  body, then ``{"type": "body", "id", "done"}`` with each further piece;
- ``{"type": "frame", "id", "text"}`` or ``{"type": "frame", "id", "done"}`` with a piece of
  a binary frame of the job stream; ``{"type": "stream-close", "id", "code"}``.

No message carries more than :data:`CHUNK_BYTES` of buffer: big bodies (a million points'
metadata or layout) go in pieces, which the page joins.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import json
import logging
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import anywidget
import numpy as np
import traitlets

from embedding_projector.dataset.model import Workspace
from embedding_projector.errors import ProjectorError
from embedding_projector.server.in_process import InProcessServer, Request
from embedding_projector.server.settings import STATIC_DIR, Settings

DEFAULT_HEIGHT = 720
#: The most bytes of buffer in one comm message, either way. Jupyter Server refuses
#: messages from the page over 10 MiB; the way back has no such limit, but big messages
#: hold up every other message of the notebook while they pass.
CHUNK_BYTES = 8 * 2**20
WIDGET_BUNDLE = STATIC_DIR / "widget.js"
PROJECTIONS = ("pca", "tsne", "umap", "custom")
log = logging.getLogger(__name__)

Send = Callable[[dict[str, Any], list[bytes]], None]


class _Array(traitlets.TraitType[np.ndarray, Any]):
    """A numpy array trait: ``convert`` validates it; a change is an array of other values."""

    def __init__(self, convert: Callable[[Any], np.ndarray], **kwargs: Any) -> None:
        self._convert = convert
        super().__init__(default_value=convert([]), **kwargs)

    def validate(self, obj: Any, value: Any) -> np.ndarray:
        try:
            return self._convert(value)
        except (TypeError, ValueError) as exc:
            raise traitlets.TraitError(f"`{self.name}`: {exc}") from exc

    def set(self, obj: traitlets.HasTraits, value: Any) -> None:
        # traitlets compares with `==`, which numpy answers element by element.
        name = str(self.name)
        new = self._validate(obj, value)  # with the owner's @validate methods
        old: Any = obj._trait_values.get(name, self.default_value)
        obj._trait_values[name] = new
        if not (isinstance(old, np.ndarray) and isinstance(new, np.ndarray)) or not np.array_equal(
            old, new
        ):
            obj._notify_trait(name, old, new)


def _frozen(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False  # shared with the trait's observers: nobody may change it
    return array


def row_indices(value: Any) -> np.ndarray:
    """Selected rows: ascending distinct int64 (from a list, a numpy array, int32 bytes)."""
    if isinstance(value, bytes | memoryview):
        value = np.frombuffer(value, "<i4")
    array = np.asarray(value)
    if array.size == 0:
        return _frozen(np.empty(0, np.int64))
    if array.ndim != 1 or array.dtype.kind not in "iu":
        raise ValueError(f"give row numbers, a 1-D sequence of integers; got {array.dtype}")
    if array.min() < 0:
        raise ValueError(f"row numbers are ≥ 0; got {int(array.min())}")
    return _frozen(np.unique(array.astype(np.int64)))


def float_matrix(value: Any) -> np.ndarray:
    """Coordinates: float32 N × dims (N × 0 when nothing is shown)."""
    array = np.asarray(value, dtype=np.float32)
    return _frozen(array.reshape(0, 0) if array.size == 0 else array)


def _selection_to_json(value: np.ndarray, _: Any) -> memoryview:
    return np.ascontiguousarray(value, "<i4").data.cast("B")


def _selection_from_json(value: Any, _: Any) -> np.ndarray:
    return row_indices(b"" if value is None else value)


class ProjectorWidget(anywidget.AnyWidget):
    """The projector in a notebook cell, made by :func:`embedding_projector.show`.

    Every trait follows the page and can be set from Python:

    Attributes
    ----------
    selection
        The selected rows, ascending int64 indices into the vectors. The page sets it
        when points are clicked, drawn around or searched; setting it (a list or an array
        of row numbers) selects those rows in the page.
    color_by, label_by
        The metadata column the points are coloured by, and labelled by (None: none).
    projection
        The projection shown: ``"pca"``, ``"tsne"``, ``"umap"`` or ``"custom"``. Setting
        it runs that projection in the page, as clicking its tab does.
    dims
        2 or 3, the dimensions of the projection shown (the custom projection is 2-D).
    layout
        Read-only: the coordinates shown, float32 N × dims, sent by the page once they
        stop changing (after a t-SNE or UMAP run, at its end). Empty until then.
    height
        The widget's height in pixels.
    """

    _esm = traitlets.Unicode().tag(sync=True)
    height = traitlets.Int(DEFAULT_HEIGHT).tag(sync=True)
    selection = _Array(row_indices).tag(
        sync=True, to_json=_selection_to_json, from_json=_selection_from_json
    )
    color_by = traitlets.Unicode(None, allow_none=True).tag(sync=True)
    label_by = traitlets.Unicode(None, allow_none=True).tag(sync=True)
    projection = traitlets.Enum(PROJECTIONS, None, allow_none=True).tag(sync=True)
    dims = traitlets.Enum((2, 3), None, allow_none=True).tag(sync=True)
    layout = _Array(float_matrix, read_only=True)
    #: Rows of the embedding the page shows (the bound of `selection`); set by the page.
    _rows = traitlets.Int(0).tag(sync=True)
    #: The id of the embedding compared with the first one (``compare()``), read by the page
    #: when it starts.
    _compare = traitlets.Unicode(None, allow_none=True).tag(sync=True)

    def __init__(
        self,
        workspace: Workspace,
        *,
        height: int = DEFAULT_HEIGHT,
        projection: str | None = None,
        settings: Settings | None = None,
        compare: str | None = None,
    ) -> None:
        if not WIDGET_BUNDLE.is_file():
            raise ProjectorError(
                f"the notebook page is not built ({WIDGET_BUNDLE} is missing): run `make build`"
                " in the source tree (it needs Node.js), or install a released wheel"
            )
        from embedding_projector.server.app import create_app

        settings = settings or Settings(projection=projection)
        self._workspace = workspace
        self._server = InProcessServer(create_app(workspace, settings=settings))
        rows = max((e.shape[0] for e in workspace.embeddings), default=0)
        super().__init__(
            _esm=WIDGET_BUNDLE.read_text(encoding="utf-8"),
            height=height,
            projection=projection,
            _rows=rows,
            # In the state the page first gets: it reads it once, when it starts.
            _compare=compare,
        )
        self._displayed_in: int | None = None
        self._streams: dict[int, asyncio.Event] = {}
        self._layout_parts: tuple[int, int, list[bytes]] | None = None
        self._server.start()
        self.on_msg(self._on_message)

    def __repr__(self) -> str:
        state = "running" if self._server.running else "stopped"
        count = len(self._workspace.embeddings)
        return f"<ProjectorWidget {state}, {count} embedding{'s' * (count != 1)}>"

    def display_once(self) -> None:
        """Display the widget in the running cell (what :func:`show` does)."""
        self._displayed_in = _execution_count()
        from IPython.display import display

        bundle = self._repr_mimebundle_()
        assert bundle is not None  # a widget with a view always has one
        display(bundle[0], metadata=bundle[1], raw=True)  # type: ignore[no-untyped-call]

    def _ipython_display_(self) -> None:
        # `show(...)` as a cell's last line: show() displayed the widget, and IPython would
        # display the value again.
        if self._displayed_in != _execution_count():
            self.display_once()

    def close(self) -> None:
        """Close the widget and stop its compute engine (worker processes)."""
        super().close()
        self._server.close()

    # -- validation ------------------------------------------------------------

    @traitlets.validate("selection")
    def _valid_selection(self, proposal: dict[str, Any]) -> np.ndarray:
        rows: np.ndarray = proposal["value"]
        if rows.size and rows[-1] >= self._rows:
            raise traitlets.TraitError(
                f"`selection`: row {int(rows[-1])} is out of range: there are {self._rows} rows"
            )
        return rows

    @traitlets.validate("color_by", "label_by")
    def _valid_column(self, proposal: dict[str, Any]) -> str | None:
        name: str | None = proposal["value"]
        columns = self._columns()
        if name is not None and name not in columns:
            trait = proposal["trait"].name
            raise traitlets.TraitError(
                f"`{trait}`: no metadata column {name!r}; there are {columns}"
            )
        return name

    def _columns(self) -> list[str]:
        names: dict[str, None] = {}
        for embedding in self._workspace.embeddings:
            names.update(dict.fromkeys(embedding.metadata.column_names))
        return list(names)

    # -- messages from the page ------------------------------------------------

    def _on_message(self, _: Any, content: dict[str, Any], buffers: Sequence[Any]) -> None:
        """Runs on the kernel's main thread: hand the work to the server's thread at once."""
        kind = content.get("type")
        if kind in ("request", "stream") and _api_target(content) is None:
            refusal = {"error": {"code": "invalid_parameter", "message": "not an API path"}}
            answer = ResponseMessages(content["id"], self._reply)
            answer.start(400, [("content-type", "application/json")])
            answer.body(json.dumps(refusal).encode(), more=False)
        elif kind == "request":
            body = bytes(buffers[0]) if buffers else b""
            self._server.submit(self._answer(content, body)).add_done_callback(_log_failure)
        elif kind == "stream":
            closed = self._streams[content["id"]] = asyncio.Event()
            self._server.submit(self._stream(content, closed))
        elif kind == "stream-close" and content.get("id") in self._streams:
            self._server.submit(_set(self._streams.pop(content["id"])))
        elif kind == "layout":
            self._receive_layout(content, [bytes(b) for b in buffers])

    async def _answer(self, content: dict[str, Any], body: bytes) -> None:
        request = Request(
            method=str(content.get("method", "GET")),
            target=_api_target(content) or "",
            headers=tuple((str(k), str(v)) for k, v in dict(content.get("headers", {})).items()),
            body=body,
        )
        response = ResponseMessages(content["id"], self._reply)
        await self._server.http(request, response.start, response.body)

    async def _stream(self, content: dict[str, Any], closed: asyncio.Event) -> None:
        frames = FrameMessages(content["id"], self._reply)
        try:
            await self._server.websocket(
                Request("GET", _api_target(content) or ""), frames.frame, closed
            )
        finally:
            self._streams.pop(content["id"], None)

    def _receive_layout(self, content: dict[str, Any], buffers: list[bytes]) -> None:
        upload, dims = int(content["id"]), int(content["dims"])
        if self._layout_parts is None or self._layout_parts[0] != upload:
            self._layout_parts = (upload, dims, [])  # a newer layout replaces a partial one
        parts = self._layout_parts[2]
        parts.extend(buffers)
        if sum(map(len, parts)) > self._rows * 3 * 4 or dims not in (2, 3):
            self._layout_parts = None  # more than any layout of these data: not a layout
            return
        if content.get("done"):
            data = b"".join(parts)
            self._layout_parts = None
            if len(data) % (4 * dims) == 0:
                self.set_trait("layout", np.frombuffer(data, "<f4").reshape(-1, dims))

    def _reply(self, content: dict[str, Any], buffers: list[bytes]) -> None:
        if self.comm is not None:  # closed: the page is gone, nobody to answer
            self.send(content, buffers)


def _execution_count() -> int | None:
    from IPython import get_ipython

    shell = get_ipython()
    return None if shell is None else int(shell.execution_count)


async def _set(event: asyncio.Event) -> None:
    event.set()


def _api_target(content: dict[str, Any]) -> str | None:
    """``/api/<url>`` of a page's request (its URLs are relative to the API), or None when
    ``url`` would lead elsewhere."""
    url = str(content.get("url", ""))
    if url.startswith("/") or ".." in url.split("?")[0].split("/"):
        return None
    return f"/api/{url}"


def _log_failure(future: concurrent.futures.Future[None]) -> None:
    # The app has answered 500 already; the traceback is for the kernel's log.
    if not future.cancelled() and future.exception() is not None:
        log.error("a request of the widget failed", exc_info=future.exception())


def pieces(data: bytes) -> Iterator[tuple[bytes, bool]]:
    """``data`` in pieces of at most :data:`CHUNK_BYTES`, each with whether it is the last."""
    view = memoryview(data)
    for offset in range(0, max(len(view), 1), CHUNK_BYTES):
        yield bytes(view[offset : offset + CHUNK_BYTES]), offset + CHUNK_BYTES >= len(view)


class ResponseMessages:
    """One HTTP response as comm messages: its start with the first piece of body, then
    the rest of the body in pieces (see the module)."""

    def __init__(self, request_id: int, send: Send) -> None:
        self._id = request_id
        self._reply = send
        self._head: dict[str, Any] | None = None

    def start(self, status: int, headers: list[tuple[str, str]]) -> None:
        """The response starts (ASGI ``http.response.start``)."""
        self._head = {"type": "response", "id": self._id, "status": status, "headers": headers}

    def body(self, data: bytes, more: bool) -> None:
        """A piece of the body (ASGI ``http.response.body``)."""
        if not data and more:
            return
        for piece, last in pieces(data):
            content = self._head or {"type": "body", "id": self._id}
            self._head = None
            self._reply({**content, "done": last and not more}, [piece] if piece else [])


class FrameMessages:
    """A job stream's frames as comm messages; a binary frame goes in pieces."""

    def __init__(self, stream_id: int, send: Send) -> None:
        self._id = stream_id
        self._reply = send

    def frame(self, frame: str | bytes | None, code: int) -> None:
        """A frame the route sent (text or bytes), or its close (None)."""
        if frame is None:
            self._reply({"type": "stream-close", "id": self._id, "code": code}, [])
        elif isinstance(frame, str):
            self._reply({"type": "frame", "id": self._id, "text": frame}, [])
        else:
            for piece, last in pieces(frame):
                self._reply({"type": "frame", "id": self._id, "done": last}, [piece])


@functools.cache
def in_marimo() -> bool:
    """Whether this runs in a marimo notebook (which shows a returned widget itself)."""
    try:
        import marimo
    except ImportError:
        return False
    return bool(marimo.running_in_notebook())

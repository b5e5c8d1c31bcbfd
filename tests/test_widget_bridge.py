"""The widget's comm bridge, without a browser: the page's requests, given to the widget as
comm messages, are answered with the very bytes the HTTP server sends for the same route.

The widget talks through the ``comm`` package's extension point (``comm.create_comm``): a
comm that keeps what the widget publishes stands in for the notebook's front end, and page
messages enter through ``handle_msg``, as ipykernel delivers them.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import comm
import httpx
import numpy as np
import pytest
from comm.base_comm import BaseComm

import embedding_projector.widget as widget_module
from embedding_projector.dataset.model import Workspace
from embedding_projector.dataset.opening import open_path
from embedding_projector.server.settings import Settings
from embedding_projector.widget import ProjectorWidget
from tests.conftest import FIXTURES
from tests.server_process import ServerProcess, client, running_server

LOGDIR = FIXTURES / "tf2_two_embeddings_sprite"


class FrontEndComm(BaseComm):  # type: ignore[misc]
    """A comm whose other end is this test: it keeps every custom message the kernel sends."""

    def __init__(self, **kwargs: Any) -> None:
        self.received: list[tuple[dict[str, Any], list[bytes]]] = []
        self.arrived = threading.Condition()
        super().__init__(**kwargs)

    def publish_msg(
        self,
        msg_type: str,
        data: Any = None,
        metadata: Any = None,
        buffers: Any = None,
        **keys: Any,
    ) -> None:
        if msg_type == "comm_msg" and data and data.get("method") == "custom":
            with self.arrived:
                self.received.append((data["content"], [bytes(b) for b in buffers or []]))
                self.arrived.notify_all()

    def page_sends(self, content: dict[str, Any], buffers: list[bytes] | None = None) -> None:
        """A message from the page, as the kernel hands it to the widget."""
        message = {"content": {"data": {"method": "custom", "content": content}}}
        self.handle_msg({**message, "buffers": [memoryview(b) for b in buffers or []]})

    def answer(self, request_id: int, timeout: float = 60) -> list[Any]:
        """The kernel's messages for request (or stream) ``request_id``, up to the last."""
        deadline = time.monotonic() + timeout
        with self.arrived:
            while True:
                mine = [m for m in self.received if m[0].get("id") == request_id]
                if any(_last(m[0]) for m in mine):
                    return mine
                remaining = deadline - time.monotonic()
                assert remaining > 0, f"no answer to {request_id}: {self.received[-3:]}"
                self.arrived.wait(remaining)


def _last(content: dict[str, Any]) -> bool:
    return content["type"] == "stream-close" or (
        content["type"] in ("response", "body") and content["done"]
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    # Read only: nothing here writes beside the data.
    with running_server("--logdir", str(LOGDIR), cache_dir=tmp_path_factory.mktemp("c1")) as s:
        yield s


@contextmanager
def widget_over_comm(
    workspace: Workspace, settings: Settings
) -> Iterator[tuple[ProjectorWidget, FrontEndComm]]:
    """A widget of ``workspace`` whose comm's other end is this test."""
    opened: list[FrontEndComm] = []

    def create_comm(**kwargs: Any) -> FrontEndComm:
        opened.append(FrontEndComm(**kwargs))
        return opened[-1]

    patch = pytest.MonkeyPatch()
    patch.setattr(comm, "create_comm", create_comm)
    try:
        widget = ProjectorWidget(workspace, settings=settings)
        try:
            yield widget, opened[0]
        finally:
            widget.close()
    finally:
        patch.undo()


@pytest.fixture(scope="module")
def front_end(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[ProjectorWidget, FrontEndComm]]:
    settings = Settings(cache_dir=tmp_path_factory.mktemp("c2"))
    with widget_over_comm(open_path(LOGDIR), settings) as pair:
        yield pair


class Page:
    """Asks the widget what the page would, and joins the pieces of each answer."""

    def __init__(self, front_end: tuple[ProjectorWidget, FrontEndComm]) -> None:
        self.comm = front_end[1]
        self.next_id = 1000 + len(self.comm.received)

    def ask(
        self, method: str, url: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes, list[int]]:
        """Status, headers, body and the size of each piece of the body."""
        self.next_id += 1
        content = {
            "type": "request",
            "id": self.next_id,
            "method": method,
            "url": url,
            "headers": headers or {},
        }
        self.comm.page_sends(content, [body] if body else [])
        messages = self.comm.answer(self.next_id)
        head = messages[0][0]
        assert head["type"] == "response"
        assert all(m[0]["type"] == "body" for m in messages[1:])
        data = b"".join(b for _, buffers in messages for b in buffers)
        sizes = [len(b) for _, buffers in messages for b in buffers]
        return head["status"], dict(head["headers"]), data, sizes


@pytest.fixture
def page(front_end: tuple[ProjectorWidget, FrontEndComm]) -> Page:
    return Page(front_end)


def embedding_id(http: httpx.Client, name: str) -> str:
    return next(e["id"] for e in http.get("/api/embeddings").json() if e["name"] == name)


def job_of(status: dict[str, Any]) -> str:
    """A job's id in its status (``job``, or ``id`` as the engine words it)."""
    return str(status.get("job") or status["id"])


def finished_job(http: httpx.Client, emb: str) -> str:
    body = {"method": "pca", "dims": 2, "spherize": False, "seed": 0, "params": {}}
    job: str = job_of(http.post(f"/api/embeddings/{emb}/projections", json=body).json())
    deadline = time.monotonic() + 120
    while http.get(f"/api/jobs/{job}").json()["state"] != "done":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    return job


def test_answers_are_the_http_servers_bytes(server: ServerProcess, page: Page) -> None:
    with client(server) as http:
        emb = embedding_id(http, "word_vectors")
        for url in [
            "config",
            "runs",
            "embeddings",
            f"embeddings/{emb}/metadata",
            f"embeddings/{emb}/vectors",
            f"embeddings/{emb}/sprite",
            f"embeddings/{emb}/bookmarks",
            f"embeddings/{emb}/search?q=w1&column=word&regex=false",
            f"embeddings/{emb}/neighbors?index=3&k=5&metric=cosine",
            f"embeddings/{emb}/neighbors?index=999&k=5",  # out of range: the same 400
            "embeddings/no-such-id/metadata",  # the same 404
        ]:
            expected = http.get(f"/api/{url}")
            status, headers, body, _ = page.ask("GET", url)
            assert (status, body) == (expected.status_code, expected.content), url
            assert headers["content-type"] == expected.headers["content-type"], url
        # A POST with a JSON body, and a job's binary result.
        query = {"indices": [1, 2, 3], "k": 4, "metric": "euclidean", "spherize": False}
        expected = http.post(f"/api/embeddings/{emb}/neighbors", json=query)
        json_body = json.dumps(query).encode()
        answer = page.ask("POST", f"embeddings/{emb}/neighbors", json_body, JSON_HEADERS)
        assert answer[:3:2] == (200, expected.content)
        job = finished_job(http, emb)
        expected_layout = http.get(f"/api/jobs/{job}/result").content
    status, _, body, _ = page.ask("POST", f"embeddings/{emb}/projections", PCA, JSON_HEADERS)
    assert status == 200
    page_job = job_of(json.loads(body))
    deadline = time.monotonic() + 120
    while json.loads(page.ask("GET", f"jobs/{page_job}")[2])["state"] != "done":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert page.ask("GET", f"jobs/{page_job}/result")[2] == expected_layout


JSON_HEADERS = {"content-type": "application/json"}
PCA = json.dumps({"method": "pca", "dims": 2, "spherize": False, "seed": 0, "params": {}}).encode()


def test_big_answers_come_in_pieces(
    server: ServerProcess, page: Page, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(widget_module, "CHUNK_BYTES", 1000)
    with client(server) as http:
        emb = embedding_id(http, "word_vectors")
        expected = http.get(f"/api/embeddings/{emb}/vectors").content  # 100 x 32 float32
    status, headers, body, pieces = page.ask("GET", f"embeddings/{emb}/vectors")
    assert status == 200 and body == expected
    assert len(pieces) == 13 and max(pieces) == 1000  # 12,800 bytes
    assert headers["content-length"] == str(len(expected))


def test_job_stream_frames_arrive_as_messages(page: Page, server: ServerProcess) -> None:
    with client(server) as http:
        emb = embedding_id(http, "word_vectors")
    job = job_of(
        json.loads(page.ask("POST", f"embeddings/{emb}/projections", PCA, JSON_HEADERS)[2])
    )
    page.next_id += 1
    stream = page.next_id
    page.comm.page_sends({"type": "stream", "id": stream, "url": f"jobs/{job}/stream"})
    messages = page.comm.answer(stream)
    frames = [json.loads(m[0]["text"]) for m in messages if "text" in m[0]]
    statuses = [f for f in frames if f["type"] == "status"]
    assert statuses[-1]["state"] == "done"
    # The final layout comes before the status that ends the job.
    assert frames[-1] == statuses[-1]
    assert frames[-2] == {
        "type": "layout",
        "iteration": statuses[-1]["iteration"],
        "shape": [100, 2],
        "sample_of": None,  # the whole layout (below the LOD threshold)
    }
    assert messages[-1][0] == {"type": "stream-close", "id": stream, "code": 1000}
    layouts = [m for m in messages if m[0]["type"] == "frame" and "text" not in m[0]]
    assert layouts and np.frombuffer(layouts[-1][1][0], "<f4").size == 100 * 2


def test_paths_outside_the_api_are_refused(page: Page) -> None:
    status, _, body, _ = page.ask("GET", "../index.html")
    assert status == 400 and json.loads(body)["error"]["code"] == "invalid_parameter"


def test_the_layout_shown_arrives_in_pieces(
    front_end: tuple[ProjectorWidget, FrontEndComm],
) -> None:
    widget, front = front_end
    layout = np.arange(100 * 3, dtype="<f4").reshape(100, 3)
    data = layout.tobytes()
    for upload in (1, 2):  # a second upload replaces the first
        for offset in range(0, len(data), 512):
            done = offset + 512 >= len(data)
            piece = data[offset : offset + 512]
            front.page_sends({"type": "layout", "id": upload, "dims": 3, "done": done}, [piece])
    assert widget.layout.shape == (100, 3) and np.array_equal(widget.layout, layout)
    # More bytes than any layout of these data is not a layout: ignored.
    too_big = np.zeros((1000, 3), "<f4").tobytes()
    front.page_sends({"type": "layout", "id": 3, "dims": 3, "done": True}, [too_big])
    assert widget.layout.shape == (100, 3)


def test_traits_check_what_python_sets(front_end: tuple[ProjectorWidget, FrontEndComm]) -> None:
    widget, _ = front_end
    widget.selection = [7, 2, 7]
    assert widget.selection.tolist() == [2, 7] and widget.selection.dtype == np.int64
    with pytest.raises(Exception, match=r"`selection`: row 100 is out of range: there are 100"):
        widget.selection = [100]
    with pytest.raises(Exception, match=r"`selection`: give row numbers"):
        widget.selection = [0.5]
    with pytest.raises(Exception, match=r"`color_by`: no metadata column 'nope'"):
        widget.color_by = "nope"
    widget.color_by = "class"
    with pytest.raises(Exception, match=r"'radial'"):
        widget.projection = "radial"
    with pytest.raises(Exception, match="read-only"):
        widget.layout = np.zeros((2, 2))

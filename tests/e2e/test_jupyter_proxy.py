"""``serve()`` in a notebook of a real JupyterLab with jupyter-server-proxy, seen from afar.

The browser reaches JupyterLab by another name than loopback (``jupyter.test``, mapped to
127.0.0.1 in Chromium, as a JupyterHub's name would be) under a base URL
(``/user/tester/``). The cell's output shows the page through ``/user/tester/proxy/<port>/``:
it loads, paints points and streams a t-SNE over the proxied WebSocket, and the page never
talks to 127.0.0.1:<port> itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import nbformat
import numpy as np
import pytest
from PIL import Image

from tests.conftest import FIXTURES
from tests.e2e.app_page import ARTIFACTS, drawn
from tests.support.browser import launch_chromium
from tests.support.jupyter import JupyterLab, running_jupyterlab

pytestmark = pytest.mark.e2e
pytest.importorskip("jupyter_server_proxy")
sync_api = pytest.importorskip("playwright.sync_api")

HOST = "jupyter.test"
BASE_URL = "/user/tester/"
CELL = (
    "import embedding_projector as ep\n"
    f"p = ep.serve({str(FIXTURES / 'tf2_keras_tutorial')!r}, port=0, projection='tsne', height=600)"
)
ITERATION = (
    "Number(document.querySelector('[data-testid=tsne-iteration]')"
    "?.textContent.replace(/,/g, '') ?? 0)"
)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterLab]:
    folder = tmp_path_factory.mktemp("jupyter")
    env = {"EMBEDDING_PROJECTOR_CACHE_DIR": str(folder / "cache")}
    with running_jupyterlab(folder, base_url=BASE_URL, env=env) as lab:
        notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(CELL)])
        notebook.metadata["kernelspec"] = {
            "name": "python3",
            "display_name": "Python 3",
            "language": "python",
        }
        nbformat.write(notebook, lab.root / "proxy.ipynb")
        yield lab


@pytest.fixture(scope="module")
def remote_browser(playwright: Any) -> Iterator[Any]:
    """Chromium that resolves jupyter.test to this machine."""
    browser = launch_chromium(playwright.chromium, f"--host-resolver-rules=MAP {HOST} 127.0.0.1")
    yield browser
    browser.close()


def run_the_cell(page: Any) -> None:
    """Run the notebook's cell from JupyterLab's Run menu, once its kernel is idle.

    On a loaded machine JupyterLab may ask which kernel to use although the notebook names
    one (it had not listed the kernels yet): its default, Python 3, is chosen. A run asked
    for while it is still connecting to the kernel can be dropped (the cell keeps its ``[ ]``
    prompt): it is asked for again.
    """
    dialog = page.locator(".jp-Dialog")
    page.add_locator_handler(dialog, lambda: dialog.locator("button.jp-mod-accept").click())
    page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for(timeout=120_000)
    prompt = page.locator(".jp-Notebook .jp-Cell .jp-InputPrompt").first
    for attempt in range(3):
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
        try:
            page.wait_for_function(
                "el => !el.textContent.includes('[ ]')", arg=prompt.element_handle(), timeout=20_000
            )
            return
        except sync_api.TimeoutError:
            if attempt == 2:
                raise


def test_serve_in_jupyterlab_shows_the_page_through_the_proxy(
    lab: JupyterLab, remote_browser: Any
) -> None:
    context = remote_browser.new_context(viewport={"width": 1800, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    sockets: list[Any] = []
    frames: list[bytes | str] = []

    def on_socket(socket: Any) -> None:
        sockets.append(socket)
        if "/proxy/" in socket.url:  # not JupyterLab's own kernel channels
            socket.on("framereceived", lambda payload: frames.append(payload))

    page.on("websocket", on_socket)
    origin = f"http://{HOST}:{lab.port}"
    try:
        page.goto(f"{origin}{BASE_URL}lab/tree/proxy.ipynb?token={lab.token}")
        run_the_cell(page)
        printed = page.locator(
            ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stdout']"
        )
        printed.get_by_text("Embedding Projector at").wait_for(timeout=120_000)
        text = printed.inner_text()
        match = re.search(rf"at ({re.escape(BASE_URL)}proxy/(\d+)/\?token=[\w-]+)", text)
        assert match, text
        assert "through the Jupyter server" in text
        port = match.group(2)

        iframe = page.locator(".jp-OutputArea-output iframe")
        assert iframe.get_attribute("src") == match.group(1)
        frame = iframe.element_handle().content_frame()
        # The t-SNE streams: its initial layout, then layouts as it iterates, past its early
        # exaggeration (250 iterations), which packs the points tightly.
        frame.wait_for_function(f"{ITERATION} > 0", timeout=240_000)
        frame.wait_for_function(f"{ITERATION} > 300", timeout=180_000)

        iframe.scroll_into_view_if_needed()
        plot = ARTIFACTS / "jupyter_proxy_tsne_plot.png"
        frame.locator("[data-testid=plot]").screenshot(path=str(plot))
        pixels = np.asarray(Image.open(plot).convert("RGB"))[:-4]  # not the border below
        assert drawn(pixels).sum() > 1500, "no points painted in the proxied page"
    finally:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "jupyter_proxy_lab.png"))
        context.close()
    assert not errors, errors

    proxied = f"{origin}{BASE_URL}proxy/{port}/"
    assert any(url.startswith(f"{proxied}api/embeddings/") for url in requests), requests
    assert not [url for url in requests if f":{port}/" in url and not url.startswith(origin)]
    streams = [s for s in sockets if s.url.startswith(f"ws://{HOST}:{lab.port}{BASE_URL}proxy/")]
    assert streams and all("/api/jobs/" in s.url for s in streams), [s.url for s in sockets]
    layouts = [payload for payload in frames if isinstance(payload, bytes)]
    assert len(layouts) >= 2, f"{len(layouts)} layouts over the WebSocket"

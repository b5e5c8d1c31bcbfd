"""The widget in a real JupyterLab 4, driven in Chromium like a user would.

One JupyterLab for the module: a notebook runs ``w = show(vectors, labels)``; the points are
painted in the cell's output; a click selects a point and ``w.selection`` in the kernel holds it;
setting ``w.selection`` in Python selects in the page; t-SNE runs from the widget to its end.
``compare()`` shows its two linked plots. Every request of the page is recorded: none may go
anywhere but the Jupyter server (the widget's data travel over the kernel's comm). Last, the
kernel dies, and the widget says so.
"""

from __future__ import annotations

import io
import json
import os
import signal
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.e2e.app_page import ARTIFACTS, drawn, screen_positions
from tests.support.jupyter_lab import (
    WIDGET_ROOT,
    JupyterLab,
    LabNotebook,
    open_notebook,
    running_lab,
    wait_for_points,
)

pytestmark = pytest.mark.e2e

SIDE = 12
# A grid of points, x spacing 2 and y spacing 1: its 2-D PCA is the grid itself, so the test
# knows where each point is drawn.
SHOW = f"""
import numpy as np, embedding_projector as ep
rows, columns = np.divmod(np.arange({SIDE * SIDE}), {SIDE})
vectors = np.stack([columns * 2.0, rows * 1.0], axis=1)
labels = [f"point {{i}}" for i in range({SIDE * SIDE})]
w = ep.show(vectors, labels, projection="pca", height=640)
"""


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterLab]:
    folder = tmp_path_factory.mktemp("jupyterlab")
    with running_lab(folder, {"EMBEDDING_PROJECTOR_CACHE_DIR": str(folder / "cache")}) as lab:
        yield lab


@pytest.fixture(scope="module")
def notebook(browser: Any, lab: JupyterLab) -> Iterator[LabNotebook]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    errors: list[str] = []
    try:
        opened = open_notebook(lab, context, "widget.ipynb")
        opened.page.on("pageerror", lambda error: errors.append(str(error)))
        yield opened
    finally:
        context.close()
    assert not errors, f"errors in the page: {errors}"


def widget(notebook: LabNotebook) -> Any:
    """The widget (Playwright's CSS selectors see into its shadow root)."""
    return notebook.page.locator(".embedding-projector")


def plot(notebook: LabNotebook) -> Any:
    return widget(notebook).locator("[data-testid=plot]")


def plot_pixels(notebook: LabNotebook, name: str) -> np.ndarray:
    ARTIFACTS.mkdir(exist_ok=True)
    png = plot(notebook).screenshot(path=str(ARTIFACTS / f"{name}.png"))
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def layouts_drawn(notebook: LabNotebook) -> int:
    return int(plot(notebook).get_attribute("data-layouts-drawn") or 0)


def wait_for_selection(notebook: LabNotebook, rows: str) -> None:
    """Until the page shows ``rows`` (comma-separated) selected."""
    notebook.page.wait_for_function(
        f"{WIDGET_ROOT}?.querySelector('#selection')?.dataset.indices === '{rows}'", timeout=10_000
    )


def origin(url: str) -> str:
    """Where a request went; a blob: or data: URL is the page's own."""
    if url.startswith("data:"):
        return "data:"
    parts = urlsplit(url.removeprefix("blob:"))
    return f"{parts.scheme}://{parts.netloc}"


def kernel_layout(notebook: LabNotebook, rows: int = SIDE * SIDE) -> np.ndarray:
    """The layout the page reported to Python: reports follow a layout by 0.6 s and more on a
    busy page, so an empty one is asked for again for a while."""
    deadline = time.monotonic() + 30
    while True:
        data = json.loads(notebook.text("import json; print(json.dumps(w.layout.tolist()))"))
        layout = np.asarray(data, dtype=np.float64)
        if len(layout) == rows or time.monotonic() > deadline:
            return layout
        time.sleep(0.3)


def test_show_paints_the_points_in_the_output(notebook: LabNotebook) -> None:
    outputs = notebook.run(SHOW)
    assert [o["output_type"] for o in outputs] == ["display_data"], outputs  # shown once
    assert "application/vnd.jupyter.widget-view+json" in outputs[0]["data"]
    wait_for_points(notebook.page, timeout_ms=60_000)
    notebook.page.wait_for_timeout(1200)  # the layout eases in
    pixels = plot_pixels(notebook, "widget_lab_points")
    painted = drawn(pixels)
    assert painted.sum() > 200, "no points painted in the widget"
    # The page told Python what it shows.
    assert "pca 2 label" in notebook.text("print(w.projection, w.dims, w.label_by)")


def test_a_click_selects_in_python(notebook: LabNotebook) -> None:
    layout = kernel_layout(notebook)
    assert layout.shape == (SIDE * SIDE, 2)
    box = plot(notebook).bounding_box()
    target = 5 * SIDE + 7
    x, y = screen_positions(layout, box)[target]
    # Under load a software-rendered frame can make deck.gl miss a click: tried again.
    for attempt in range(3):
        notebook.page.mouse.click(float(x), float(y))
        try:
            wait_for_selection(notebook, str(target))
            break
        except PlaywrightTimeout:
            if attempt == 2:
                raise
    notebook.page.wait_for_timeout(800)  # the page reports the selection after 250 ms
    assert notebook.text("print(w.selection.tolist())").strip() == f"[{target}]"


def test_a_selection_set_in_python_shows_in_the_page(notebook: LabNotebook) -> None:
    before = plot_pixels(notebook, "widget_lab_before_selection")
    notebook.text("w.selection = [0, 1, 2, 143]")
    wait_for_selection(notebook, "0,1,2,143")
    notebook.page.wait_for_timeout(600)
    after = plot_pixels(notebook, "widget_lab_selection")
    assert np.abs(after.astype(int) - before.astype(int)).sum(axis=-1).astype(bool).mean() > 0.001
    assert notebook.text("print(w.selection.tolist())").strip() == "[0, 1, 2, 143]"


def test_tsne_runs_in_the_widget_to_the_end(notebook: LabNotebook) -> None:
    output = widget(notebook)
    drawn_before = layouts_drawn(notebook)
    output.get_by_role("tab", name="t-SNE").click()  # starts t-SNE in 3D, 1,000 iterations
    output.get_by_label("Max. iterations").fill("300")
    output.get_by_role("button", name="2D", exact=True).click()  # runs it again, in 2D
    progress = output.locator("[role=progressbar]")
    progress.wait_for(timeout=60_000)
    progress.wait_for(state="detached", timeout=240_000)
    assert layouts_drawn(notebook) > drawn_before
    assert "Failed" not in output.inner_text()
    assert int(output.get_by_test_id("tsne-iteration").inner_text().replace(",", "")) > 100
    notebook.page.wait_for_timeout(1500)  # the layout goes to Python once it stops changing
    assert notebook.text("print(w.projection, w.dims, w.layout.shape)").strip() == (
        f"tsne 2 ({SIDE * SIDE}, 2)"
    )


def test_the_page_asked_nothing_of_any_other_origin(notebook: LabNotebook, lab: JupyterLab) -> None:
    assert notebook.requests, "no request was recorded"
    # anywidget imports the widget's module from a blob: URL of the page.
    assert any(url.startswith(f"blob:{lab.origin}/") for url in notebook.requests)
    origins = {origin(url) for url in notebook.requests}
    assert origins <= {lab.origin, "data:"}, origins


COMPARE = """
import numpy as np, embedding_projector as ep
rng = np.random.default_rng(0)
centres = rng.normal(size=(5, 12)) * 4
before = centres[np.arange(300) % 5] + rng.normal(size=(300, 12))
after = before @ rng.normal(size=(12, 20)) + rng.normal(scale=3, size=(300, 20))
c = ep.compare(before, after, labels=[f"w{i}" for i in range(300)], names=("before", "after"),
               projection="pca", height=700)
"""


def test_compare_opens_the_linked_view_in_the_widget(notebook: LabNotebook) -> None:
    """``compare()`` in a notebook: both plots painted over the comm, coloured by overlap;
    the least stable point, chosen in the list, is selected in the kernel too."""
    outputs = notebook.run(COMPARE)
    assert [o["output_type"] for o in outputs] == ["display_data"], outputs
    view = notebook.page.locator(".embedding-projector").last
    notebook.page.wait_for_function(
        "Array.from(Array.from(document.querySelectorAll('.embedding-projector')).at(-1)?.shadowRoot"
        "?.querySelectorAll('[data-testid=plot]') ?? [])"
        ".filter(p => Number(p.dataset.layoutsDrawn) >= 1).length === 2",
        timeout=240_000,
    )
    summary = view.get_by_test_id("compare-summary")
    summary.wait_for(timeout=240_000)
    assert "300 points" in summary.inner_text()
    assert view.get_by_test_id("compare-title-a").inner_text() == "before"
    assert view.get_by_test_id("compare-title-b").inner_text() == "after"
    assert view.get_by_label("Color by").input_value() == "k-NN overlap"
    least = view.locator("[aria-label='Points by overlap'] button").first
    least.wait_for(timeout=60_000)
    label = least.locator(".text").inner_text()
    least.click()
    view.locator("[aria-label='Neighbours in the second embedding'] button").first.wait_for(
        timeout=120_000
    )
    assert view.get_by_test_id("compare-point").inner_text().startswith(f"{label}: overlap")
    view.screenshot(path=str(ARTIFACTS / "widget_lab_compare.png"))
    row = int(label.removeprefix("w"))
    notebook.page.wait_for_timeout(800)  # the page reports the selection after 250 ms
    assert notebook.text("print(c.selection.tolist())").strip() == f"[{row}]"
    notebook.text("c.close()")


def test_a_dead_kernel_is_said_in_the_widget(notebook: LabNotebook) -> None:
    pid = int(notebook.text("import os; print(os.getpid())"))
    os.kill(pid, signal.SIGKILL)
    output = widget(notebook)
    output.get_by_text("This widget lost its kernel").wait_for(timeout=30_000)
    output.screenshot(path=str(ARTIFACTS / "widget_lab_kernel_gone.png"))

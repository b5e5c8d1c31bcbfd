"""Take the screenshots of the Notebooks page (docs/images/notebook-*.png) in a real JupyterLab.

A JupyterLab in temporary folders, a notebook that shows scikit-learn's digits with ``show()``
(t-SNE in 2D, thumbnails), driven in headless Chromium; then a selection made from Python.
Run it from an environment where the web bundle is built (``make build``)::

    .venv/bin/python -m scripts.notebook_screenshots
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright
from scripts.docs_screenshots import save
from tests.support.browser import launch_chromium
from tests.support.jupyter_lab import WIDGET_ROOT, open_notebook, running_lab, wait_for_points

REPO = Path(__file__).resolve().parents[1]
VIEWPORT = {"width": 1440, "height": 1000}
SHOW = """import numpy as np
import embedding_projector as ep
from sklearn.datasets import load_digits

digits = load_digits()
thumbnails = (255 - digits.images * 255 / 16).astype(np.uint8)  # dark digits on white
metadata = {"digit": digits.target, "row": np.arange(len(digits.target))}
w = ep.show(digits.data, metadata, images=thumbnails, projection="tsne", height=680)
w.dims, w.color_by = 2, "digit"
"""
SELECT = "w.selection = np.flatnonzero(digits.target == 3)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "images")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        folder = Path(tmp)
        browser = launch_chromium(playwright.chromium)
        with running_lab(folder, {"EMBEDDING_PROJECTOR_CACHE_DIR": str(folder / "cache")}) as lab:
            context = browser.new_context(viewport=VIEWPORT, color_scheme="light")
            notebook = open_notebook(lab, context, "digits.ipynb")
            page = notebook.page
            page.evaluate("window.jupyterapp.commands.execute('application:toggle-left-area')")
            notebook.text(SHOW)
            try:
                wait_for_points(page, timeout_ms=300_000)
            except Exception:
                page.screenshot(path=str(folder.parent / "notebook-screenshot-failed.png"))
                raise
            # t-SNE has run to its end when the t-SNE tab's progress bar is gone.
            page.wait_for_function(
                f"{WIDGET_ROOT}?.querySelector('[data-testid=tsne-iteration]') && "
                f"!{WIDGET_ROOT}.querySelector('[role=progressbar]')",
                timeout=600_000,
            )
            page.wait_for_timeout(2000)
            page.locator(".jp-WindowedPanel-outer").evaluate("(outer) => outer.scrollTo(0, 0)")
            page.wait_for_timeout(500)
            save(page.screenshot(), args.out / "notebook-widget.png")
            notebook.text(SELECT)
            page.wait_for_timeout(2500)
            widget = page.locator(".embedding-projector")
            save(widget.screenshot(), args.out / "notebook-selection.png")
            context.close()
        browser.close()


if __name__ == "__main__":
    main()

"""Notebook widget benchmark: ``show()`` in JupyterLab to points painted, beside ``projector``.

The same data (N x 16 float32 in 36 clusters, a label per row) are opened two ways in the same
run, each with its own empty cache (so each computes its PCA):

- ours: a JupyterLab notebook runs ``w = show(vectors, labels)``; the time runs from the cell's
  start to the widget's first drawn layout. The data, metadata and layout travel over the
  kernel's comm; the kernel hosts the app and its worker processes.
- baseline: ``projector DIR --no-browser`` is started on the log dir ``show()`` wrote; the time
  runs from its start to the first drawn layout of its page in Chromium.

Both include starting the app and its workers, the metadata transfer, the PCA and the layout
transfer. Headless Chromium draws WebGL in software here. ``benchmarks/run.py`` calls
``run(smoke)``.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from tests.e2e.app_page import app_page
from tests.server_process import running_server
from tests.support.browser import launch_chromium
from tests.support.jupyter_lab import open_notebook, running_lab, wait_for_points

DIMENSIONS = 16


def clustered_vectors(n: int, seed: int = 0) -> np.ndarray:
    """N x 16 float32 vectors in 36 Gaussian clusters."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=6, size=(36, DIMENSIONS))
    return (centers[rng.integers(0, 36, n)] + rng.standard_normal((n, DIMENSIONS))).astype("<f4")


def time_widget(lab: Any, browser: Any, data: Path, cache: Path, timeout_s: float) -> float:
    """Seconds from running ``show()`` in a notebook to the widget's points painted."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        notebook = open_notebook(lab, context, f"{data.stem}.ipynb")
        notebook.text(
            f"import os; os.environ['EMBEDDING_PROJECTOR_CACHE_DIR'] = {str(cache)!r}\n"
            f"import numpy as np, embedding_projector as ep\nv = np.load({str(data)!r})\n"
            "labels = [f'point {i}' for i in range(len(v))]"
        )
        started = time.perf_counter()
        notebook.text("w = ep.show(v, labels, projection='pca')", timeout=timeout_s * 1000)
        wait_for_points(notebook.page, timeout_ms=timeout_s * 1000)
        elapsed = time.perf_counter() - started
        notebook.text("w.close()")
        return elapsed
    finally:
        context.close()


def time_projector(browser: Any, folder: Path, cache: Path, timeout_s: float) -> float:
    """Seconds from starting ``projector`` on ``folder`` to its page's points painted."""
    started = time.perf_counter()
    with (
        running_server(str(folder), "--projection", "pca", cache_dir=cache) as server,
        app_page(browser, server.url) as page,
    ):
        page.wait_for_function(
            "Number(document.querySelector('[data-testid=plot]')?.dataset.layoutsDrawn) >= 1",
            timeout=timeout_s * 1000,
            polling=100,
        )
        return time.perf_counter() - started


def run(smoke: bool) -> Iterator[dict[str, Any]]:
    """Rows for the benchmark table (see benchmarks/run.py), one per size as it is measured."""
    from playwright.sync_api import sync_playwright

    sizes = [2_000] if smoke else [100_000, 1_000_000]
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        folder = Path(tmp)
        (folder / "lab").mkdir()
        browser = launch_chromium(p.chromium)
        try:
            with running_lab(folder / "lab", {}) as lab:
                for n in sizes:
                    timeout = 120 + 600 * n / 1_000_000
                    data = folder / f"vectors-{n}.npy"
                    np.save(data, clustered_vectors(n))
                    widget_cache = folder / f"widget-cache-{n}"
                    ours = time_widget(lab, browser, data, widget_cache, timeout)
                    # The log dir show() wrote: the same files for `projector`.
                    (logdir,) = (widget_cache / "sessions").iterdir()
                    baseline = time_projector(browser, logdir, folder / f"cache-{n}", timeout)
                    yield {
                        "benchmark": "widget",
                        "case": "show() in JupyterLab -> points painted",
                        "size": f"{n:,} x {DIMENSIONS} float32, a label per row",
                        "seconds": ours,
                        "baseline": "projector DIR -> its page's points painted",
                        "baseline_seconds": baseline,
                        "ratio": ours / baseline,
                        "note": (
                            "each with its own empty cache (PCA computed); over the comm vs "
                            f"HTTP; load avg {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
                        ),
                    }
        finally:
            browser.close()

"""A layout above the level-of-detail threshold in the browser: the `large` demo as tiles.

By default the demo has 200,000 points and a threshold of 20,000 (a minute); set
``EP_LOD_ROWS=10000000`` for the ten-million-point demo at the default threshold
(``EP_LOD_CACHE`` names a cache dir that already holds it, built by ``projector demo large
--rows 10000000``). First frame, zoom into a corner (a finer level: points the overview did
not have), search highlights across tiles, a lasso whose count is the server's.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from tests.e2e.app_page import app_page, drawn, plot_box, screenshot
from tests.server_process import ServerProcess, client, running_server
from tests.support.polygons import inside_polygon

ROWS = int(os.environ.get("EP_LOD_ROWS", "200000"))
THRESHOLD = 2_000_000 if ROWS >= 10_000_000 else ROWS // 10
#: Ten million points: a cold start copies 2.5 GB of vectors and computes PCA.
TIMEOUT_MS = 900_000 if ROWS >= 10_000_000 else 180_000
pytestmark = pytest.mark.timeout(2 * TIMEOUT_MS / 1000)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    cache = Path(os.environ.get("EP_LOD_CACHE") or tmp_path_factory.mktemp("cache"))
    args = ["demo", "large", "--rows", str(ROWS), "--lod-threshold", str(THRESHOLD)]
    with running_server(*args, cache_dir=cache, timeout=TIMEOUT_MS / 1000) as s:
        yield s


@pytest.fixture(scope="module")
def http(server: ServerProcess) -> Iterator[httpx.Client]:
    with client(server) as c:
        c.timeout = httpx.Timeout(TIMEOUT_MS / 1000)
        yield c


def plot_data(page: Any, name: str) -> str:
    return str(page.get_by_test_id("plot").get_attribute(f"data-{name}"))


def selected_count(page: Any) -> int:
    return int(page.locator("#selection").get_attribute("data-count") or 0)


#: Stamps the points each frame draws (``gl.POINTS`` draws summed per animation frame) in
#: ``window.__pointFrames``: the points deck draws the hundreds or thousands in view, the overlay
#: the few rows given by position (benchmarks/bench_web.py, ``DRAW_STAMPS``).
POINT_FRAMES = """() => {
  const frames = (window.__pointFrames = []);
  let current = null;
  const proto = WebGL2RenderingContext.prototype;
  const draw = proto.drawArrays;
  proto.drawArrays = function (mode, first, count) {
    if (mode === this.POINTS) {
      if (current === null) {
        frames.push((current = [0]));
        requestAnimationFrame(() => { current = null; });
      }
      current[0] += count;
    }
    return draw.call(this, mode, first, count);
  };
}"""


def pca_layout(http: httpx.Client, embedding: str, layout_id: str) -> np.ndarray:
    """The page's PCA layout (cached by then), checked to be the layout it drew."""
    job = http.post(f"/api/embeddings/{embedding}/projections", json={"method": "pca", "dims": 2})
    job_id = job.json()["id"]
    while http.get(f"/api/jobs/{job_id}").json()["state"] != "done":
        time.sleep(0.2)
    assert http.get(f"/api/jobs/{job_id}/layout").json()["id"] == layout_id
    return np.frombuffer(http.get(f"/api/jobs/{job_id}/result").content, "<f4").reshape(-1, 2)


def test_tiles_zoom_search_and_lasso(
    browser: Any, server: ServerProcess, http: httpx.Client
) -> None:
    (embedding,) = http.get("/api/embeddings").json()
    started = time.monotonic()
    with app_page(browser, server.url) as page:
        page.wait_for_function(
            "Number(document.querySelector('[data-testid=plot]')?.dataset.pointsShown) > 0",
            timeout=TIMEOUT_MS,
        )
        first_frame_s = time.monotonic() - started
        print(f"first frame {first_frame_s:.1f} s for {ROWS:,} points (server start included)")
        page.wait_for_timeout(3000)
        overview = screenshot(page, f"lod_{ROWS}_overview")
        shown = int(plot_data(page, "points-shown"))
        assert 0 < shown < ROWS
        assert drawn(overview).sum() > 20_000
        assert page.get_by_test_id("points-shown").is_visible()
        overview_level = int(plot_data(page, "lod-level"))

        # Zoom into the corner of a cluster: a finer level (rows the overview did not have).
        box = plot_box(page)
        ink = np.argwhere(drawn(overview))
        y, x = ink[len(ink) // 3]  # plot pixels
        page.mouse.move(box["x"] + float(x), box["y"] + float(y))
        for _ in range(8):
            page.mouse.wheel(0, -240)
            page.wait_for_timeout(250)
        page.mouse.move(box["x"] + 3, box["y"] + box["height"] - 3)
        level = "Number(document.querySelector('[data-testid=plot]').dataset.lodLevel)"
        finer = f"{level} > {overview_level}"
        page.wait_for_function(finer, timeout=60_000)
        page.wait_for_timeout(4000)
        zoomed = screenshot(page, f"lod_{ROWS}_zoomed")
        assert drawn(zoomed).sum() > 5_000, "the zoomed view shows points"
        page.get_by_role("button", name="Reset view").click()
        page.wait_for_timeout(2000)

        # Search a column the server answers for (a name per point): every match, every tile.
        page.wait_for_function("!document.querySelector('#search-input').disabled")
        page.get_by_label("Search column").select_option("name")
        page.locator("#search-input").fill("gaba")
        page.evaluate(POINT_FRAMES)
        page.keyboard.press("Enter")
        expected = http.get(
            f"/api/embeddings/{embedding['id']}/search", params={"q": "gaba", "column": "name"}
        ).content
        matches = len(expected) // 4
        assert matches > 10
        page.wait_for_function(
            f"document.querySelector('#selection').dataset.count === '{matches}'", timeout=60_000
        )
        page.wait_for_timeout(3000)
        screenshot(page, f"lod_{ROWS}_search")
        # The matches' positions arrive (and their neighbours') and are drawn over their tiles
        # by the overlay, alone: as a layer of the points they made all the points in view
        # redraw (issue 12), a frame of at least `shown`.
        frames = [count for (count,) in page.evaluate("window.__pointFrames")]
        assert frames and matches <= max(frames) < shown, (frames, matches, shown)
        page.get_by_role("button", name="Clear selection").click()

        # A lasso: the page sends it to the server, which decides over every row.
        page.get_by_role("button", name="Lasso").click()
        cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        radius = min(box["width"], box["height"]) / 4
        with page.expect_request("**/select") as asked:
            page.mouse.move(cx + radius, cy)
            page.mouse.down()
            for k in range(1, 41):
                angle = 2 * math.pi * k / 40
                page.mouse.move(cx + radius * math.cos(angle), cy + radius * math.sin(angle))
            page.mouse.up()
        request = json.loads(asked.value.post_data)
        # The server's first lasso compiles its kernel (numba, cached on disk afterwards).
        page.wait_for_function(
            "document.querySelector('#selection').dataset.count !== '0'", timeout=TIMEOUT_MS
        )
        count = selected_count(page)
        screenshot(page, f"lod_{ROWS}_lasso")
    # The same lasso over every row of the layout, in numpy: the page's count.
    layout_id = asked.value.url.split("/layouts/")[1].split("/")[0]
    positions = pca_layout(http, embedding["id"], layout_id)
    m = np.array(request["matrix"], np.float64).reshape(4, 4).T
    homogeneous = np.c_[positions[:, :2], np.zeros(ROWS), np.ones(ROWS)] @ m.T
    pixels = homogeneous[:, :2] / homogeneous[:, 3:4]
    assert count == int(inside_polygon(pixels, np.array(request["polygon"])).sum())
    assert count > shown / 100

"""Above the level-of-detail threshold, at a threshold small enough for a t-SNE in a test.

The `large` demo of 4,000 points served with ``--lod-threshold 1000``: a 3-D layout is drawn
as an even sample with a note that says so ("Showing N of 4,000 points"), and a t-SNE's
overview is redrawn as its layout streams in (each frame a sample of at most the threshold),
then its finished layout arrives as tiles.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.app_page import app_page, changed, drawn, layouts_drawn, screenshot
from tests.server_process import ServerProcess, running_server

ROWS, THRESHOLD = 4_000, 1_000
PLOT = "document.querySelector('[data-testid=plot]')"
SHOWN = f"Number({PLOT}.dataset.pointsShown)"
ITERATION = (
    "Number(document.querySelector('[data-testid=tsne-iteration]')?.textContent"
    ".replace(/,/g, '') ?? 0)"
)
ITERATIONS = 400
#: A t-SNE under a loaded 2-core machine's software WebGL: minutes, not seconds.
pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    cache: Path = tmp_path_factory.mktemp("cache")
    args = ["demo", "large", "--rows", str(ROWS), "--lod-threshold", str(THRESHOLD)]
    with running_server(*args, cache_dir=cache, timeout=300) as s:
        yield s


def test_a_3d_layout_above_the_threshold_is_a_sample_that_says_so(
    browser: Any, server: ServerProcess
) -> None:
    # The link names 3-D: it is kept (without it the page opens in 2-D above the threshold).
    with app_page(browser, f"{server.url}#pca_dims=3") as page:
        note = page.get_by_test_id("sample-note")
        note.wait_for(timeout=120_000)
        page.wait_for_timeout(1500)
        shown = int(page.evaluate(SHOWN))
        assert 0 < shown <= THRESHOLD
        assert f"Showing {shown:,} of {ROWS:,} points" in note.inner_text()
        assert page.get_by_test_id("points-shown").inner_text() == f"showing {shown:,}"
        pixels = screenshot(page, "lod_stream_3d_sample")
        assert drawn(pixels).sum() > 2_000


def test_a_tsne_above_the_threshold_streams_its_overview_then_tiles(
    browser: Any, server: ServerProcess
) -> None:
    url = f"{server.url}#projection=tsne&tsne_dims=2&iterations={ITERATIONS}"
    with app_page(browser, url) as page:
        # A streamed frame: drawn while the t-SNE is still iterating, a sample of the rows.
        page.wait_for_function(
            f"{SHOWN} > 0 && {ITERATION} > 0 && {ITERATION} < {ITERATIONS * 0.6}", timeout=180_000
        )
        shown = int(page.evaluate(SHOWN))
        assert 0 < shown <= THRESHOLD
        before, first = layouts_drawn(page), screenshot(page, "lod_stream_tsne_early")
        # The overview follows the stream: more layouts drawn, and they look different.
        page.wait_for_function(
            f"Number({PLOT}.dataset.layoutsDrawn) > {before + 2}",
            timeout=120_000,
        )
        later = screenshot(page, "lod_stream_tsne_later")
        assert changed(first, later) > 0.002
        # The end: the finished layout, as tiles of the server's layout.
        page.wait_for_function(f"{ITERATION} >= {ITERATIONS}", timeout=300_000)
        page.wait_for_function(
            f"{PLOT}.dataset.lodLevel !== ''",
            timeout=120_000,
        )
        page.wait_for_timeout(1500)
        final = screenshot(page, "lod_stream_tsne_done")
        assert drawn(final).sum() > 2_000
        assert 0 < int(page.evaluate(SHOWN)) <= ROWS

"""The step slider of a training timeline, in Chromium against a real server (issue 11).

The log dir is the PyTorch ``add_embedding`` timeline of ``tests/data/timeline`` (4 steps of
200 words being trained into 8 groups), with the metadata the fixture wrote.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.app_page import app_page, changed, drawn, screenshot, wait_for_layouts
from tests.server_process import ServerProcess, client, running_server
from tests.test_steps import TIMELINE

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    folder = TIMELINE / "torch_add_embedding_steps"
    with running_server(str(folder), cache_dir=tmp_path_factory.mktemp("cache")) as server:
        yield server


def words_url(server: ServerProcess, fragment: str = "") -> str:
    with client(server) as http:
        found = http.get("/api/embeddings").json()
    emb = next(e["id"] for e in found if e["name"] == "words")
    return f"{server.base}/#embedding={emb}&pca_dims=2&color=group{fragment}"


def slider_ready(page: Any, steps: int) -> None:
    """Wait until the timeline job has every step (the slider's label says so when it is done)."""
    page.get_by_test_id("timeline").wait_for(timeout=60_000)
    page.wait_for_function(
        "!document.querySelector('[data-testid=timeline]').textContent.includes('computing')",
        timeout=120_000,
    )
    assert f"of {steps})" in page.get_by_test_id("timeline-step").inner_text()


def seek(page: Any, value: float) -> None:
    """Move the slider as a user's drag does: set its value, fire input."""
    page.get_by_role("slider", name="Training step").evaluate(
        "(el, v) => { el.value = String(v); "
        "el.dispatchEvent(new Event('input', {bubbles: true})); }",
        value,
    )
    page.wait_for_timeout(400)


def test_slider_morphs_the_points_and_play_runs_to_the_end(
    browser: Any, server: ServerProcess
) -> None:
    with app_page(browser, words_url(server)) as page:
        wait_for_layouts(page, 1)
        slider_ready(page, 4)
        step = page.get_by_test_id("timeline-step")
        assert step.inner_text().startswith("words:00300 · step 300 (4 of 4)")
        seek(page, 3)
        last = screenshot(page, "timeline_1_last_step")
        assert drawn(last).sum() > 2000
        seek(page, 0)
        first = screenshot(page, "timeline_2_first_step")
        assert step.inner_text().startswith("words:00000 · step 0 (1 of 4)")
        assert drawn(first).sum() > 2000
        assert changed(first, last) > 0.005  # the words moved between step 0 and step 300
        seek(page, 1.5)  # half-way between two steps: neither of them
        middle = screenshot(page, "timeline_3_between_steps")
        assert changed(middle, first) > 0.002 and changed(middle, last) > 0.002
        seek(page, 0)
        page.get_by_role("button", name="Play the timeline").click()
        page.wait_for_function(
            "document.querySelector('[data-testid=timeline-step]').textContent.includes('4 of 4')",
            timeout=30_000,
        )
        page.get_by_role("button", name="Play the timeline").wait_for(timeout=10_000)  # stopped
        assert page.get_by_role("slider", name="Training step").input_value() == "3"


def test_colour_by_drift_and_the_points_that_moved_most(
    browser: Any, server: ServerProcess
) -> None:
    with app_page(browser, words_url(server)) as page:
        wait_for_layouts(page, 1)
        slider_ready(page, 4)
        seek(page, 1)
        by_group = screenshot(page, "timeline_4_by_group")
        page.get_by_role("button", name="Compute the drift").click()
        moved = page.get_by_role("list", name="Points that moved most")
        moved.wait_for(timeout=120_000)
        page.get_by_role("button", name="Colour the points by drift").click()
        page.wait_for_timeout(800)
        by_drift = screenshot(page, "timeline_5_colour_by_drift")
        assert changed(by_group, by_drift) > 0.002
        legend = page.get_by_label("Legend").inner_text()
        assert legend.strip() != ""
        color_by = page.get_by_label("Color by").input_value()
        assert color_by == "drift: neighbours kept from the previous step"
        first = moved.locator("button.item").first
        index = first.get_attribute("data-index")
        assert float(first.get_attribute("data-distance")) < 1.0  # it lost neighbours
        first.click()
        page.wait_for_function(
            f"document.querySelector('#selection').dataset.indices === '{index}'", timeout=10_000
        )


def test_steps_that_cannot_be_aligned_are_listed_with_why(browser: Any, tmp_path: Path) -> None:
    with (
        running_server(str(TIMELINE / "tf2_resized"), cache_dir=tmp_path) as server,
        app_page(browser, f"{server.base}/#pca_dims=2") as page,
    ):
        wait_for_layouts(page, 1)
        page.get_by_test_id("timeline").wait_for(timeout=60_000)
        text = page.get_by_test_id("timeline").inner_text()
        screenshot(page, "timeline_6_not_aligned")
        assert "could not be computed" in text
        assert "its rows are not the same points" in text
        assert page.get_by_role("slider", name="Training step").count() == 0

"""Reading the map in the page, on the digits demo: faithfulness as a colour, the selected
point's missing neighbours, "Find clusters" with names drawn on the map and selectable."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pytest
from PIL import Image

from embedding_projector.demos import prepare_demo
from tests.e2e.app_page import (
    app_page,
    changed,
    screenshot,
    selection,
    wait_for_layouts,
)
from tests.server_process import ServerProcess, running_server

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def digits_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    cache = tmp_path_factory.mktemp("demo")
    logs = cache / "logs"
    shutil.copytree(prepare_demo("digits", cache_dir=cache), logs / "digits")
    with running_server(str(logs), cache_dir=cache / "cache") as server:
        yield server


@contextmanager
def opened(browser: Any, server: ServerProcess, fragment: str) -> Iterator[Any]:
    """The page on a layout, once its faithfulness is measured."""
    with app_page(browser, server.base + "/#" + fragment) as page:
        wait_for_layouts(page, 1, timeout=180_000)
        page.get_by_test_id("faithfulness-line").filter(has_text="This layout keeps").wait_for(
            timeout=180_000
        )
        yield page


@pytest.fixture
def page(browser: Any, digits_server: ServerProcess) -> Iterator[Any]:
    with opened(browser, digits_server, "projection=pca&pca_dims=2") as page:
        yield page


def test_colour_by_faithfulness_and_missing_neighbours(page: Any) -> None:
    line = page.get_by_test_id("faithfulness-line").inner_text()
    assert "of each point's 10 nearest neighbours" in line and "keep fewer than 30 %" in line
    before = screenshot(page, "faithfulness-before")
    colour_by = page.get_by_label("Color by")
    colour_by.select_option(label="faithfulness (numbers)")
    legend = page.get_by_label("Legend")
    legend.wait_for()
    assert legend.locator(".gradient").count() == 1
    page.wait_for_timeout(500)
    after = screenshot(page, "faithfulness-colour")
    assert changed(before, after) > 0.005

    # Select a point the layout keeps few neighbours of: its figure and missing neighbours.
    page.get_by_label("Search column").select_option("digit")
    page.get_by_label("Search", exact=True).fill("8")
    page.get_by_label("Search", exact=True).press("Enter")
    page.get_by_label("Search results").locator("button").first.click()
    figure = page.get_by_test_id("point-faithfulness")
    figure.wait_for()
    # The search typed before Enter must not run again and select every match once more.
    page.wait_for_timeout(400)
    assert len(selection(page)) == 1
    text = figure.inner_text()
    kept = int(re.search(r"keeps (\d+) of its 10 nearest neighbours", text).group(1))  # type: ignore[union-attr]
    assert kept < 10
    # The figure comes from the server's faithfulness; the missing neighbours from the page
    # (the server's exact neighbours, ranked in the layout): they must agree.
    show = page.get_by_label("Show missing neighbours on the map")
    show.wait_for(timeout=30_000)
    assert f"Show the {10 - kept} missing" in figure.inner_text()
    page.get_by_label("Missing neighbours").locator("button").first.wait_for()
    show.check()
    page.wait_for_timeout(500)
    screenshot(page, "missing-neighbours")


def test_find_clusters_draws_names_and_a_click_selects_one(page: Any) -> None:
    page.get_by_label("Thumbnails").uncheck()
    page.get_by_label("Label by").select_option("digit")
    before = screenshot(page, "clusters-before")
    page.get_by_label("Minimum cluster size").fill("15")
    page.get_by_role("button", name="Find clusters").click()
    names = page.get_by_label("Cluster names").locator("button")
    names.first.wait_for(timeout=120_000)
    summary = page.get_by_test_id("clusters-summary").inner_text()
    assert "clusters" in summary
    page.wait_for_timeout(300)
    after = screenshot(page, "clusters-names")
    assert changed(before, after) > 0.001
    drawn = names.count()
    assert drawn >= 2
    # Names never overlap one another.
    boxes = [names.nth(i).bounding_box() for i in range(drawn)]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            apart = (
                a["x"] + a["width"] <= b["x"]
                or b["x"] + b["width"] <= a["x"]
                or a["y"] + a["height"] <= b["y"]
                or b["y"] + b["height"] <= a["y"]
            )
            assert apart, (a, b)
    # The smallest cluster drawn: its points become the selection.
    sizes = [
        int(s.replace(",", ""))
        for s in page.get_by_label("Clusters").locator(".size").all_inner_texts()
    ]
    last = names.nth(drawn - 1)
    cluster = int(last.get_attribute("data-cluster"))
    last.click()
    page.wait_for_function(
        f"document.querySelector('#selection').textContent.includes('{sizes[cluster]:,} selected')"
    )
    chosen = selection(page)
    assert len(chosen) == sizes[cluster]
    # The cluster column colours the map like any categorical column.
    page.get_by_label("Color by").select_option(value="cluster")
    page.wait_for_timeout(500)
    screenshot(page, "clusters-coloured")


def test_density_toggle_draws_the_density_under_the_points(page: Any) -> None:
    density = page.get_by_label("Density", exact=True)
    assert not density.is_checked()  # off below 200,000 points
    page.get_by_label("Thumbnails").uncheck()
    page.wait_for_timeout(300)
    without = screenshot(page, "density-off")
    density.check()
    page.wait_for_timeout(500)
    with_density = screenshot(page, "density-on")
    # Tinted cells between and around the points: many more pixels differ from the background.
    assert changed(without, with_density) > 0.05
    # The density is a canvas under the plot's WebGL canvas: "Save image" composes both.
    with page.expect_download() as download:
        page.get_by_role("button", name="Save image").click()
    saved = np.asarray(Image.open(download.value.path()).convert("RGB"))
    assert changed(saved, with_density) < 0.01
    density.uncheck()
    page.wait_for_timeout(500)
    assert changed(without, screenshot(page, "density-off-again")) < 0.002

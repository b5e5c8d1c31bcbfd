"""The app on TensorBoard log dirs written by the real tools (SPEC §3, issue 4).

One real `projector` server per log dir; screenshots of each step go to test-artifacts/.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FIXTURES
from tests.e2e.app_page import (
    app_page,
    changed,
    drawn,
    layouts_drawn,
    screenshot,
    selection,
    wait_for_layouts,
)
from tests.server_process import ServerProcess, client, running_server

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, ServerProcess]]:
    """A server per fixture used here, started once for the module."""
    started: dict[str, ServerProcess] = {}
    contexts = []
    try:
        for name in ("tf2_keras_tutorial", "tf2_two_embeddings_sprite"):
            context = running_server(str(FIXTURES / name), cache_dir=tmp_path_factory.mktemp(name))
            started[name] = context.__enter__()
            contexts.append(context)
        yield started
    finally:
        for context in reversed(contexts):
            context.__exit__(None, None, None)


def embedding_id(server: ServerProcess, name: str | None = None) -> str:
    with client(server) as http:
        embeddings = http.get("/api/embeddings").json()
    return next(e["id"] for e in embeddings if name is None or e["name"] == name)


def test_keras_tutorial_search_neighbours_dims_and_live_tsne(
    browser: Any, servers: dict[str, ServerProcess]
) -> None:
    server = servers["tf2_keras_tutorial"]
    with app_page(browser, f"{server.base}/") as page:
        wait_for_layouts(page, 1)
        pixels = screenshot(page, "keras_1_pca_3d")
        assert page.get_by_test_id("point-count").inner_text() == "999 points"
        # The points are on the canvas: thousands of pixels of the point colour.
        assert drawn(pixels).sum() > 3000

        page.get_by_label("Search", exact=True).fill("tok_1")
        page.get_by_test_id("search-count").filter(has_text="111 matches").wait_for()
        results = page.get_by_role("list", name="Search results")
        assert results.get_by_role("button").count() > 5
        screenshot(page, "keras_2_search_tok_1")

        results.get_by_role("button", name="tok_11", exact=True).click()
        neighbours = page.get_by_role("list", name="Nearest neighbours").get_by_role("button")
        neighbours.nth(9).wait_for()
        assert neighbours.count() == 10
        shown = [
            (int(item.get_attribute("data-index")), float(item.get_attribute("data-distance")))
            for item in neighbours.all()
        ]
        with client(server) as http:
            expected = http.get(
                f"/api/embeddings/{embedding_id(server)}/neighbors",
                params={"index": 10, "k": 10, "metric": "cosine"},
            ).json()
        assert [i for i, _ in shown] == expected["indices"]
        distances = [d for _, d in shown]
        assert distances == pytest.approx(expected["distances"], rel=1e-6)
        assert distances == sorted(distances)
        assert selection(page) == [10]
        screenshot(page, "keras_3_neighbours_of_tok_11")

        # 3D → 2D → 3D: another view, then the same one again.
        drawn_before = layouts_drawn(page)
        three = screenshot(page, "keras_4_pca_3d")
        page.get_by_role("button", name="2D", exact=True).click()
        wait_for_layouts(page, drawn_before + 1)
        two = screenshot(page, "keras_5_pca_2d")
        assert changed(three, two) > 0.005
        page.get_by_role("button", name="3D", exact=True).click()
        wait_for_layouts(page, drawn_before + 2)
        assert changed(three, screenshot(page, "keras_6_pca_3d_again")) < 0.005

        page.get_by_role("tab", name="t-SNE").click()
        iteration = page.get_by_test_id("tsne-iteration")
        page.wait_for_function(
            "Number(document.querySelector('[data-testid=tsne-iteration]')"
            ".textContent.replace(/,/g, '')) > 0",
            timeout=120_000,
        )
        first = int(iteration.inner_text().replace(",", ""))
        early = screenshot(page, "keras_7_tsne_early")
        page.wait_for_function(
            "Number(document.querySelector('[data-testid=tsne-iteration]')"
            f".textContent.replace(/,/g, '')) > {first + 100}",
            timeout=120_000,
        )
        later = screenshot(page, "keras_8_tsne_later")
        assert changed(early, later) > 0.003, "the t-SNE layout did not move"


def test_two_embeddings_colours_bookmark_and_thumbnails(
    browser: Any, servers: dict[str, ServerProcess]
) -> None:
    server = servers["tf2_two_embeddings_sprite"]
    with app_page(browser, f"{server.base}/") as page:
        wait_for_layouts(page, 1)
        page.get_by_label("Color by").select_option("class")
        legend = page.get_by_role("list", name="Legend").get_by_role("listitem")
        assert legend.count() == 5
        assert sorted(legend.all_inner_texts())[0].startswith("class_0")
        # Thumbnails as points: the 16 px sprites cover much more than dots would.
        assert page.get_by_label("Thumbnails").is_checked()
        sprites = screenshot(page, "sprite_1_thumbnails_coloured_by_class")
        assert drawn(sprites).mean() > 0.01

        # The fixture's bookmark (written by TensorBoard 2.21) restores.
        before = layouts_drawn(page)
        page.get_by_role("button", name="Restore PCA view from fixture").click()
        wait_for_layouts(page, before + 1)
        assert selection(page) == [0, 1, 2]
        assert page.get_by_label("Label by").input_value() == "word"
        assert page.get_by_label("Color by").input_value() == "class"
        assert page.get_by_role("tab", name="PCA").get_attribute("aria-selected") == "true"
        selected = page.get_by_role("list", name="Selected points")
        assert selected.get_by_role("img", name="Thumbnail of point 0").is_visible()
        screenshot(page, "sprite_2_bookmark_restored")

        # A click on one of them selects it: its metadata card shows its thumbnail.
        page.get_by_role("list", name="Selected points").get_by_role("button").first.click()
        card = page.get_by_label("Selected point")
        assert card.get_by_role("img", name="Thumbnail of point 0").is_visible()
        assert "class_0" in card.inner_text()
        screenshot(page, "sprite_3_metadata_card")


@pytest.mark.parametrize(
    ("fixture", "fragment", "message", "in_the_plot"),
    [
        (
            "metadata_row_mismatch",
            "",
            "Number of tensors (15) do not match the number of lines in metadata (12)",
            None,
        ),
        (
            "tensor_bytes",
            "#projection=tsne&perplexity=60",
            "perplexity",
            "t-SNE did not produce a layout",
        ),
    ],
    ids=["bad-metadata-warning", "failed-job-message"],
)
def test_problems_are_shown_in_a_banner(
    browser: Any, tmp_path: Path, fixture: str, fragment: str, message: str, in_the_plot: str | None
) -> None:
    with (
        running_server(str(FIXTURES / fixture), cache_dir=tmp_path) as server,
        app_page(browser, f"{server.base}/{fragment}") as page,
    ):
        banner = page.get_by_role("alert").filter(has_text=message)
        banner.wait_for(timeout=60_000)
        if in_the_plot is not None:  # where the layout would be: what happened, what to do
            page.locator(".plot-area .waiting").filter(has_text=in_the_plot).wait_for()
        screenshot(page, f"banner_{fixture}")
        assert banner.is_visible()

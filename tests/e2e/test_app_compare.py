"""The compare view in a real browser: two embeddings of the same items side by side, linked,
coloured by the overlap of their neighbourhoods; and a pair that is not the same items refused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from embedding_projector.projector import save_embeddings
from tests.e2e.app_page import ARTIFACTS, SETTLE_MS, app_page, changed
from tests.server_process import ServerProcess, client, running_server
from tests.test_steps import TIMELINE

pytestmark = pytest.mark.e2e

N = 300
LONG = 180_000  # ms: the machine is shared; the first jobs wait for the workers to start


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """``before``: 5 clusters of 300 words; ``after``: the same words in another order and
    another space (paired by the `word` labels); ``fewer``: 250 rows, no labels."""
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(5, 12)) * 4
    before = (centres[np.arange(N) % 5] + rng.normal(size=(N, 12))).astype(np.float32)
    after = (before @ rng.normal(size=(12, 20)) + rng.normal(scale=3, size=(N, 20))).astype(
        np.float32
    )
    words = [f"w{i}" for i in range(N)]
    order = rng.permutation(N)
    root = tmp_path_factory.mktemp("logs")
    save_embeddings(
        root, "before", before, {"word": words, "group": [f"g{i % 5}" for i in range(N)]}
    )
    save_embeddings(root, "after", after[order], {"word": [words[i] for i in order], "n": order})
    save_embeddings(root, "fewer", after[:250])
    with running_server("--logdir", str(root), cache_dir=tmp_path_factory.mktemp("cache")) as s:
        yield s


def ids(server: ServerProcess) -> dict[str, str]:
    with client(server) as http:
        return {e["name"]: e["id"] for e in http.get("/api/embeddings").json()}


def plots_drawn(page: Any) -> list[int]:
    found: list[int] = page.eval_on_selector_all(
        "[data-testid=plot]", "plots => plots.map(p => Number(p.dataset.layoutsDrawn))"
    )
    return found


def plot_pixels(page: Any, index: int, name: str) -> np.ndarray:
    """One of the two plots as H x W x 3 (the page saved to test-artifacts/NAME.png)."""
    import io

    from PIL import Image

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
    png = page.locator("[data-testid=plot]").nth(index).screenshot()
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def compared(page: Any) -> None:
    """Wait until both plots are drawn and the overlap is computed."""
    page.wait_for_function(
        "Array.from(document.querySelectorAll('[data-testid=plot]'))"
        ".filter(p => Number(p.dataset.layoutsDrawn) >= 1).length === 2",
        timeout=LONG,
    )
    page.get_by_test_id("compare-summary").wait_for(timeout=LONG)
    page.wait_for_timeout(SETTLE_MS)


def overlaps_listed(page: Any) -> list[float]:
    found: list[float] = page.eval_on_selector_all(
        "[aria-label='Points by overlap'] button",
        "items => items.map(b => Number(b.dataset.distance))",
    )
    return found


def test_compare_view_links_both_plots_and_colours_by_overlap(
    browser: Any, server: ServerProcess
) -> None:
    known = ids(server)
    view = f"embedding={known['before']}&compare={known['after']}&projection=pca&pca_dims=2"
    url = f"{server.base}/#{view}"
    with app_page(browser, url) as page:
        compared(page)
        assert page.get_by_test_id("compare-title-a").inner_text() == "before"
        assert page.get_by_test_id("compare-title-b").inner_text() == "after"
        assert (
            "300 points paired by their “word” labels"
            in page.get_by_test_id("compare-summary").inner_text()
        )
        # Colour by overlap is chosen, in both plots: a viridis ramp of many colours.
        assert page.get_by_label("Color by").input_value() == "k-NN overlap"
        before = [plot_pixels(page, i, f"compare_1_overlap_{i}") for i in (0, 1)]
        for pixels in before:
            colours = {tuple(c) for c in pixels.reshape(-1, 3)[::7] if int(c.sum()) < 600}
            assert len(colours) > 50, len(colours)

        # The list: every point, least stable first; reversed on a click.
        listed = overlaps_listed(page)
        assert len(listed) >= 10 and listed == sorted(listed) and 0 <= listed[0] < 1
        page.get_by_test_id("stability-sort").click()
        reversed_list = overlaps_listed(page)
        assert reversed_list == sorted(reversed_list, reverse=True) and reversed_list[0] > listed[0]
        page.get_by_test_id("stability-sort").click()

        # Selecting the least stable point selects it in both plots and lists its neighbours
        # in each space, side by side.
        least = page.locator("[aria-label='Points by overlap'] button").first
        label = least.locator(".text").inner_text()
        least.click()
        page.locator("[aria-label='Neighbours in the second embedding'] button").first.wait_for(
            timeout=LONG
        )
        page.wait_for_timeout(SETTLE_MS)
        assert page.get_by_test_id("compare-point").inner_text().startswith(f"{label}: overlap")
        first = page.locator("[aria-label='Neighbours in the first embedding'] button")
        second = page.locator("[aria-label='Neighbours in the second embedding'] button")
        assert first.count() >= 10 and second.count() >= 10
        assert {first.nth(i).inner_text() for i in range(10)} != {
            second.nth(i).inner_text() for i in range(10)
        }
        after = [plot_pixels(page, i, f"compare_2_selected_{i}") for i in (0, 1)]
        for old, new in zip(before, after, strict=True):
            assert changed(old, new) > 0.002  # the highlight and the labels, in each plot

        # Hovering a point in one plot labels it in the other too.
        page.get_by_role("button", name="Clear selection").click()
        page.wait_for_timeout(SETTLE_MS)
        cleared = plot_pixels(page, 1, "compare_3_cleared")
        box = page.locator("[data-testid=plot]").first.bounding_box()
        hovered = None
        for fx in np.linspace(0.3, 0.7, 9):
            for fy in np.linspace(0.3, 0.7, 9):
                page.mouse.move(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)
                page.wait_for_timeout(60)
                if page.get_by_role("tooltip").count():
                    hovered = (fx, fy)
                    break
            if hovered:
                break
        assert hovered is not None, "no point found under the mouse"
        page.wait_for_timeout(500)
        assert changed(cleared, plot_pixels(page, 1, "compare_4_hover")) > 0.0005


def test_rows_that_are_not_the_same_items_are_not_drawn(
    browser: Any, server: ServerProcess
) -> None:
    known = ids(server)
    with app_page(browser, f"{server.base}/#embedding={known['before']}&projection=pca") as page:
        page.wait_for_function(
            "Number(document.querySelector('[data-testid=plot]').dataset.layoutsDrawn) >= 1",
            timeout=LONG,
        )
        page.get_by_label("Embedding to compare with").select_option(known["fewer"])
        page.get_by_role("button", name="Compare", exact=True).click()
        error = page.get_by_test_id("compare-error")
        error.wait_for(timeout=LONG)
        assert error.inner_text() == (
            "before has 300 rows and fewer has 250: they are not the same items, and no "
            "metadata column of unique labels is in both to pair them by"
        )
        page.wait_for_timeout(SETTLE_MS)
        # No misaligned picture: the second plot draws nothing and says why.
        assert plots_drawn(page)[1] == 0
        assert "Nothing to show" in page.get_by_test_id("compare-b").inner_text()
        page.screenshot(path=str(ARTIFACTS / "compare_5_rows_differ.png"))
        page.get_by_role("button", name="End comparison").click()
        assert page.locator("[data-testid=plot]").count() == 1


def test_two_steps_of_one_embedding_are_compared(browser: Any, tmp_path: Path) -> None:
    """The Keras timeline (ckpt-3 .. ckpt-7 kept by CheckpointManager): its oldest step
    chosen in the Compare panel beside the embedding shown (its latest step)."""
    with running_server(str(TIMELINE / "tf2_checkpoint_manager"), cache_dir=tmp_path) as server:
        with client(server) as http:
            (info,) = http.get("/api/embeddings").json()
            steps = http.get(f"/api/embeddings/{info['id']}/steps").json()["steps"]
        assert [s["label"] for s in steps] == [f"ckpt-{i}" for i in range(3, 8)]
        url = f"{server.base}/#embedding={info['id']}&projection=pca&pca_dims=2"
        with app_page(browser, url) as page:
            page.wait_for_function(
                "Number(document.querySelector('[data-testid=plot]').dataset.layoutsDrawn) >= 1",
                timeout=LONG,
            )
            chooser = page.get_by_label("Embedding to compare with")
            offered = chooser.locator("option").all_inner_texts()
            # Every earlier step of the embedding shown, and not the shown one itself.
            assert [o.split(" · ")[0] for o in offered] == [
                f"{info['name']} (ckpt-{i})" for i in range(3, 7)
            ]
            chooser.select_option(f"{info['id']}@0")
            page.get_by_role("button", name="Compare", exact=True).click()
            compared(page)
            assert page.get_by_test_id("compare-title-a").inner_text() == f"{info['name']} (ckpt-7)"
            assert page.get_by_test_id("compare-title-b").inner_text() == f"{info['name']} (ckpt-3)"
            rows = info["shape"][0]
            summary = page.get_by_test_id("compare-summary").inner_text()
            assert f"{rows:,} points paired" in summary
            assert "compare_step=0" in page.evaluate("location.hash")
            # Training moved the neighbourhoods: not every point keeps all its neighbours.
            listed = overlaps_listed(page)
            assert len(listed) >= 10 and listed == sorted(listed) and listed[0] < 1
            a, b = (plot_pixels(page, i, f"compare_6_steps_{i}") for i in (0, 1))
            height, width = min(a.shape[0], b.shape[0]), min(a.shape[1], b.shape[1])
            # Two steps, two pictures (the plots may differ by a pixel in width).
            assert changed(a[:height, :width], b[:height, :width]) > 0.002
            # The selected point's neighbours at the older step come from that step's vectors.
            page.locator("[aria-label='Points by overlap'] button").first.click()
            second = page.locator("[aria-label='Neighbours in the second embedding'] button")
            second.first.wait_for(timeout=LONG)
            assert second.count() >= 10
            page.screenshot(path=str(ARTIFACTS / "compare_7_steps_selected.png"))
        # A link to the comparison opens it again, step included.
        with app_page(browser, f"{url}&compare={info['id']}&compare_step=0") as page:
            page.get_by_test_id("compare-summary").wait_for(timeout=LONG)
            assert page.get_by_test_id("compare-title-b").inner_text() == f"{info['name']} (ckpt-3)"

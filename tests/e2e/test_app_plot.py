"""The plot and the page's tools on a data set whose layout the test knows: a 10 × 10 grid.

The vectors are the grid itself (x spacing 2, y spacing 1), so PCA in 2D is the grid; the test
reads the PCA layout from the API and computes where each point is on screen, then checks
hover, rectangle and lasso selection, isolation, the image, the exports, links and bookmarks.
"""

from __future__ import annotations

import csv
import math
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest
from PIL import Image

from tests.e2e.app_page import (
    ARTIFACTS,
    DARK_BACKGROUND,
    LIGHT_BACKGROUND,
    VIEWPORT,
    app_page,
    changed,
    click_point,
    drawn,
    layouts_drawn,
    plot_box,
    screen_positions,
    screenshot,
    selection,
    wait_for_layouts,
)
from tests.server_process import ServerProcess, client, running_server
from tests.support.browser import launch_chromium

pytestmark = pytest.mark.e2e

SIDE = 10
CELL = 16
# 2D PCA of the grid (the default would be 3D, which a 2-column data set cannot have anyway).
FRAGMENT = "#pca_dims=2"


@pytest.fixture(scope="module")
def grid_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    folder = tmp_path_factory.mktemp("grid")
    rows, columns = np.divmod(np.arange(SIDE * SIDE), SIDE)
    np.save(folder / "grid.npy", np.stack([columns * 2.0, rows * 1.0], axis=1).astype(np.float32))
    # The first row of the grid is a sequence: point i links to i + 1 (`__seq_next__`).
    lines = ["label\tclass\t__seq_next__"] + [
        f"point {i}\tc{i % 3}\t{i + 1 if i < SIDE - 1 else ''}" for i in range(SIDE * SIDE)
    ]
    (folder / "meta.tsv").write_text("\n".join(lines) + "\n")
    atlas = np.zeros((SIDE * CELL, SIDE * CELL, 3), np.uint8)
    for i in range(SIDE * SIDE):
        r, c = divmod(i, SIDE)
        atlas[r * CELL : (r + 1) * CELL, c * CELL : (c + 1) * CELL] = (40 + 2 * i, 120, 200 - i)
    Image.fromarray(atlas).save(folder / "sprite.png")
    with running_server(
        str(folder / "grid.npy"),
        "--metadata",
        str(folder / "meta.tsv"),
        "--sprite",
        str(folder / "sprite.png"),
        "--sprite-size",
        str(CELL),
        str(CELL),
        cache_dir=tmp_path_factory.mktemp("grid-cache"),
    ) as server:
        yield server


def pca_layout(server: ServerProcess) -> tuple[str, np.ndarray]:
    """The embedding's id and its 2D PCA layout, as the page gets it from the API."""
    with client(server) as http:
        embedding = http.get("/api/embeddings").json()[0]["id"]
        body = {
            "method": "pca",
            "dims": 2,
            "spherize": False,
            "seed": 0,
            "params": {"components": [0, 1]},
        }
        status = http.post(f"/api/embeddings/{embedding}/projections", json=body).json()
        job = status["id"]
        deadline = time.monotonic() + 60
        while http.get(f"/api/jobs/{job}").json()["state"] != "done":
            assert time.monotonic() < deadline, "PCA did not finish"
            time.sleep(0.2)
        data = http.get(f"/api/jobs/{job}/result").content
    return embedding, np.frombuffer(data, dtype="<f4").reshape(-1, 2)


@pytest.fixture
def page(browser: Any, grid_server: ServerProcess) -> Iterator[Any]:
    with app_page(browser, f"{grid_server.base}/{FRAGMENT}") as page:
        wait_for_layouts(page, 1)
        page.get_by_label("Thumbnails").uncheck()
        page.wait_for_timeout(300)
        yield page


@pytest.fixture(scope="module")
def layout(grid_server: ServerProcess) -> np.ndarray:
    return pca_layout(grid_server)[1]


def test_hover_shows_the_label_and_the_thumbnail(page: Any, layout: np.ndarray) -> None:
    x, y = screen_positions(layout, plot_box(page))[55]
    before = screenshot(page, "grid_hover_before")
    page.mouse.move(x, y)
    page.wait_for_function("document.querySelector('#hovered').textContent === 'point 55'")
    page.wait_for_timeout(300)
    after = screenshot(page, "grid_hover_label")
    box = plot_box(page)
    px, py = round(x - box["x"]), round(y - box["y"])
    region = (slice(py - 40, py - 8), slice(px - 60, px + 60))
    new = drawn(after)[region] & ~drawn(before)[region]
    assert new.sum() > 30, "no label drawn above the hovered point"
    card = page.get_by_role("tooltip")
    assert "point 55" in card.inner_text()
    assert card.get_by_role("img", name="Thumbnail of point 55").is_visible()


def test_sequences_are_drawn_as_lines(page: Any, layout: np.ndarray) -> None:
    pixels = drawn(screenshot(page, "grid_sequences"))
    box = plot_box(page)
    local = screen_positions(layout, box) - [box["x"], box["y"]]

    def ink_between(a: int, b: int) -> int:
        x, y = np.round((local[a] + local[b]) / 2).astype(int)
        return int(pixels[y - 2 : y + 3, x - 2 : x + 3].sum())

    assert ink_between(0, 1) > 0 and ink_between(4, 5) > 0
    assert ink_between(10, 11) == 0


def test_rectangle_and_lasso_select_the_points_inside(page: Any, layout: np.ndarray) -> None:
    screen = screen_positions(layout, plot_box(page))
    page.get_by_role("button", name="Rectangle").click()
    x0, y0 = screen[[22, 33]].mean(axis=0) - 4
    x1, y1 = screen[[55, 66]].mean(axis=0) + 4
    xs, ys = sorted([x0, x1]), sorted([y0, y1])
    inside = np.flatnonzero(
        (screen[:, 0] > xs[0])
        & (screen[:, 0] < xs[1])
        & (screen[:, 1] > ys[0])
        & (screen[:, 1] < ys[1])
    )
    assert 4 <= len(inside) < 40
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move((x0 + x1) / 2, (y0 + y1) / 2)
    page.mouse.move(x1, y1)
    screenshot(page, "grid_rectangle_dragging")
    page.mouse.up()
    page.wait_for_function("document.querySelector('#selection').dataset.indices !== ''")
    assert selection(page) == sorted(inside.tolist())
    page.wait_for_timeout(300)
    screenshot(page, "grid_rectangle_selected")

    # A lasso around point 44 (shift: added to the selection).
    page.get_by_role("button", name="Lasso").click()
    centre = screen[44]
    radius = 1.2 * np.linalg.norm(screen[45] - screen[44])
    circle = np.linalg.norm(screen - centre, axis=1) < radius
    page.keyboard.down("Shift")
    page.mouse.move(centre[0] + radius, centre[1])
    page.mouse.down()
    for k in range(1, 41):
        angle = 2 * math.pi * k / 40
        page.mouse.move(centre[0] + radius * math.cos(angle), centre[1] + radius * math.sin(angle))
    page.mouse.up()
    page.keyboard.up("Shift")
    expected = sorted(set(inside.tolist()) | set(np.flatnonzero(circle).tolist()))
    page.wait_for_function(
        "document.querySelector('#selection').dataset.indices.split(',').length"
        f" === {len(expected)}"
    )
    assert selection(page) == expected


def test_isolate_selection_and_show_all(page: Any, layout: np.ndarray) -> None:
    screen = screen_positions(layout, plot_box(page))
    click_point(page, screen[0], 0)
    page.get_by_role("list", name="Nearest neighbours").get_by_role("button").nth(9).wait_for()
    page.mouse.move(5, 5)
    before = screenshot(page, "grid_isolate_before")
    page.get_by_role("button", name="Isolate selection").click()
    page.wait_for_timeout(500)
    after = screenshot(page, "grid_isolate_after")
    # The far corner (point 99) is hidden, point 0 is still drawn.
    box = plot_box(page)
    far = screen[99] - [box["x"], box["y"]]
    near = screen[0] - [box["x"], box["y"]]

    def ink(pixels: np.ndarray, at: np.ndarray) -> int:
        x, y = round(at[0]), round(at[1])
        return int(drawn(pixels)[y - 3 : y + 4, x - 3 : x + 4].sum())

    assert ink(before, far) > 0 and ink(after, far) == 0
    assert ink(after, near) > 0
    assert page.get_by_text("11 shown").is_visible()
    page.get_by_role("button", name="Show all data").click()
    page.wait_for_timeout(500)
    assert ink(screenshot(page, "grid_isolate_show_all"), far) > 0


def test_save_image_and_exports(page: Any, layout: np.ndarray) -> None:
    with page.expect_download() as download:
        page.get_by_role("button", name="Save image").click()
    image = np.asarray(Image.open(download.value.path()).convert("RGB"))
    box = plot_box(page)
    assert image.shape[:2] == (round(box["height"]), round(box["width"]))
    assert tuple(image[2, 2]) == LIGHT_BACKGROUND
    assert drawn(image).mean() > 0.001
    ARTIFACTS.mkdir(exist_ok=True)
    Image.fromarray(image).save(ARTIFACTS / "grid_save_image.png")

    # The layout's faithfulness (measured after every layout) goes with its coordinates.
    page.get_by_test_id("faithfulness-line").filter(has_text="This layout").wait_for()
    page.get_by_role("button", name="Export").click()
    with page.expect_download() as download:
        page.get_by_role("menuitem", name="Coordinates (CSV)").click()
    with open(download.value.path(), newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["index", "x", "y", "label", "class", "__seq_next__", "faithfulness"]
    assert len(rows) == 100
    exported = np.array([[float(r["x"]), float(r["y"])] for r in rows])
    np.testing.assert_allclose(exported, layout, rtol=1e-6, atol=1e-6)

    page.get_by_role("button", name="Export").click()
    with page.expect_download() as download:
        page.get_by_role("menuitem", name="Coordinates (Parquet)").click()
    table = pq.read_table(download.value.path())
    assert table.column_names == [
        "index", "x", "y", "label", "class", "__seq_next__", "faithfulness"
    ]  # fmt: skip
    np.testing.assert_allclose(table.column("x").to_numpy(), layout[:, 0], rtol=1e-6)
    assert table.column("label")[7].as_py() == "point 7"

    page.get_by_label("Search", exact=True).fill("point 1")
    page.get_by_test_id("search-count").filter(has_text="11 matches").wait_for()
    page.get_by_role("button", name="Export").click()
    with page.expect_download() as download:
        page.get_by_role("menuitem", name="Selection (CSV)").click()
    with open(download.value.path(), newline="") as f:
        selected = list(csv.DictReader(f))
    assert [int(r["index"]) for r in selected] == [1, *range(10, 20)]


def test_a_link_reopens_the_same_view(browser: Any, page: Any, layout: np.ndarray) -> None:
    screen = screen_positions(layout, plot_box(page))
    page.get_by_label("Color by").select_option("label")
    click_point(page, screen[42], 42)
    page.mouse.wheel(0, -300)
    page.wait_for_timeout(800)
    screenshot(page, "grid_link_source")
    page.wait_for_function(
        "location.hash.includes('select=42') && location.hash.includes('camera=')"
    )
    url = page.url
    assert "color=label" in url
    with app_page(browser, url) as again:
        wait_for_layouts(again, 1)
        assert selection(again) == [42]
        assert again.get_by_label("Color by").input_value() == "label"
        assert again.url.split("#")[1] == url.split("#")[1]
        screenshot(again, "grid_link_reopened")


def test_bookmarks_are_saved_on_the_server_and_restore(
    page: Any, grid_server: ServerProcess, layout: np.ndarray
) -> None:
    embedding = pca_layout(grid_server)[0]
    screen = screen_positions(layout, plot_box(page))
    click_point(page, screen[7], 7)
    # The page reports its selection, for Python's `show().selection`.
    with client(grid_server) as http:
        deadline = time.monotonic() + 10
        url = f"/api/embeddings/{embedding}/selection"
        while np.frombuffer(http.get(url).content, "<i4").tolist() != [7]:
            assert time.monotonic() < deadline, "the selection was not reported to the server"
            time.sleep(0.2)
    page.get_by_role("button", name="Add bookmark").click()
    page.get_by_role("button", name="Restore State 0").wait_for()
    with client(grid_server) as http:
        deadline = time.monotonic() + 10
        while not (saved := http.get(f"/api/embeddings/{embedding}/bookmarks").json()):
            assert time.monotonic() < deadline, "the bookmark was not saved on the server"
            time.sleep(0.2)
    assert saved[0]["label"] == "State 0"
    assert saved[0]["selectedPoints"] == [7]
    assert saved[0]["selectedProjection"] == "pca"
    # Rename it, change the view, restore it.
    page.get_by_role("button", name="Rename State 0").click()
    page.get_by_label("Bookmark name").fill("corner")
    page.get_by_label("Bookmark name").press("Enter")
    page.get_by_role("button", name="Clear selection").click()
    before = layouts_drawn(page)
    page.get_by_role("button", name="Restore corner").click()
    wait_for_layouts(page, before + 1)
    assert selection(page) == [7]
    page.get_by_role("button", name="Delete corner").click()
    assert page.get_by_role("button", name="Restore corner").count() == 0


def test_night_mode_and_the_shortcut_help(page: Any) -> None:
    light = screenshot(page, "grid_light")
    page.keyboard.press("n")
    page.wait_for_timeout(500)
    dark = screenshot(page, "grid_dark")
    assert np.abs(dark[-10, -10].astype(int) - DARK_BACKGROUND).max() <= 3
    assert changed(light, dark) > 0.5
    page.keyboard.press("?")
    help_dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    help_dialog.wait_for()
    assert "Rectangle selection" in help_dialog.inner_text()
    screenshot(page, "grid_shortcuts_help")
    page.keyboard.press("Escape")
    assert help_dialog.count() == 0
    page.keyboard.press("n")


def test_without_webgl_the_page_says_what_to_do(browser: Any, grid_server: ServerProcess) -> None:
    no_gl = launch_chromium(browser.browser_type, "--disable-webgl")
    try:
        page = no_gl.new_page(viewport=VIEWPORT)
        page.goto(f"{grid_server.base}/")
        banner = page.get_by_role("alert").filter(has_text="WebGL 2 is unavailable")
        banner.wait_for()
        assert "hardware acceleration" in banner.inner_text()
        # The rest of the page still works: the inspector searches.
        page.get_by_label("Search", exact=True).fill("point 9")
        page.get_by_test_id("search-count").filter(has_text="11 matches").wait_for()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "no_webgl.png"))
    finally:
        no_gl.close()


def test_tagging_edited_metadata_and_files_from_the_browser(page: Any, tmp_path: Path) -> None:
    page.get_by_role("button", name="Edit and files").click()
    page.get_by_label("Search", exact=True).fill("point 7")
    page.get_by_test_id("search-count").filter(has_text="11 matches").wait_for()
    page.get_by_label("Edit by").select_option(label="New column…")
    page.get_by_label("Column name").fill("reviewed")
    page.get_by_label("Tag selection as").fill("yes")
    page.get_by_role("button", name="Tag 11").click()
    page.get_by_label("Color by").select_option("reviewed")
    # "yes" and the missing values.
    assert page.get_by_role("list", name="Legend").get_by_role("listitem").count() == 2
    with page.expect_download() as download:
        page.get_by_role("button", name="Download edited metadata").click()
    lines = Path(download.value.path()).read_text().splitlines()
    assert lines[0] == "label\tclass\t__seq_next__\treviewed"
    assert lines[1 + 7].endswith("\tyes") and lines[1 + 70].endswith("\tyes")
    assert not lines[1 + 8].endswith("\tyes")

    # A metadata file replaces the labels; a vectors file becomes an embedding of its own.
    metadata = tmp_path / "names.tsv"
    metadata.write_text("".join(f"name {i}\n" for i in range(100)))
    page.get_by_label("Metadata file").set_input_files(str(metadata))
    page.get_by_label("Label by").filter(has_text="label").wait_for()
    assert page.get_by_label("Label by").input_value() == "label"
    page.get_by_label("Search", exact=True).fill("name 42")
    page.get_by_test_id("search-count").filter(has_text="1 match").wait_for()

    vectors = tmp_path / "vectors.tsv"
    rng = np.random.default_rng(0)
    vectors.write_text(
        "\n".join("\t".join(f"{v:.4f}" for v in row) for row in rng.normal(size=(30, 5))) + "\n"
    )
    before = layouts_drawn(page)
    page.get_by_label("Vectors file").set_input_files(str(vectors))
    wait_for_layouts(page, before + 1)
    assert page.get_by_test_id("shape").inner_text().startswith("30 × 5")
    assert page.get_by_test_id("point-count").inner_text() == "30 points"
    page.get_by_label("Search", exact=True).fill("29")
    page.get_by_test_id("search-count").filter(has_text="1 match").wait_for()
    screenshot(page, "grid_vectors_loaded_in_the_page")
    page.get_by_role("tab", name="t-SNE").click()
    assert "projector FILE" in page.get_by_role("note").inner_text()

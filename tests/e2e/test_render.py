"""The scatter plot in headless Chromium: pixels on the canvas, hover, 2D/3D, selection, PNG.

Serves the built bundle (``make build``) with a static server on 127.0.0.1 and drives Debian's
Chromium (WebGL in software). The page is the renderer preview on generated data; the grid
layout (``?layout=grid``) puts point i at a screen position the test computes, so hover and
selection can be checked against exact indices. Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import functools
import http.server
import io
import math
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

pytestmark = pytest.mark.e2e

playwright_api = pytest.importorskip("playwright.sync_api")

REPO = Path(__file__).resolve().parents[2]
STATIC = REPO / "src" / "embedding_projector" / "static"
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
VIEWPORT = {"width": 1200, "height": 800}
# render/theme.ts and constants.ts
LIGHT_BACKGROUND = (255, 255, 255)
DARK_BACKGROUND = (22, 25, 32)
FIT_MARGIN = 0.08


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    assert (STATIC / "index.html").is_file(), "the web bundle is missing: run `make build`"
    handler = functools.partial(QuietHandler, directory=str(STATIC))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: run `make build`"
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, f"errors in the page: {errors}"


def open_plot(page: Any, base_url: str, query: str) -> None:
    """Open the preview and wait until its first layout is on screen."""
    page.goto(f"{base_url}/index.html?{query}")
    wait_for_layouts(page, 1)


def wait_for_layouts(page: Any, count: int) -> None:
    page.wait_for_function(
        f"Number(document.querySelector('[data-testid=plot]').dataset.layoutsDrawn) >= {count}",
        timeout=30_000,
    )
    # Let the animation to the new layout (0.9 s) settle.
    page.wait_for_timeout(1200)


def plot_box(page: Any) -> dict[str, float]:
    box: dict[str, float] = page.locator("[data-testid=plot]").bounding_box()
    return box


def screenshot(page: Any, name: str) -> np.ndarray:
    """Screenshot of the plot area, saved to test-artifacts/, as an H x W x 3 array."""
    ARTIFACTS.mkdir(exist_ok=True)
    png = page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
    image = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    box = plot_box(page)
    top, left = round(box["y"]), round(box["x"])
    return image[top : top + round(box["height"]), left : left + round(box["width"])]


def non_background(pixels: np.ndarray, background: tuple[int, int, int]) -> np.ndarray:
    """Mask of the pixels that differ clearly from the background."""
    difference = np.abs(pixels.astype(int) - np.array(background)).sum(axis=-1)
    return difference > 40


def grid_position(page: Any, index: int, side: int) -> tuple[float, float]:
    """Page coordinates of point `index` of the preview's grid layout in the fitted 2D view.

    Point i sits at (i mod side, i div side); the plot normalises the layout to [-1, 1] and fits
    it with an 8 % margin, y up (render/bounds.ts, render/camera.ts).
    """
    box = plot_box(page)
    half = (side - 1) / 2
    x, y = (index % side - half) / half, (index // side - half) / half
    scale = min(box["width"], box["height"]) * (1 - 2 * FIT_MARGIN) / 2
    return box["x"] + box["width"] / 2 + x * scale, box["y"] + box["height"] / 2 - y * scale


def selection(page: Any) -> list[int]:
    value = page.locator("#selection").get_attribute("data-indices")
    return sorted(int(i) for i in value.split(",")) if value else []


def test_points_are_drawn_on_the_canvas(page: Any, base_url: str) -> None:
    open_plot(page, base_url, "n=20000&dims=2")
    pixels = screenshot(page, "points_2d_light")
    covered = non_background(pixels, LIGHT_BACKGROUND).mean()
    assert covered > 0.05, f"only {covered:.1%} of the plot is drawn"
    # Coloured by cluster: many distinct saturated colours, not one.
    colours = {tuple(p // 32) for p in pixels[non_background(pixels, LIGHT_BACKGROUND)]}
    assert len(colours) > 10


def test_dark_theme_background_and_points(page: Any, base_url: str) -> None:
    open_plot(page, base_url, "n=100000&dims=3&theme=dark")
    pixels = screenshot(page, "points_3d_dark_100k")
    corner = pixels[5:25, 5:25].reshape(-1, 3)
    assert np.abs(corner.astype(int) - DARK_BACKGROUND).max() <= 3
    assert non_background(pixels, DARK_BACKGROUND).mean() > 0.05


def test_hover_shows_the_label(page: Any, base_url: str) -> None:
    open_plot(page, base_url, "n=100&dims=2&layout=grid")
    x, y = grid_position(page, 55, side=10)
    before = screenshot(page, "hover_before")
    page.mouse.move(x, y)
    page.wait_for_function("document.querySelector('#hovered').textContent.includes('point 55')")
    page.wait_for_timeout(300)
    after = screenshot(page, "hover_label")
    # The label is drawn in the canvas just above the point: dark text where there was none.
    box = plot_box(page)
    px, py = round(x - box["x"]), round(y - box["y"])
    region = (slice(py - 40, py - 8), slice(px - 60, px + 60))
    changed = non_background(after[region], LIGHT_BACKGROUND) & ~non_background(
        before[region], LIGHT_BACKGROUND
    )
    assert changed.sum() > 30, "no label drawn above the hovered point"


def test_switching_2d_and_3d_redraws(page: Any, base_url: str) -> None:
    open_plot(page, base_url, "n=5000&dims=2")
    flat = screenshot(page, "switch_2d")
    page.get_by_role("button", name="3D", exact=True).click()
    wait_for_layouts(page, 2)
    deep = screenshot(page, "switch_3d")
    assert page.locator("footer").inner_text().count("3D") == 1
    for pixels in (flat, deep):
        assert non_background(pixels, LIGHT_BACKGROUND).mean() > 0.02
    moved = (np.abs(flat.astype(int) - deep.astype(int)).sum(axis=-1) > 40).mean()
    assert moved > 0.02, "the 3D view looks like the 2D one"
    # Orbit: a drag turns the camera around the data.
    box = plot_box(page)
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(cx, cy)
    page.mouse.down()
    page.mouse.move(cx + 150, cy + 40, steps=8)
    page.mouse.up()
    page.wait_for_timeout(800)
    turned = screenshot(page, "switch_3d_orbited")
    assert (np.abs(deep.astype(int) - turned.astype(int)).sum(axis=-1) > 40).mean() > 0.02
    page.get_by_role("button", name="2D", exact=True).click()
    wait_for_layouts(page, 3)
    back = screenshot(page, "switch_back_2d")
    assert (np.abs(flat.astype(int) - back.astype(int)).sum(axis=-1) > 40).mean() < 0.01


def test_rectangle_selection_returns_the_points_inside(page: Any, base_url: str) -> None:
    open_plot(page, base_url, "n=100&dims=2&layout=grid")
    page.get_by_role("button", name="Rectangle").click()
    # From between columns 1|2 and rows 5|6 to between columns 4|5 and rows 2|3 (y is up).
    x0, y0 = np.add(grid_position(page, 51, 10), grid_position(page, 62, 10)) / 2
    x1, y1 = np.add(grid_position(page, 24, 10), grid_position(page, 35, 10)) / 2
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move((x0 + x1) / 2, (y0 + y1) / 2)
    page.mouse.move(x1, y1)
    screenshot(page, "rectangle_dragging")
    page.mouse.up()
    expected = sorted(row * 10 + column for row in range(3, 6) for column in range(2, 5))
    page.wait_for_function("document.querySelector('#selection').dataset.indices !== ''")
    assert selection(page) == expected
    page.wait_for_timeout(300)
    screenshot(page, "rectangle_selected")


def test_lasso_selection_returns_the_points_inside(page: Any, base_url: str) -> None:
    open_plot(page, base_url, "n=100&dims=2&layout=grid")
    page.get_by_role("button", name="Lasso").click()
    # A circle of radius 1.5 grid steps around point 44: it holds 44 and its 8 neighbours.
    cx, cy = grid_position(page, 44, 10)
    step = grid_position(page, 45, 10)[0] - cx
    page.mouse.move(cx + 1.6 * step, cy)
    page.mouse.down()
    for k in range(1, 41):
        angle = 2 * math.pi * k / 40
        page.mouse.move(cx + 1.6 * step * math.cos(angle), cy + 1.6 * step * math.sin(angle))
    page.mouse.up()
    page.wait_for_function("document.querySelector('#selection').dataset.indices !== ''")
    assert selection(page) == sorted(44 + dx + 10 * dy for dx in (-1, 0, 1) for dy in (-1, 0, 1))


def test_click_selects_and_labels_neighbours(page: Any, base_url: str) -> None:
    open_plot(page, base_url, "n=100&dims=2&layout=grid")
    page.mouse.click(*grid_position(page, 33, 10))
    page.wait_for_function("document.querySelector('#selection').dataset.indices === '33'")
    page.mouse.move(5, 5)
    page.wait_for_timeout(300)
    screenshot(page, "click_selected_neighbours")


def test_save_image_downloads_the_view_as_png(page: Any, base_url: str) -> None:
    open_plot(page, base_url, "n=3000&dims=3")
    with page.expect_download() as download:
        page.get_by_role("button", name="Save image").click()
    path = download.value.path()
    image = np.asarray(Image.open(path).convert("RGB"))
    box = plot_box(page)
    assert image.shape[:2] == (round(box["height"]), round(box["width"]))
    # The background is baked in, and the points are there.
    assert tuple(image[2, 2]) == LIGHT_BACKGROUND
    assert non_background(image, LIGHT_BACKGROUND).mean() > 0.02
    ARTIFACTS.mkdir(exist_ok=True)
    Image.fromarray(image).save(ARTIFACTS / "save_image.png")


def test_sprites_and_sequences(page: Any, base_url: str) -> None:
    open_plot(page, base_url, "n=400&dims=2")
    page.get_by_label("Sprites").check()
    page.get_by_label("Sequences").check()
    page.wait_for_timeout(800)
    pixels = screenshot(page, "sprites_sequences")
    # Thumbnails are white-numbered tiles: much more of the plot is covered than by dots.
    assert non_background(pixels, LIGHT_BACKGROUND).mean() > 0.05


def test_without_webgl_the_page_says_what_to_do(browser: Any, base_url: str) -> None:
    no_gl = browser.browser_type.launch(
        executable_path=CHROMIUM, headless=True, args=[*CHROMIUM_FLAGS, "--disable-webgl"]
    )
    try:
        page = no_gl.new_page(viewport=VIEWPORT)
        page.goto(f"{base_url}/index.html?n=100")
        banner = page.get_by_role("alert")
        banner.wait_for()
        assert "WebGL 2 is unavailable" in banner.inner_text()
        assert "hardware acceleration" in banner.inner_text()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "no_webgl.png"))
    finally:
        no_gl.close()


def test_isolate_selection_hides_the_other_points(page: Any, base_url: str) -> None:
    open_plot(page, base_url, "n=100&dims=2&layout=grid")
    page.mouse.click(*grid_position(page, 55, 10))
    page.wait_for_function("document.querySelector('#selection').dataset.indices === '55'")
    page.mouse.move(5, 5)
    # Rows 0-2 of the grid hold none of point 55's 10 nearest neighbours.
    box = plot_box(page)
    top = round(grid_position(page, 20, 10)[1] - box["y"]) - 10
    bottom = round(grid_position(page, 0, 10)[1] - box["y"]) + 10
    rows = slice(top, bottom)
    before = screenshot(page, "isolate_before")
    assert non_background(before[rows], LIGHT_BACKGROUND).sum() > 100
    page.get_by_role("button", name="Isolate selection").click()
    page.wait_for_timeout(500)
    after = screenshot(page, "isolate_after")
    assert non_background(after[rows], LIGHT_BACKGROUND).sum() == 0
    assert non_background(after, LIGHT_BACKGROUND).sum() > 100
    page.get_by_role("button", name="Show all data").click()
    page.wait_for_timeout(500)
    shown = screenshot(page, "isolate_show_all")
    assert (np.abs(shown.astype(int) - before.astype(int)).sum(axis=-1) > 40).mean() < 0.001


def test_hovered_thumbnail_is_enlarged_on_top(page: Any, base_url: str) -> None:
    open_plot(page, base_url, "n=100&dims=2&layout=grid")
    page.get_by_label("Sprites").check()
    page.wait_for_timeout(800)
    x, y = grid_position(page, 44, 10)
    page.mouse.move(x, y)
    page.wait_for_function("document.querySelector('#hovered').textContent.includes('point 44')")
    page.wait_for_timeout(300)
    pixels = screenshot(page, "sprite_hover")
    box = plot_box(page)
    px, py = round(x - box["x"]), round(y - box["y"])
    # The enlarged tile (>= 64 px) covers the gap between grid cells around the point.
    step = round(grid_position(page, 45, 10)[0] - x)
    around = pixels[py - 28 : py + 28, px - 28 : px + 28]
    assert step < 64
    assert non_background(around, LIGHT_BACKGROUND).mean() > 0.8


def test_live_layout_stream_animates_to_the_end(page: Any, base_url: str) -> None:
    open_plot(page, base_url, "n=3000&dims=2")
    settled = screenshot(page, "stream_start")
    page.get_by_role("button", name="Simulate live t-SNE").click()
    page.wait_for_timeout(1500)
    streaming = screenshot(page, "stream_midway")
    assert (np.abs(settled.astype(int) - streaming.astype(int)).sum(axis=-1) > 40).mean() > 0.01
    # 40 frames at 4 per second, then the button is enabled again.
    page.wait_for_function(
        "![...document.querySelectorAll('button')]"
        ".find((b) => b.textContent.includes('live t-SNE')).disabled",
        timeout=30_000,
    )
    page.wait_for_timeout(500)
    assert non_background(screenshot(page, "stream_end"), LIGHT_BACKGROUND).mean() > 0.02


def test_switching_layouts_animates(page: Any, base_url: str) -> None:
    open_plot(page, base_url, "n=3000&dims=2")
    start = screenshot(page, "layout_start")
    page.get_by_role("button", name="Spiral").click()
    page.wait_for_timeout(150)
    midway = screenshot(page, "layout_midway")
    wait_for_layouts(page, 2)
    end = screenshot(page, "layout_end")

    def differs(a: np.ndarray, b: np.ndarray) -> float:
        return float((np.abs(a.astype(int) - b.astype(int)).sum(axis=-1) > 40).mean())

    # Halfway through the 0.9 s animation the points are neither where they were nor where
    # they go.
    assert differs(start, end) > 0.02
    assert differs(midway, start) > 0.01
    assert differs(midway, end) > 0.01

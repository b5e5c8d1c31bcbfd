"""Driving the app in a browser: opening it, waiting on its state, reading its pixels."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
VIEWPORT = {"width": 1400, "height": 860}
# render/theme.ts and constants.ts
LIGHT_BACKGROUND = (255, 255, 255)
DARK_BACKGROUND = (22, 25, 32)
FIT_MARGIN = 0.08
# A layout change animates for 0.9 s (DEFAULT_TRANSITION_MS).
SETTLE_MS = 1200


@contextmanager
def app_page(browser: Any, url: str, *, theme: str = "light") -> Iterator[Any]:
    """A fresh page of the app at `url`, failing the test on any error in the page."""
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True, color_scheme=theme)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url)
    try:
        yield page
    finally:
        context.close()
    assert not errors, f"errors in the page: {errors}"


def layouts_drawn(page: Any) -> int:
    value = page.locator("[data-testid=plot]").get_attribute("data-layouts-drawn")
    return int(value or 0)


def wait_for_layouts(page: Any, count: int, timeout: float = 60_000) -> None:
    """Wait until `count` layouts were drawn, then for the animation to end."""
    page.wait_for_function(
        f"Number(document.querySelector('[data-testid=plot]').dataset.layoutsDrawn) >= {count}",
        timeout=timeout,
    )
    page.wait_for_timeout(SETTLE_MS)


def plot_box(page: Any) -> dict[str, float]:
    box: dict[str, float] = page.locator("[data-testid=plot]").bounding_box()
    return box


def screenshot(page: Any, name: str) -> np.ndarray:
    """The page saved to test-artifacts/NAME.png; returns the plot area as H x W x 3."""
    ARTIFACTS.mkdir(exist_ok=True)
    png = page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
    image = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    box = plot_box(page)
    top, left = round(box["y"]), round(box["x"])
    return image[top : top + round(box["height"]), left : left + round(box["width"])]


def drawn(pixels: np.ndarray, background: tuple[int, int, int] = LIGHT_BACKGROUND) -> np.ndarray:
    """Mask of the pixels that differ clearly from the background (the toolbars excluded)."""
    difference = np.abs(pixels.astype(int) - np.array(background)).sum(axis=-1)
    mask = difference > 40
    mask[:60] = False  # the toolbar over the plot
    return mask


def changed(a: np.ndarray, b: np.ndarray) -> float:
    """Fraction of plot pixels that differ between two screenshots."""
    return float((np.abs(a.astype(int) - b.astype(int)).sum(axis=-1)[60:] > 40).mean())


def screen_positions(layout: np.ndarray, box: dict[str, float]) -> np.ndarray:
    """Page coordinates of the points of a 2D layout in the fitted view.

    The plot centres the layout's bounding box, scales it uniformly into [-1, 1] and fits it
    with an 8 % margin, y up (render/bounds.ts, render/camera.ts).
    """
    layout = layout.astype(np.float64)  # numpy float64 is a Python float, as Playwright wants
    low, high = layout.min(axis=0), layout.max(axis=0)
    span = high - low
    w, h = box["width"] * (1 - 2 * FIT_MARGIN), box["height"] * (1 - 2 * FIT_MARGIN)
    scale = min(w / span[0], h / span[1])
    centre = (low + high) / 2
    x = box["x"] + box["width"] / 2 + (layout[:, 0] - centre[0]) * scale
    y = box["y"] + box["height"] / 2 - (layout[:, 1] - centre[1]) * scale
    return np.stack([x, y], axis=1)


def selection(page: Any) -> list[int]:
    value = page.locator("#selection").get_attribute("data-indices")
    return sorted(int(i) for i in value.split(",")) if value else []


def click_point(page: Any, at: np.ndarray, index: int, attempts: int = 3) -> None:
    """Click the point drawn at `at` and wait until it alone is selected.

    On a loaded machine a software-rendered frame can take long enough for deck.gl to miss
    a click (its picking runs in the next frame): the click is tried again.
    """
    condition = f"document.querySelector('#selection').dataset.indices === '{index}'"
    for attempt in range(attempts):
        page.mouse.click(float(at[0]), float(at[1]))
        try:
            page.wait_for_function(condition, timeout=10_000)
            return
        except Exception:
            if attempt == attempts - 1:
                raise

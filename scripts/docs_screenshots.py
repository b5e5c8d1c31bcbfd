"""Take the screenshots of the docs (docs/images/*.png) from the real app, in headless Chromium.

Each shot starts a real ``projector`` server (a built-in demo, or a copy of a fixture log dir
from ../shared/fixtures), drives the page with Playwright as a user would, and saves a PNG of
1440 × 900 px (or of one panel), reduced to 256 colours. Run it again whenever the page
changes, from an environment where the web bundle is built (``make build``)::

    .venv/bin/python -m scripts.docs_screenshots             # every shot
    .venv/bin/python -m scripts.docs_screenshots tsne custom # some of them

Computed projections are cached (``EMBEDDING_PROJECTOR_CACHE_DIR`` or the user cache dir), so
a second run is much quicker; t-SNE uses a new seed each time, to be caught while it runs.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from PIL import Image
from playwright.sync_api import Page, sync_playwright
from tests.support.browser import launch_chromium

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO.parent / "shared" / "fixtures"
VIEWPORT = {"width": 1440, "height": 900}
SETTLE_MS = 1500  # a layout change animates for 0.9 s
LONG = 600_000  # ms: UMAP compiles for a minute or two in a fresh server


@contextmanager
def server(*args: str) -> Iterator[str]:
    """``projector ARGS`` on a free port; yields its URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "embedding_projector", *args, "--no-browser", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    url = ""
    assert process.stdout is not None
    for line in process.stdout:
        lines.append(line)
        match = re.search(r"Embedding Projector at (http://\S+)", line)
        if match:
            url = match.group(1)
            break
    if not url:
        raise RuntimeError("the server did not start:\n" + "".join(lines))
    reader = threading.Thread(target=lambda: [lines.append(x) for x in process.stdout or []])
    reader.start()
    try:
        yield url
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
        reader.join(timeout=10)


@contextmanager
def fixture(name: str) -> Iterator[Path]:
    """A copy of a fixture log dir (the page may save bookmarks beside the data)."""
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / name
        shutil.copytree(FIXTURES / name, copy)
        for path in [copy, *copy.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        yield copy


def wait_for_layouts(page: Page, count: int = 1, timeout: float = LONG) -> None:
    page.wait_for_function(
        f"Number(document.querySelector('[data-testid=plot]')?.dataset.layoutsDrawn) >= {count}",
        timeout=timeout,
    )
    page.wait_for_timeout(SETTLE_MS)


def open_view(page: Page, url: str, view: str = "") -> None:
    """Open the page at ``url#view`` and wait until its projection is drawn and done."""
    page.goto(url + (f"#{view}" if view else ""))
    wait_for_layouts(page)
    wait_for_job(page)


def move_to(page: Page, fx: float, fy: float) -> None:
    """Move the mouse to a point of the plot, given as fractions of its width and height."""
    box = page.locator("[data-testid=plot]").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)


def wait_for_job(page: Page, timeout: float = LONG) -> None:
    """Wait until no projection runs (the status bar shows a running job)."""
    page.wait_for_function("!document.querySelector('footer .job')", timeout=timeout)
    page.wait_for_timeout(SETTLE_MS)


def save(png: bytes, path: Path) -> None:
    """Reduce to 256 colours (the maximum-coverage method keeps small swatches exact)."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    image.quantize(colors=256, method=Image.Quantize.MAXCOVERAGE, dither=Image.Dither.NONE).save(
        path, optimize=True
    )
    print(f"  {path.relative_to(REPO) if path.is_relative_to(REPO) else path}: "
          f"{image.width}×{image.height}, {path.stat().st_size // 1024} KB")  # fmt: skip


# --- the shots: each gets a fresh page and the folder to save into -----------------------


def shot_overview(page: Page, url: str, out: Path) -> None:
    """digits, UMAP in 2D, coloured by digit, one point selected with its neighbours."""
    open_view(page, url, "projection=umap&umap_dims=2&select=1021&color=digit&categorical=1")
    page.get_by_label("Thumbnails").uncheck()
    page.get_by_role("list", name="Nearest neighbours").locator("button").first.wait_for()
    page.wait_for_timeout(SETTLE_MS)
    save(page.screenshot(), out / "overview.png")


def shot_sprites(page: Page, url: str, out: Path) -> None:
    """digits in PCA 3D (with thumbnails), zoomed in, one point hovered."""
    open_view(page, url, "projection=pca")
    move_to(page, 0.5, 0.5)
    page.mouse.wheel(0, -120)
    page.wait_for_timeout(SETTLE_MS)
    save(page.screenshot(), out / "sprites.png")


def shot_pca_3d(page: Page, url: str, out: Path) -> None:
    """digits in PCA 3D: the data panel with the legend."""
    open_view(page, url, "projection=pca")
    page.get_by_label("Thumbnails").uncheck()
    page.wait_for_timeout(SETTLE_MS)
    save(page.screenshot(), out / "pca-3d.png")


def shot_tsne(page: Page, url: str, out: Path) -> None:
    """digits, t-SNE in 2D, caught while it runs (a new seed: never a cache hit)."""
    seed = random.randrange(1, 1_000_000)
    page.goto(url + f"#projection=tsne&tsne_dims=2&tsne_seed={seed}&color=digit&categorical=1")
    page.get_by_label("Thumbnails").uncheck()
    page.wait_for_function(
        "Number(document.querySelector('[data-testid=tsne-iteration]')?.textContent"
        ".replace(/,/g, '')) >= 250",
        timeout=LONG,
    )
    page.wait_for_timeout(400)
    save(page.screenshot(), out / "tsne.png")


def shot_selection(page: Page, url: str, out: Path) -> None:
    """digits, UMAP 2D: a rectangle drawn over part of the plot selects what it covers."""
    open_view(page, url, "projection=umap&umap_dims=2&color=digit&categorical=1")
    page.get_by_label("Thumbnails").uncheck()
    page.keyboard.press("x")
    move_to(page, 0.55, 0.35)
    page.mouse.down()
    for step in range(1, 9):
        move_to(page, 0.55 + 0.2 * step / 8, 0.35 + 0.25 * step / 8)
    page.mouse.up()
    page.wait_for_timeout(SETTLE_MS)
    save(page.screenshot(), out / "selection.png")


def shot_search(page: Page, url: str, out: Path) -> None:
    """words: search "socket", select it, its nearest neighbours listed and labelled."""
    open_view(page, url, "color=source")
    page.locator("#search-input").fill("socket")
    page.get_by_test_id("search-count").wait_for()
    page.get_by_role("list", name="Search results").locator("button").first.click()
    page.get_by_role("list", name="Nearest neighbours").locator("button").first.wait_for()
    page.wait_for_timeout(SETTLE_MS)
    save(page.screenshot(), out / "search-neighbours.png")
    page.keyboard.press("i")  # isolate the selection and its neighbours
    page.wait_for_timeout(SETTLE_MS * 2)
    save(page.screenshot(), out / "isolate.png")


def shot_custom(page: Page, url: str, out: Path) -> None:
    """words: custom axes from searches, coloured by source."""
    axes = {
        "left": "^(file|files|path|directory|read|write)$",
        "right": "^(thread|threads|lock|process|queue|signal)$",
        "up": "^(error|errors|exception|raise|invalid)$",
        "down": "^(return|returns|value|result|default)$",
    }
    query = "&".join(f"{axis}={text}&{axis}_regex=1" for axis, text in axes.items())
    open_view(page, url, f"projection=custom&custom_column=word&color=source&{query}")
    # Select (and so label) one word of each axis, to show where they went.
    page.get_by_label("Regex", exact=True).check()
    page.locator("#search-input").fill("^(file|thread|error|return)$")
    page.get_by_test_id("search-count").wait_for()
    page.wait_for_timeout(SETTLE_MS)
    save(page.screenshot(), out / "custom.png")


def shot_data_panel(page: Page, url: str, out: Path) -> None:
    """words: the data panel (legend, spherize) with its Edit and files section open."""
    open_view(page, url, "color=source")
    page.get_by_role("button", name="Edit and files").click()
    page.wait_for_timeout(300)
    sections = page.locator("aside.left section")
    top, bottom = sections.nth(0).bounding_box(), sections.nth(1).bounding_box()
    assert top is not None and bottom is not None
    clip = {
        "x": top["x"],
        "y": top["y"],
        "width": top["width"],
        "height": bottom["y"] + bottom["height"] - top["y"],
    }
    save(page.screenshot(clip=clip), out / "data-panel.png")


def shot_pca_panel(page: Page, url: str, out: Path) -> None:
    """digits: the projection panel on PCA, with the share of variance of each component."""
    open_view(page, url, "projection=pca")
    save(page.locator("aside.left section").nth(2).screenshot(), out / "pca-panel.png")


def shot_bookmarks(page: Page, url: str, out: Path) -> None:
    """A TensorBoard log dir with a bookmarks file; one bookmark of ours added."""
    open_view(page, url, "select=7")  # a bookmark of ours keeps the selection too
    page.get_by_role("button", name="Restore PCA view from fixture").wait_for()
    page.keyboard.press("b")
    page.wait_for_timeout(SETTLE_MS)
    save(page.locator("aside.right").screenshot(), out / "bookmarks.png")


def shot_toolbar(page: Page, url: str, out: Path) -> None:
    """The plot's toolbar with the Export menu open."""
    open_view(page, url, "projection=pca")
    page.get_by_role("button", name="Export ▾").click()
    page.wait_for_timeout(300)
    box = page.locator("main").bounding_box()
    assert box is not None
    clip = {"x": box["x"], "y": box["y"], "width": box["width"], "height": 130}
    save(page.screenshot(clip=clip), out / "toolbar-export.png")


def shot_help(page: Page, url: str, out: Path) -> None:
    """The keyboard shortcuts (?)."""
    open_view(page, url, "projection=pca")
    page.keyboard.press("?")
    page.get_by_role("dialog", name="Keyboard shortcuts").wait_for()
    save(page.screenshot(), out / "shortcuts.png")


def shot_night(page: Page, url: str, out: Path) -> None:
    """words in night mode, UMAP in 2D."""
    open_view(page, url, "projection=umap&umap_dims=2&color=source")
    page.keyboard.press("n")
    page.wait_for_timeout(SETTLE_MS)
    save(page.screenshot(), out / "night-mode.png")


def shot_warning(page: Page, url: str, out: Path) -> None:
    """A metadata file with fewer lines than vectors: the warning banner."""
    open_view(page, url)
    page.get_by_role("alert").first.wait_for()
    save(page.screenshot(), out / "warning.png")


def shot_compare(page: Page, url: str, out: Path) -> None:
    """digits: their pixels beside a small network's hidden layer, coloured by the overlap of
    each digit's neighbours; the least stable digit selected, its neighbours in both."""
    ids = {e["name"]: e["id"] for e in page.request.get(url + "api/embeddings").json()}
    pair = f"embedding={ids['pixels']}&compare={ids['hidden layer']}"
    view = f"{pair}&projection=pca&pca_dims=2&label=digit"
    page.goto(url + f"#{view}")
    page.get_by_test_id("compare-summary").wait_for(timeout=LONG)
    page.wait_for_function(
        "Array.from(document.querySelectorAll('[data-testid=plot]'))"
        ".every(p => Number(p.dataset.layoutsDrawn) >= 1)",
        timeout=LONG,
    )
    wait_for_job(page)
    page.get_by_role("list", name="Points by overlap").locator("button").first.click()
    page.get_by_role("list", name="Neighbours in the second embedding").locator(
        "button"
    ).first.wait_for()
    page.wait_for_timeout(SETTLE_MS)
    save(page.screenshot(), out / "compare.png")


def write_compare_digits(logdir: Path) -> None:
    """The digits twice: their 64 pixels, and the 32 hidden units of a small network trained
    to read them (scikit-learn's MLP, a few seconds): two embeddings of the same items."""
    import numpy as np
    from sklearn.datasets import load_digits
    from sklearn.neural_network import MLPClassifier

    from embedding_projector.projector import save_embeddings

    data = load_digits()
    network = MLPClassifier(hidden_layer_sizes=(32,), max_iter=300, random_state=0)
    network.fit(data.data / 16, data.target)
    hidden = np.maximum(data.data / 16 @ network.coefs_[0] + network.intercepts_[0], 0)
    metadata = {
        "digit": data.target.tolist(),
        "id": [f"image {i}" for i in range(len(data.target))],
    }
    save_embeddings(logdir, "pixels", data.data, metadata)
    save_embeddings(logdir, "hidden layer", hidden, metadata)


SHOTS: dict[str, tuple[Callable[..., Any], tuple[str, ...]]] = {
    # name: (function, what to serve: a demo name or "fixture:<name>")
    "overview": (shot_overview, ("digits",)),
    "sprites": (shot_sprites, ("digits",)),
    "pca-3d": (shot_pca_3d, ("digits",)),
    "tsne": (shot_tsne, ("digits",)),
    "selection": (shot_selection, ("digits",)),
    "search": (shot_search, ("words",)),
    "custom": (shot_custom, ("words",)),
    "data-panel": (shot_data_panel, ("words",)),
    "pca-panel": (shot_pca_panel, ("digits",)),
    "night": (shot_night, ("words",)),
    "toolbar": (shot_toolbar, ("digits",)),
    "help": (shot_help, ("digits",)),
    "bookmarks": (shot_bookmarks, ("fixture:tf2_two_embeddings_sprite",)),
    "warning": (shot_warning, ("fixture:metadata_row_mismatch",)),
    "compare": (shot_compare, ("compare:digits",)),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("shots", nargs="*", help=f"default: all of {', '.join(SHOTS)}")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "images")
    args = parser.parse_args()
    wanted = args.shots or list(SHOTS)
    unknown = set(wanted) - set(SHOTS)
    if unknown:
        parser.error(f"unknown shots: {', '.join(sorted(unknown))}")
    args.out.mkdir(parents=True, exist_ok=True)
    by_source: dict[str, list[str]] = {}
    for name in wanted:
        by_source.setdefault(SHOTS[name][1][0], []).append(name)
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright.chromium)
        for source, names in by_source.items():
            with serving(source) as serve_args, server(*serve_args) as url:
                print(f"{source}: {url}")
                for name in names:
                    started = time.monotonic()
                    context = browser.new_context(viewport=VIEWPORT, color_scheme="light")
                    page = context.new_page()
                    errors: list[str] = []
                    page.on("pageerror", lambda error, e=errors: e.append(str(error)))
                    try:
                        SHOTS[name][0](page, url, args.out)
                    finally:
                        context.close()
                    if errors:
                        raise RuntimeError(f"{name}: errors in the page: {errors}")
                    print(f"  ({name}: {time.monotonic() - started:.0f} s)")
        browser.close()


@contextmanager
def serving(source: str) -> Iterator[tuple[str, ...]]:
    """The arguments of ``projector`` that serve ``source``."""
    if source.startswith("fixture:"):
        with fixture(source.removeprefix("fixture:")) as folder:
            yield ("--logdir", str(folder))
    elif source == "compare:digits":
        with tempfile.TemporaryDirectory() as folder:
            write_compare_digits(Path(folder))
            yield ("--logdir", folder)
    else:
        yield ("demo", source)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()

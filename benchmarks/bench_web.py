"""Web plot benchmark: our deck.gl scatter plot against a bare WebGL2 draw of the same points.

Headless Chromium here draws WebGL in software (SwiftShader), so absolute frame times mean
little; the ratio to a bare ``gl.POINTS`` draw in the same browser and run does. Two cases at
each size, both pages fed the same float32 ``.bin`` file over HTTP (the API's transfer path):

- orbit frame: the 3D camera turns 3 degrees per frame; the median interval between frames that
  drew the points (``DRAW_STAMPS``; goal: ours <= 1.5x the bare draw);
- open -> first frame: navigation start to the first frame with the points on screen (goal at
  1M: <= 15 s here);
- pan frame with the density layer: the points as a 2D layout panned 1 % of the view per frame,
  over the density layer, against our same page without it (goal: <= 1.5x);
- hover and click (2D): the page's first pointermove onto a drawn point until the plot reports
  it hovered, then (a second later) the pointerdown of a click on it until the plot reports the
  click (in-page stamps; goal: <= 100 ms, issue 12), beside our pan frame.

``benchmarks/run.py`` calls ``run(smoke)``; ``python benchmarks/bench_web.py [--smoke]`` prints
the rows.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import itertools
import math
import os
import shutil
import statistics
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from tests.support.browser import launch_chromium

ROOT = Path(__file__).resolve().parent.parent
PAGES = ROOT / "benchmarks" / "web"
WEB = ROOT / "web"
VIEWPORT = {"width": 1200, "height": 800}
BASELINE = "bare WebGL2 gl.POINTS"
#: How long a hover or click may take to be reported before it counts as missed.
POINTER_TIMEOUT_MS = 30_000

#: An init script that stamps the frames that draw points: deck.gl redraws only when something
#: changed, so the intervals between animation frames also time frames without a draw (issue
#: 12). ``window.__drawFrames`` gets [performance.now() at the frame's first ``gl.POINTS``
#: draw, points drawn in the frame] per frame that drew any.
DRAW_STAMPS = """
(() => {
  const frames = [];
  window.__drawFrames = frames;
  let current = null;
  for (const proto of [WebGLRenderingContext.prototype, WebGL2RenderingContext.prototype]) {
    const draw = proto.drawArrays;
    proto.drawArrays = function (mode, first, count) {
      if (mode === this.POINTS) {
        if (current === null) {
          current = [performance.now(), 0];
          frames.push(current);
          // Draws until the next animation frame belong to this one.
          requestAnimationFrame(() => { current = null; });
        }
        current[1] += count;
      }
      return draw.call(this, mode, first, count);
    };
  }
})();
"""


def drawn_intervals(
    frames: list[list[float]], start_ms: float = -math.inf, end_ms: float = math.inf
) -> list[float]:
    """Seconds between consecutive frames that drew points (``DRAW_STAMPS``) in a time window."""
    stamps = [at for at, _ in frames if start_ms <= at <= end_ms]
    return [(b - a) / 1000 for a, b in itertools.pairwise(stamps)]


def point_size(n: int) -> float:
    """The plot's default dot diameter for n points (web/src/render/point_style.ts)."""
    return float(min(max(28 / max(n, 1) ** 0.2, 2), 8))


def opacity(n: int) -> float:
    """The plot's default dot opacity for n points (web/src/render/point_style.ts)."""
    return float(min(max(1.6 / max(n, 1) ** 0.1, 0.35), 0.9))


def clustered_points(n: int, seed: int = 0) -> np.ndarray:
    """N x 3 float32 points in 12 Gaussian clusters, like a projected embedding."""
    rng = np.random.default_rng(seed)
    centers = rng.uniform(-10, 10, size=(12, 3))
    labels = rng.integers(0, 12, size=n)
    spread = rng.uniform(0.6, 2.4, size=12)[labels, None]
    return (centers[labels] + rng.standard_normal((n, 3)) * spread).astype("<f4")


def build_bench_bundle() -> Path:
    """Build benchmarks/web/ours.html with Vite unless the build is newer than its sources."""
    dist = PAGES / "dist"
    sources = [PAGES / "ours.html", PAGES / "ours.ts", *(WEB / "src").rglob("*")]
    newest = max(p.stat().st_mtime for p in sources if p.is_file())
    built = dist / "ours.html"
    if not built.exists() or built.stat().st_mtime < newest:
        subprocess.run(["npm", "run", "--silent", "build:bench"], cwd=WEB, check=True)
    return dist


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """A static file handler that does not log every request to stderr."""

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def static_server(directory: Path) -> Iterator[str]:
    """Serve a folder on 127.0.0.1 at a free port; yields the base URL."""
    handler = functools.partial(QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def measure(browser: Any, url: str, timeout_s: float) -> tuple[float, list[float]]:
    """Open a page in a fresh context; returns (first frame s, intervals s between the frames
    that drew the points while its camera or points changed)."""
    context = browser.new_context(viewport=VIEWPORT)
    context.add_init_script(DRAW_STAMPS)
    try:
        page = context.new_page()
        page.goto(url)
        page.wait_for_function("window.benchResult !== undefined", timeout=timeout_s * 1000)
        result = page.evaluate("window.benchResult")
        frames = page.evaluate("window.__drawFrames")
    finally:
        context.close()
    intervals = drawn_intervals(frames, result["firstFrameMs"], result["stamps"][-1])
    return result["firstFrameMs"] / 1000, intervals


def measure_pointer(browser: Any, url: str, timeout_s: float) -> tuple[float | None, float | None]:
    """Open ours.html in pointer mode; returns (s from the pointermove onto a drawn point to
    the plot's hover report, s from the pointerdown of a click on it to its click report);
    None for a report that did not come within POINTER_TIMEOUT_MS."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    def reported(what: str) -> bool:
        try:
            page.wait_for_function(
                f"window.benchPointer.{what} !== undefined", timeout=POINTER_TIMEOUT_MS
            )
        except PlaywrightTimeoutError:
            return False
        return True

    context = browser.new_context(viewport=VIEWPORT)
    try:
        page = context.new_page()
        page.goto(url)
        page.wait_for_function("window.benchResult !== undefined", timeout=timeout_s * 1000)
        x, y = page.evaluate("window.benchTarget")
        page.evaluate(
            """() => { const stamps = window.__pointer = {};
            addEventListener('pointermove', (e) => { stamps.moved ??= e.timeStamp; });
            addEventListener('pointerdown', (e) => { stamps.down ??= e.timeStamp; }); }"""
        )
        page.mouse.move(x, y)
        hover = reported("hovered")
        page.wait_for_timeout(1000)
        page.mouse.click(x, y)
        click = reported("clicked")
        moved, hovered, down, clicked = page.evaluate(
            "[window.__pointer.moved, window.benchPointer.hovered, window.__pointer.down, "
            "window.benchPointer.clicked]"
        )
    finally:
        context.close()
    return (
        (hovered - moved) / 1000 if hover else None,
        (clicked - down) / 1000 if click else None,
    )


def run(smoke: bool) -> list[dict[str, Any]]:
    """Rows for the benchmark table (see benchmarks/run.py)."""
    from playwright.sync_api import sync_playwright

    sizes = [2_000] if smoke else [100_000, 1_000_000]
    # The machine is shared: pages alternate, each is opened `repeats` times, and medians
    # over all frames are reported.
    repeats = 1 if smoke else 3
    dist = build_bench_bundle()
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp)
        shutil.copy(PAGES / "bare.html", site / "bare.html")
        shutil.copytree(dist, site / "ours")
        for n in sizes:
            clustered_points(n).tofile(site / f"points-{n}.bin")
        with static_server(site) as base, sync_playwright() as p:
            browser = launch_chromium(p.chromium)
            try:
                for n in sizes:
                    frames = 3 if smoke else (12 if n <= 100_000 else 5)
                    query = f"n={n}&size={point_size(n)}&alpha={opacity(n)}&frames={frames}"
                    pages = {
                        "bare": f"{base}/bare.html?{query}",
                        "ours": f"{base}/ours/ours.html?{query}",
                        "pan": f"{base}/ours/ours.html?{query}&pan=1",
                        "density": f"{base}/ours/ours.html?{query}&pan=1&density=1",
                    }
                    # Software GL draws 1M points in seconds: allow for load plus every frame.
                    timeout = 60 + 10 * (frames + 4) * max(n / 1_000_000, 0.1)
                    first: dict[str, list[float]] = {name: [] for name in pages}
                    intervals: dict[str, list[float]] = {name: [] for name in pages}
                    pointer: dict[str, list[float | None]] = {"hover": [], "click": []}
                    for r in range(repeats):
                        for name in list(pages) if r % 2 == 0 else list(pages)[::-1]:
                            first_s, frame_s = measure(browser, pages[name], timeout)
                            first[name].append(first_s)
                            intervals[name].extend(frame_s)
                        hover_s, click_s = measure_pointer(
                            browser, f"{pages['pan']}&mode=pointer", timeout
                        )
                        pointer["hover"].append(hover_s)
                        pointer["click"].append(click_s)
                    rows += table_rows(n, first, intervals, pointer)
            finally:
                browser.close()
    return rows


def table_rows(
    n: int,
    first: dict[str, list[float]],
    intervals: dict[str, list[float]],
    pointer: dict[str, list[float | None]],
) -> list[dict[str, Any]]:
    """The rows of one size: orbit frame time, page open to first frame, pan frame with the
    density layer, hover and click."""
    load = f"load avg {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    common = {"benchmark": "web_plot", "size": n, "baseline": BASELINE}
    ours_frame, bare_frame = (statistics.median(intervals[k]) for k in ("ours", "bare"))
    ours_first, bare_first = (statistics.median(first[k]) for k in ("ours", "bare"))
    density_frame, pan_frame = (statistics.median(intervals[k]) for k in ("density", "pan"))
    return [
        {
            **common,
            "case": "orbit frame (3D)",
            "seconds": ours_frame,
            "baseline_seconds": bare_frame,
            "ratio": ours_frame / bare_frame,
            "note": f"goal <= 1.5x; headless Chromium, software WebGL; {load}",
        },
        {
            **common,
            "case": "open -> first frame",
            "seconds": ours_first,
            "baseline_seconds": bare_first,
            "ratio": ours_first / bare_first,
            "note": f"float32 .bin over HTTP; goal at 1M <= 15 s; {load}",
        },
        {
            **common,
            "case": "pan frame (2D), density layer",
            "seconds": density_frame,
            "baseline": "ours without the density layer",
            "baseline_seconds": pan_frame,
            "ratio": density_frame / pan_frame,
            "note": f"goal <= 1.5x; headless Chromium, software WebGL; {load}",
        },
        *(
            pointer_row(common, f"{action} (2D)", pointer[key], pan_frame, load)
            for key, action in (("hover", "hover → reported"), ("click", "click → reported"))
        ),
    ]


def pointer_row(
    common: dict[str, Any], case: str, times: list[float | None], pan_frame: float, load: str
) -> dict[str, Any]:
    """A hover or click row: the median of the reports that came, and how many did not."""
    came = [t for t in times if t is not None]
    seconds = statistics.median(came) if came else None
    missed = (
        f"; {len(times) - len(came)} of {len(times)} not reported" if len(came) < len(times) else ""
    )
    return {
        **common,
        "case": case,
        "seconds": seconds,
        "baseline": "our pan frame (2D)",
        "baseline_seconds": pan_frame,
        "ratio": None if seconds is None else seconds / pan_frame,
        "note": f"goal <= 100 ms; in-page stamps, median of {len(came)}{missed}; {load}",
    }


def figure(value: float | None, spec: str) -> str:
    """A figure for the printed table; a dash for one not measured (a missed click)."""
    return "—" if value is None else format(value, spec)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, a few seconds")
    args = parser.parse_args()
    for row in run(args.smoke):
        print(
            f"{row['case']:<22} n={row['size']:>9,}  ours {figure(row['seconds'], '8.3f')} s  "
            f"bare {row['baseline_seconds']:8.3f} s  ratio {figure(row['ratio'], '5.2f')}  "
            f"({row['note']})"
        )


if __name__ == "__main__":
    main()

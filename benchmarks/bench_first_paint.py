"""Command → points painted: ``projector --logdir`` against TensorBoard's projector.

For a checkpoint log dir of 100,000 x 128 float32 (the server benchmark's, written by the test
writer), each side is launched as a fresh process; headless Chromium (already running, a fresh
context each time) opens the page as soon as the server answers; the clock stops when the page
has drawn every point in one ``gl.POINTS`` call and the compositor asked for two more frames
(the frame is then on screen). The same detector, injected into the page before its scripts,
serves both sides: it wraps ``drawArrays`` of WebGL 1 and 2.

TensorBoard needs TensorFlow to read checkpoints: ``TENSORBOARD_PYTHON`` points at a Python that
has both (see bench_server.py). Without it the baseline column says it was skipped.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from tests.support.browser import launch_chromium

from benchmarks.bench_server import (
    KEY,
    _free_port,
    projector_command,
    tensorboard_baseline,
    tensorboard_python,
    write_logdir,
)

SIZE, SMOKE_SIZE = 100_000, 2_000
VIEWPORT = {"width": 1400, "height": 860}
TIMEOUT_S = 300
GOAL = "goal: <= 1/4 of TensorBoard's time"

#: Runs in every frame before its own scripts: notes (in the top window: TensorBoard draws in
#: an iframe of an iframe) when N points were drawn in one call.
PAINT_DETECTOR = """
(() => {
  const n = %d;
  const top = window.top;
  const painted = () => requestAnimationFrame(() => requestAnimationFrame(() => {
    top.__paintedAt ??= Date.now();
  }));
  for (const proto of [WebGLRenderingContext.prototype, WebGL2RenderingContext.prototype]) {
    const draw = proto.drawArrays;
    proto.drawArrays = function (mode, first, count) {
      if (mode === this.POINTS && count >= n && top.__drawnAt === undefined) {
        top.__drawnAt = Date.now();
        painted();
      }
      return draw.call(this, mode, first, count);
    };
  }
})();
"""


def _wait_until_up(url: str, deadline: float) -> None:
    with httpx.Client(timeout=5) as http:
        while time.monotonic() < deadline:
            try:
                if http.get(url).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.02)
    raise TimeoutError(f"{url} did not answer in time")


def time_to_paint(
    browser: Any, command: list[str], env: dict[str, str], ready: str, page_url: str, n: int
) -> float:
    """Seconds from launching ``command`` to N points on screen in a fresh browser context."""
    context = browser.new_context(viewport=VIEWPORT)
    context.add_init_script(PAINT_DETECTOR % n)
    page = context.new_page()
    started = time.time()
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        _wait_until_up(ready, time.monotonic() + TIMEOUT_S)
        page.goto(page_url)
        page.wait_for_function("window.__paintedAt !== undefined", timeout=TIMEOUT_S * 1000)
        painted_at: float = page.evaluate("window.__paintedAt") / 1000
    finally:
        context.close()
        process.terminate()
        process.wait(timeout=60)
    return painted_at - started


def run(smoke: bool) -> list[dict[str, Any]]:
    """One row: our command → painted beside TensorBoard's, alternating, median of runs."""
    from playwright.sync_api import sync_playwright

    n = SMOKE_SIZE if smoke else SIZE
    repeats = 1 if smoke else 5
    tensorboard = None if smoke else tensorboard_python()
    times: dict[str, list[float]] = {"ours": [], "tensorboard": []}
    loads: list[float] = []
    with tempfile.TemporaryDirectory(prefix="bench-paint-") as tmp:
        logdir = Path(tmp) / "logdir"
        write_logdir(logdir, n)
        # Our cache is emptied before every run: each run computes its PCA as a first visit
        # does (TensorBoard computes it in the page every time).
        cache = Path(tmp) / "cache"
        env = {**os.environ, "EMBEDDING_PROJECTOR_CACHE_DIR": str(cache)}
        with sync_playwright() as p:
            browser = launch_chromium(p.chromium)
            try:
                for r in range(repeats):
                    sides = ["ours", "tensorboard"] if r % 2 == 0 else ["tensorboard", "ours"]
                    for side in sides:
                        if side == "tensorboard" and tensorboard is None:
                            continue
                        loads.append(os.getloadavg()[0])
                        port = _free_port()
                        base = f"http://127.0.0.1:{port}"
                        if side == "ours":
                            subprocess.run(["rm", "-rf", str(cache)], check=True)
                            command = projector_command("--logdir", str(logdir))
                            command += ["--no-browser", "--port", str(port)]
                            ready, url = f"{base}/api/health", f"{base}/"
                        else:
                            assert tensorboard is not None
                            command = [tensorboard, "-m", "tensorboard.main"]
                            command += ["--logdir", str(logdir), "--port", str(port)]
                            command += ["--host", "127.0.0.1"]
                            ready = f"{base}/data/plugins_listing"
                            url = f"{base}/#projector"
                        times[side].append(time_to_paint(browser, command, env, ready, url, n))
            finally:
                browser.close()
    ours_s = statistics.median(times["ours"])
    theirs = statistics.median(times["tensorboard"]) if times["tensorboard"] else None
    load = f"load avg {min(loads):.1f}-{max(loads):.1f} on {os.cpu_count()} cores"
    return [
        {
            "benchmark": "first_paint",
            "case": "command → all points painted (headless Chromium, software GL)",
            "size": f"{n:,} x 128 float32 checkpoint ({KEY})",
            "seconds": ours_s,
            "baseline": tensorboard_baseline(theirs),
            "baseline_seconds": theirs,
            "ratio": None if theirs is None else ours_s / theirs,
            "note": f"{GOAL}; median of {repeats}, alternating; ours with an empty cache; "
            f"runs {times}; {load}",
        }
    ]


if __name__ == "__main__":
    for row in run(smoke="--smoke" in sys.argv):
        print(row)

"""Scrubbing a timeline's step slider: frame time while the points move, against a static frame.

Each frame of a scrub shows a new mix of two steps' layouts (``lerpArray``, then ``setPoints``
in one joint frame, the camera still), as ``web/src/state/timeline.svelte.ts`` does on every
``input`` of the slider; the static frame is the same plot with the same points, the camera
turning 3 degrees per frame (``bench_web``'s orbit frame). Goal (issue 11): scrubbing keeps
frames <= 1.5x a static frame. Headless Chromium draws WebGL in software (SwiftShader), so the
ratio measured in the same browser and run is what counts, not the absolute times.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
from pathlib import Path
from typing import Any

from tests.support.browser import launch_chromium

from benchmarks.bench_web import (
    build_bench_bundle,
    clustered_points,
    measure,
    opacity,
    point_size,
    static_server,
)

GOAL_RATIO = 1.5


def run(smoke: bool) -> list[dict[str, Any]]:
    """One row per size: the scrub frame beside the static frame, pages taking turns."""
    from playwright.sync_api import sync_playwright

    sizes = [2_000] if smoke else [100_000]
    repeats = 1 if smoke else 3
    dist = build_bench_bundle()
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp)
        shutil.copytree(dist, site / "ours")
        for n in sizes:
            clustered_points(n).tofile(site / f"points-{n}.bin")
        with static_server(site) as base, sync_playwright() as p:
            browser = launch_chromium(p.chromium)
            try:
                for n in sizes:
                    frames = 3 if smoke else 12
                    query = f"n={n}&size={point_size(n)}&alpha={opacity(n)}&frames={frames}"
                    pages = {
                        "static": f"{base}/ours/ours.html?{query}",
                        "scrub": f"{base}/ours/ours.html?{query}&mode=scrub",
                    }
                    intervals: dict[str, list[float]] = {"static": [], "scrub": []}
                    for r in range(repeats):
                        for name in ("static", "scrub") if r % 2 == 0 else ("scrub", "static"):
                            intervals[name].extend(measure(browser, pages[name], 120)[1])
                    scrub, still = (statistics.median(intervals[k]) for k in ("scrub", "static"))
                    rows.append(
                        {
                            "benchmark": "scrub",
                            "case": "timeline slider: a new mix of two steps per frame (3D)",
                            "size": f"{n:,} points",
                            "seconds": scrub,
                            "baseline": "the same plot, static points (orbit frame)",
                            "baseline_seconds": still,
                            "ratio": scrub / still,
                            "note": (
                                f"goal <= {GOAL_RATIO}x; median frame interval of {repeats} x "
                                f"{frames} frames each, pages taking turns; SwiftShader"
                            ),
                        }
                    )
            finally:
                browser.close()
    return rows

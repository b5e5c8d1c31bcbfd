"""Debian's Chromium, as the browser tests, the web benchmark and the docs' screenshots run it."""

from __future__ import annotations

from typing import Any

#: Installed by ``make build`` (apt); never a browser downloaded by Playwright.
CHROMIUM = "/usr/bin/chromium"
#: What Chromium needs as root in a container, and no network of its own. WebGL then runs
#: on SwiftShader (software); ``--use-gl=swiftshader`` would break it here.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def launch_chromium(browser_type: Any, *extra_flags: str) -> Any:
    """Headless Chromium from Playwright's ``browser_type`` (``sync_playwright().chromium``)."""
    return browser_type.launch(
        executable_path=CHROMIUM, headless=True, args=[*CHROMIUM_FLAGS, *extra_flags]
    )

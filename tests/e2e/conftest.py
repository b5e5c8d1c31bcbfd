"""Browser tests of the web app: Debian's Chromium (WebGL in software) against real servers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import CHROMIUM, launch_chromium

pytest.importorskip("playwright.sync_api")

REPO = Path(__file__).resolve().parents[2]
STATIC = REPO / "src" / "embedding_projector" / "static"


@pytest.fixture(scope="session")
def browser(playwright: Any) -> Iterator[Any]:
    assert (STATIC / "index.html").is_file(), "the web bundle is missing: run `make build`"
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: run `make build`"
    browser = launch_chromium(playwright.chromium)
    yield browser
    browser.close()

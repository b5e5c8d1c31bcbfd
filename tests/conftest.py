"""Shared test fixtures: the real log dirs in ``../shared/fixtures``."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from tests.server_process import ServerProcess, client, running_server

REPO_ROOT = Path(__file__).resolve().parent.parent
FIXTURES = (REPO_ROOT.parent / "shared" / "fixtures").resolve()


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    """The read-only fixtures written by real TensorFlow, PyTorch and tensorboardX."""
    assert FIXTURES.is_dir(), f"fixtures not found at {FIXTURES}"
    return FIXTURES


def expected(name: str) -> np.ndarray:
    """The exact array a fixture saved: ``expected/<fixture>__<tensor>.npy``."""
    return np.load(FIXTURES / "expected" / f"{name}.npy")


def writable_copy(source: Path, target: Path) -> Path:
    """Copy a fixture as a user's own, writable log dir (the fixtures are read-only)."""
    shutil.copytree(source, target, dirs_exist_ok=True)
    for path in [target, *target.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return target


@contextmanager
def serving_copy(fixture: str, folder: Path, *args: str) -> Iterator[ServerProcess]:
    """A real server (``projector LOGS ARGS``) on a writable copy of a fixture, in ``folder``."""
    logdir = writable_copy(FIXTURES / fixture, folder / "logs")
    with running_server(str(logdir), *args, cache_dir=folder / "cache") as server:
        yield server


@pytest.fixture(scope="module")
def server(logdir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A real ``projector --logdir`` server on the module's ``logdir`` fixture."""
    with running_server("--logdir", str(logdir), cache_dir=tmp_path_factory.mktemp("cache")) as s:
        yield s


@pytest.fixture(scope="module")
def http(server: ServerProcess) -> Iterator[httpx.Client]:
    """An HTTP client of the module's ``server`` fixture (a real server process)."""
    with client(server) as c:
        yield c


@pytest.fixture(scope="session")
def playwright() -> Iterator[Any]:
    """Playwright's sync API, once for the session: it keeps an event loop running in this
    thread, and a second one cannot start while it does. Each browser test launches its
    Chromium from it (``tests.support.browser.launch_chromium``)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        yield p

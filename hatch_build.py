"""The web page in the wheel and the sdist: built from ``web/`` when it is missing or stale.

The page (``src/embedding_projector/static``) is git-ignored, so a checkout or a git URL has
none. Hatchling runs :class:`WebPageHook` before it builds the sdist or a wheel: when the
page is missing or older than what it is built from, it runs ``npm ci`` (when
``web/node_modules`` is missing or older than the lock file) and ``npm run build``. An sdist
carries the built page, and its files all have the same time stamp, so a wheel built from it
needs no Node. An editable install serves the page from this tree and skips the hook.

``make build`` runs this file (``python hatch_build.py``) to get the same answer to "is the
page current?" and, in addition, keeps ``web/node_modules`` current for the web tools.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

PAGE = Path("src/embedding_projector/static")
WEB = Path("web")
# What the page is built from; web/test and the lint and benchmark configs are not.
WEB_SOURCES = (
    "src",
    "index.html",
    "package.json",
    "package-lock.json",
    "vite.config.ts",
    "vite.widget.config.ts",
    "svelte.config.js",
    "tsconfig.json",
)
NPM_QUIET = ("--no-audit", "--no-fund", "--loglevel=error")
# Vite 8 needs Node.js ^20.19 or >= 22.12.
NODE = "Node.js 20.19 or later and npm"


class PageBuildError(Exception):
    """The page must be built and cannot be; the message is one sentence for the user."""


def _newest_source_time(root: Path) -> float:
    def files() -> Iterator[Path]:
        for name in WEB_SOURCES:
            path = root / WEB / name
            yield from (p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]

    return max(path.stat().st_mtime for path in files())


def page_is_stale(root: Path) -> bool:
    """Whether the built page is missing or older than a file it is built from."""
    index = root / PAGE / "index.html"
    return not index.is_file() or index.stat().st_mtime < _newest_source_time(root)


def dependencies_are_stale(root: Path) -> bool:
    """Whether ``web/node_modules`` is missing or older than ``web/package-lock.json``.

    npm writes ``node_modules/.package-lock.json`` on every install.
    """
    installed = root / WEB / "node_modules" / ".package-lock.json"
    lock = root / WEB / "package-lock.json"
    return not installed.is_file() or installed.stat().st_mtime < lock.stat().st_mtime


def _has_node() -> bool:
    return shutil.which("node") is not None and shutil.which("npm") is not None


def _npm(root: Path, *args: str) -> None:
    """Run npm in ``web/``; a failure is one sentence (npm printed the details above it)."""
    npm = shutil.which("npm")
    if npm is None or not _has_node():
        raise PageBuildError(f"embedding-projector: the web tools need {NODE} on PATH")
    if subprocess.run([npm, *args], cwd=root / WEB, check=False).returncode != 0:
        raise PageBuildError(f"embedding-projector: `npm {' '.join(args)}` failed in web/")


def ensure_dependencies(root: Path, say: Callable[[str], None]) -> None:
    """``npm ci`` when ``web/node_modules`` is missing or older than the lock file."""
    if dependencies_are_stale(root):
        say("embedding-projector: installing the web dependencies (npm ci in web/)")
        _npm(root, "ci", *NPM_QUIET)


def ensure_page(root: Path, say: Callable[[str], None]) -> None:
    """Build the page when it is stale (installing the web dependencies first if needed)."""
    if not page_is_stale(root):
        return
    if not _has_node():
        raise PageBuildError(
            "embedding-projector: the web page must be built (src/embedding_projector/static "
            f"is missing or older than web/), which needs {NODE} on PATH, and they are not "
            "there: install Node.js, or install a released wheel or sdist, which carry the page"
        )
    ensure_dependencies(root, say)
    say("embedding-projector: building the web page (npm run build in web/)")
    _npm(root, "run", "--silent", "build")
    # Vite writes index.html among its other files; its time is what page_is_stale reads.
    os.utime(root / PAGE / "index.html")


class WebPageHook(BuildHookInterface):  # type: ignore[type-arg]
    """Hatchling's custom build hook (``[tool.hatch.build.hooks.custom]``)."""

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        """Before the sdist or a standard wheel is built: make the page current."""
        if version == "editable":
            return  # served from this tree; `make build` builds it
        try:
            ensure_page(Path(self.root), self.app.display_info)
        except PageBuildError as exc:
            self.app.abort(str(exc))


def main() -> int:
    """``python hatch_build.py``: the web dependencies and the page current (``make build``)."""
    root = Path(__file__).resolve().parent
    try:
        ensure_dependencies(root, print)
        ensure_page(root, print)
    except PageBuildError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

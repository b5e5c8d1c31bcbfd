"""The sdist and the wheel carry the web page: ``python -m build``, then a fresh virtualenv.

The dists are built once for the module, with no Node on ``PATH`` (the page is made current
first, as ``make build`` does): the wheel is built from the sdist, so that shows that the sdist
carries the page. The wheel is installed into a fresh virtualenv, and ``projector demo digits``
from there is driven in Chromium to painted points, still without Node.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.app_page import app_page, drawn, screenshot, wait_for_layouts
from tests.server_process import running_server
from tests.support.browser import launch_chromium

# The first test also waits for the module's dists (build and install: 1-3 minutes here).
pytestmark = [pytest.mark.packaging, pytest.mark.timeout(600)]

REPO = Path(__file__).resolve().parent.parent
NODE_PROGRAMS = frozenset({"node", "nodejs", "npm", "npx", "corepack"})
# What a stale page and no Node give, in one sentence (hatch_build.py).
NO_NODE = (
    "embedding-projector: the web page must be built (src/embedding_projector/static is "
    "missing or older than web/), which needs Node.js 20.19 or later and npm on PATH, and they "
    "are not there: install Node.js, or install a released wheel or sdist, which carry the page"
)


@dataclass(frozen=True)
class Dists:
    sdist: Path
    wheel: Path
    venv: Path
    path: str
    """A PATH without Node."""


def path_without_node(folder: Path) -> str:
    """A PATH of one folder linking every program on this PATH except Node's."""
    folder.mkdir()
    for directory in os.environ["PATH"].split(os.pathsep):
        if not Path(directory).is_dir():
            continue
        for program in Path(directory).iterdir():
            link = folder / program.name
            if program.name not in NODE_PROGRAMS and not link.exists() and not link.is_symlink():
                link.symlink_to(program)
    assert shutil.which("node", path=str(folder)) is None
    assert shutil.which("npm", path=str(folder)) is None
    return str(folder)


def run(*command: str | Path, path: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": path}
    return subprocess.run(
        [str(c) for c in command], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )


def ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, f"{result.args} failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> Dists:
    """The sdist and the wheel built from it without Node, the wheel in a fresh virtualenv."""
    tmp = tmp_path_factory.mktemp("dists")
    ok(run(sys.executable, "hatch_build.py", path=os.environ["PATH"]))  # as `make build` does
    path = path_without_node(tmp / "bin")
    ok(run(sys.executable, "-m", "build", "--outdir", tmp / "dist", REPO, path=path))
    (sdist,) = (tmp / "dist").glob("*.tar.gz")
    (wheel,) = (tmp / "dist").glob("*.whl")
    venv = tmp / "venv"
    ok(run(sys.executable, "-m", "venv", "--without-pip", venv, path=path))
    # This interpreter's pip installs into the new one (no pip of its own to install first);
    # no byte-compiling of the dependencies, which would double the time.
    install = [sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install"]
    ok(run(*install, "--quiet", "--no-compile", wheel, path=path))
    return Dists(sdist, wheel, venv, path)


def test_the_dists_carry_the_page_and_only_what_belongs(dists: Dists) -> None:
    with tarfile.open(dists.sdist) as archive:
        sdist = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    assert {
        "src/embedding_projector/static/index.html",
        "src/embedding_projector/cli.py",
        "web/src/main.ts",
        "web/package-lock.json",
        "hatch_build.py",
        "pyproject.toml",
        "LICENSE",
    } <= sdist
    assert any(name.startswith("src/embedding_projector/static/assets/") for name in sdist)
    top = {name.split("/")[0] for name in sdist}
    assert top <= {
        "src",
        "web",
        "hatch_build.py",
        "pyproject.toml",
        "README.md",
        "LICENSE",
        ".gitignore",
        "PKG-INFO",
    }
    assert not [n for n in sdist if n.startswith(("web/node_modules", "web/test"))]
    assert not [n for n in sdist if "__pycache__" in n or ".build-stamps" in n]

    with zipfile.ZipFile(dists.wheel) as archive:
        wheel = set(archive.namelist())
    assert "embedding_projector/static/index.html" in wheel
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in wheel)
    assert {name.split("/")[0] for name in wheel} == {
        "embedding_projector",
        f"{dists.wheel.name.split('-py3')[0]}.dist-info",
    }
    assert not [n for n in wheel if "__pycache__" in n or "node_modules" in n]
    # The page and the code, nothing bulky beside them: today ~0.5 MB each.
    assert dists.wheel.stat().st_size < 2_000_000
    assert dists.sdist.stat().st_size < 2_000_000


@pytest.fixture(scope="module")
def browser(playwright: Any) -> Iterator[Any]:
    browser = launch_chromium(playwright.chromium)
    yield browser
    browser.close()


@pytest.mark.e2e
def test_the_installed_wheel_serves_the_page_without_node(
    dists: Dists, tmp_path: Path, browser: Any
) -> None:
    python = dists.venv / "bin" / "python"
    where = ok(run(python, "-c", "import embedding_projector as e; print(e.__file__)", path="/"))
    assert where.stdout.startswith(str(dists.venv)), where.stdout
    with (
        running_server(
            "demo",
            "digits",
            command=[str(dists.venv / "bin" / "projector")],
            path=dists.path,
            cache_dir=tmp_path / "cache",
            timeout=120,
        ) as server,
        app_page(browser, f"{server.base}/") as page,
    ):
        wait_for_layouts(page, 1, timeout=120_000)
        pixels = screenshot(page, "wheel_digits")
        assert page.get_by_test_id("point-count").inner_text() == "1,797 points"
        assert drawn(pixels).sum() > 3000


def test_a_stale_page_without_node_stops_the_build_with_one_sentence(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    for name in ("pyproject.toml", "hatch_build.py", "README.md", "LICENSE"):
        shutil.copy2(REPO / name, tree / name)
    shutil.copytree(REPO / "src", tree / "src", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "web", tree / "web", ignore=shutil.ignore_patterns("node_modules"))
    assert (tree / "src/embedding_projector/static/index.html").is_file()
    (tree / "web/src/main.ts").touch()  # a source newer than the page
    path = path_without_node(tmp_path / "bin")

    build = [sys.executable, "-m", "build", "--no-isolation", "--sdist", "--outdir", tmp_path]
    result = run(*build, tree, path=path)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert NO_NODE in output.splitlines(), output
    assert "Traceback" not in output
    assert not list(tmp_path.glob("*.tar.gz"))

    # An editable install serves the page from the tree: the hook stays out of its way.
    venv = tmp_path / "venv"
    ok(run(sys.executable, "-m", "venv", "--without-pip", venv, path=path))
    pip = [sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install"]
    ok(run(*pip, "--quiet", "--no-deps", "--no-compile", "--editable", tree, path=path))

"""The documentation builds without a warning and keeps up with the code.

Every CLI option and HTTP route must be documented (as datasette's ``test_docs.py``
checks), every input suffix must be in the formats page, and the Python blocks of the
README and of the docs must run.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest
from fastapi.routing import APIWebSocketRoute

from embedding_projector.cli import main as cli_main
from embedding_projector.compute.methods import METHODS
from embedding_projector.compute.params import Param, params_of
from embedding_projector.dataset.model import Workspace
from embedding_projector.dataset.opening import RAW_SUFFIXES, READERS, open_path
from embedding_projector.server import routes
from embedding_projector.server.app import create_app

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"


def test_docs_build_strict(tmp_path: Path) -> None:
    """``mkdocs build --strict``: a broken link, a docstring griffe cannot parse, a page
    left out of the nav are all errors."""
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path / "site")],
        cwd=REPO,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "site" / "api-reference" / "index.html").is_file()
    html = (tmp_path / "site" / "api-reference" / "index.html").read_text()
    # mkdocstrings rendered the docstrings (not just the headings).
    assert "Open anything that holds embeddings" in html
    assert ":func:" not in html, "a Sphinx role was left as text"


# --- the command line -------------------------------------------------------------------


def _section(text: str, heading: str) -> str:
    """The part of a markdown page under ``heading`` (to the next heading of its level)."""
    level = heading.split(" ")[0]
    start = text.index(heading + "\n")
    end = text.find(f"\n{level} ", start + len(heading))
    return text[start : end if end != -1 else len(text)]


def _cli_params() -> list[tuple[str, str]]:
    found = []
    for name, command in cli_main.commands.items():
        for param in command.params:
            if isinstance(param, click.Option):
                found += [(name, opt) for opt in param.opts + param.secondary_opts]
            elif isinstance(param, click.Argument):
                found.append((name, (param.name or "").upper()))
    return found


@pytest.mark.parametrize(("command", "param"), _cli_params())
def test_cli_option_documented(command: str, param: str) -> None:
    section = _section((DOCS / "cli.md").read_text(), f"## `projector {command}`")
    assert f"`{param}" in section, f"`projector {command} {param}` is not in docs/cli.md"


@pytest.mark.parametrize("command", sorted(cli_main.commands))
def test_cli_command_in_readme(command: str) -> None:
    assert f"projector {command}" in (REPO / "README.md").read_text() or command == "serve"


def test_cli_group_options_documented() -> None:
    text = (DOCS / "cli.md").read_text()
    for param in cli_main.params:
        for opt in param.opts:
            assert f"`projector {opt}`" in text or f"`{opt}`" in text, opt


# --- the HTTP API -----------------------------------------------------------------------


def _routes() -> list[str]:
    """``METHOD /api/path`` for every route of the app, path parameters as ``{}``."""
    app = create_app(Workspace(root=REPO, runs=[]))
    found = [
        f"{method.upper()} {path}"
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    ]
    # WebSocket routes are not in OpenAPI: read them from the route modules.
    for module in _route_modules():
        for route in module.router.routes:
            if isinstance(route, APIWebSocketRoute):
                found.append(f"WS /api{route.path}")
    return sorted({re.sub(r"\{[^}]*\}", "{}", route) for route in found})


def _route_modules() -> list[Any]:
    package = Path(routes.__file__).parent
    return [
        importlib.import_module(f"{routes.__name__}.{path.stem}")
        for path in sorted(package.glob("*.py"))
        if path.stem != "__init__"
    ]


@pytest.mark.parametrize("route", _routes())
def test_route_documented(route: str) -> None:
    text = re.sub(r"\{[^}]*\}", "{}", (DOCS / "api.md").read_text())
    assert route in text, f"`{route}` is not in docs/api.md"


def _number(value: float) -> str:
    return f"{value:g}"


def _accepted(param: Param) -> str:
    """What a parameter accepts, as docs/api.md says it."""
    if param.choices:
        return ", ".join(f"`{c}`" for c in param.choices)
    low = "" if param.low is None else f"{'≥' if param.low_inclusive else '>'} {_number(param.low)}"
    text = low if param.high is None else f"{_number(param.low or 0)}–{_number(param.high)}"
    text = ("`auto` or " if param.auto else "") + (text or "any")
    if param.integer:
        text += ", whole"
    if param.below_n is not None:
        text += f", < {param.below_n.formula()}"
    return text


def _parameters_table() -> str:
    """The methods' parameters as docs/api.md lists them, from their records."""
    rows = ["| method | parameter | default | accepts | what it does |", "|---|---|---|---|---|"]
    for method in METHODS.values():
        for name, param in params_of(method.params).items():
            value = param.default
            shown = _number(value) if isinstance(value, int | float) else value
            default = "none" if value is None else f"`{shown}`"
            rows.append(
                f"| {method.title} | `{name}` | {default} | {_accepted(param)} | {param.doc} |"
            )
    return "\n".join(rows) + "\n"


def test_method_parameters_documented() -> None:
    """docs/api.md lists every parameter of every method as its record declares it."""
    table = _parameters_table()
    assert table in (DOCS / "api.md").read_text(), f"docs/api.md should list:\n{table}"


# --- the page ---------------------------------------------------------------------------


def _shortcut_keys() -> list[str]:
    source = (REPO / "web" / "src" / "state" / "shortcuts.ts").read_text()
    return re.findall(r"keys: '([^']+)'", source)


def test_every_shortcut_documented() -> None:
    keys = sorted(set(_shortcut_keys()))
    assert len(keys) >= 15, keys  # the table of shortcuts.ts was read
    section = _section((DOCS / "user-guide.md").read_text(), "## Keyboard shortcuts")
    missing = [key for key in keys if f"`{key}`" not in section]
    assert not missing, f"shortcuts missing from docs/user-guide.md: {missing}"


# --- formats ----------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", sorted({*READERS, *RAW_SUFFIXES}))
def test_suffix_documented(suffix: str) -> None:
    assert f"`{suffix}`" in (DOCS / "formats.md").read_text()


# --- code blocks ------------------------------------------------------------------------

_FENCE = re.compile(r"^(?P<marker><!-- .*? -->\n)?```python\n(?P<code>.*?)^```$", re.S | re.M)


def python_blocks(page: Path) -> list[tuple[str, str]]:
    """The ``python`` blocks of a page with the HTML comment just above each, if any:
    ``<!-- not run: why -->`` skips a block, ``<!-- needs: torch, x -->`` runs it only
    where those modules import."""
    return [(m["marker"] or "", m["code"]) for m in _FENCE.finditer(page.read_text())]


PAGES_WITH_CODE = ["README.md", "docs/formats.md", "docs/index.md", "docs/user-guide.md"]


@pytest.mark.parametrize("page", PAGES_WITH_CODE)
def test_python_blocks_run(page: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The blocks of a page run in order, in one namespace, in an empty folder."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EMBEDDING_PROJECTOR_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr("webbrowser.open", lambda *args, **kwargs: True)
    namespace: dict[str, Any] = {"__name__": "__docs__"}
    ran = 0
    for marker, code in python_blocks(REPO / page):
        if marker.startswith("<!-- not run"):
            continue
        needs = re.match(r"<!-- needs: (.*?) -->", marker)
        if needs and any(
            importlib.util.find_spec(name.strip()) is None for name in needs[1].split(",")
        ):
            continue
        try:
            exec(compile(code, f"{page} block", "exec"), namespace)
        except Exception as exc:
            raise AssertionError(f"a block of {page} fails:\n{code}") from exc
        ran += 1
    for value in namespace.values():  # servers the blocks left running
        if type(value).__name__ == "Projector":
            value.stop()
    assert ran > 0 or not python_blocks(REPO / page)
    checked = [_open_as_projector_would(line) for line in _console_commands(REPO / page)]
    if page == "docs/formats.md":  # its commands open what its blocks wrote
        assert sum(checked) >= 6, "the commands of docs/formats.md were not checked"


def _console_commands(page: Path) -> list[str]:
    """The ``$ projector ...`` lines of a page's console blocks."""
    return re.findall(r"^\$ (projector .*?)(?:\s+#.*)?$", page.read_text(), re.M)


def _open_as_projector_would(line: str) -> bool:
    """Parse a ``projector`` command line with the CLI's own parser and open what it names,
    as ``projector serve`` would; False when it names a file the page only pretends to have."""
    args = shlex.split(line)[1:]
    if args[0] not in cli_main.commands:
        args = ["serve", *args]
    command = cli_main.commands[args[0]]
    params = command.make_context(args[0], args[1:]).params
    target = params.get("logdir") or params["path"]
    if not Path(target).exists():
        return False
    workspace = open_path(
        target,
        metadata=params.get("metadata"),
        sprite=params.get("sprite"),
        sprite_size=params.get("sprite_size") or None,
    )
    for embedding in workspace:
        assert embedding.vectors.shape == embedding.shape
        assert embedding.warnings == [], f"`{line}`: {embedding.warnings}"
    return True


# --- images -----------------------------------------------------------------------------


def test_images_exist_and_are_used() -> None:
    """Every image the README or a page shows exists; every image in docs/images is shown."""
    pages = [REPO / "README.md", *DOCS.glob("*.md")]
    used = set()
    for page in pages:
        for target in re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", page.read_text()):
            path = (page.parent / target).resolve()
            assert path.is_file(), f"{page.name} shows {target}, which does not exist"
            used.add(path)
    images = {path.resolve() for path in (DOCS / "images").iterdir()}
    assert images <= used, f"images no page shows: {sorted(p.name for p in images - used)}"

"""A real JupyterLab for the widget's tests: started on a free port with a token, in temporary
folders, and driven in Chromium through its own commands (``window.jupyterapp``)."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import nbformat

from tests.server_process import stop

_STARTED_WITHIN = 90.0
#: The widget's shadow root, in the page's scripts (widget.ts gives its box this class).
WIDGET_ROOT = "document.querySelector('.embedding-projector')?.shadowRoot"

# Adds a code cell at the end of the notebook shown, runs it, waits for it to finish and
# returns its outputs (nbformat JSON).
_RUN_CELL = """async ([code, timeout]) => {
  const app = window.jupyterapp;
  const panel = app.shell.currentWidget;
  await panel.sessionContext.ready;
  const notebook = panel.content;
  const index = notebook.model.cells.length;
  notebook.model.sharedModel.insertCell(index, { cell_type: 'code', source: code });
  notebook.activeCellIndex = index;
  const cell = notebook.widgets[index];
  const done = new Promise((resolve) => {
    const check = () => { if (cell.model.executionCount !== null) resolve(); };
    cell.model.stateChanged.connect(check);
  });
  await app.commands.execute('notebook:run-cell');
  const late = new Promise((_, no) => setTimeout(() => no(new Error('timed out')), timeout));
  await Promise.race([done, late]);
  return JSON.stringify(cell.model.outputs.toJSON());
}"""


@dataclass
class JupyterLab:
    """The running server: where it is, and its token."""

    url: str
    token: str
    root: Path
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def origin(self) -> str:
        return self.url.rstrip("/")


@contextmanager
def running_lab(folder: Path, env: dict[str, str]) -> Iterator[JupyterLab]:
    """JupyterLab serving ``folder/root``; settings, runtime files and its log in ``folder``."""
    root = folder / "root"
    root.mkdir()
    # No news or update checks (they would ask the network and cover the notebook).
    notification = folder / "settings" / "@jupyterlab" / "apputils-extension"
    notification.mkdir(parents=True)
    (notification / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    token = secrets.token_hex(16)
    log = folder / "jupyterlab.log"
    command = [
        sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
        "--LabApp.expose_app_in_browser=True", "--LabApp.extension_manager=readonly",
    ]  # fmt: skip
    lab_env = {
        **os.environ,
        **env,
        "JUPYTERLAB_SETTINGS_DIR": str(folder / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(folder / "workspaces"),
        "JUPYTER_RUNTIME_DIR": str(folder / "runtime"),
    }
    with log.open("wb") as output:
        process = subprocess.Popen(command, env=lab_env, stdout=output, stderr=subprocess.STDOUT)
    lab = JupyterLab(f"http://127.0.0.1:{port}/", token, root, process, log)
    try:
        _wait_until_up(lab)
        yield lab
    finally:
        stop(process, timeout=30)


def _wait_until_up(lab: JupyterLab) -> None:
    deadline = time.monotonic() + _STARTED_WITHIN
    while time.monotonic() < deadline:
        if lab.process.poll() is not None:
            break
        try:
            if httpx.get(f"{lab.url}api/status", params={"token": lab.token}).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    raise RuntimeError("JupyterLab did not start:\n" + lab.log.read_text())


@dataclass
class LabNotebook:
    """A notebook open in JupyterLab in a browser page, and every request the page made."""

    page: Any
    requests: list[str] = field(default_factory=list)

    def run(self, code: str, timeout: float = 120_000) -> list[dict[str, Any]]:
        """Run ``code`` in a new cell at the end; its outputs."""
        outputs: list[dict[str, Any]] = json.loads(self.page.evaluate(_RUN_CELL, [code, timeout]))
        return outputs

    def text(self, code: str, timeout: float = 120_000) -> str:
        """Run ``code``; what it printed (failing on an error in the cell)."""
        outputs = self.run(code, timeout)
        errors = [o for o in outputs if o["output_type"] == "error"]
        assert not errors, "\n".join(errors[0]["traceback"])
        return "".join(o.get("text", "") for o in outputs if o["output_type"] == "stream")


def open_notebook(lab: JupyterLab, context: Any, name: str) -> LabNotebook:
    """A new, empty Python notebook ``name`` open in a page of ``context``, its kernel ready."""
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(notebook, lab.root / name)
    page = context.new_page()
    opened = LabNotebook(page)
    page.on("request", lambda request: opened.requests.append(request.url))
    page.goto(f"{lab.url}lab/tree/{name}?token={lab.token}")
    page.wait_for_function(
        "window.jupyterapp?.shell.currentWidget?.sessionContext?.session?.kernel",
        timeout=60_000,
    )
    return opened


def wait_for_points(page: Any, timeout_ms: float) -> None:
    """Until the widget in ``page`` has drawn its first layout."""
    page.wait_for_function(
        f"Number({WIDGET_ROOT}?.querySelector('[data-testid=plot]')?.dataset.layoutsDrawn) >= 1",
        timeout=timeout_ms,
        polling=100,
    )

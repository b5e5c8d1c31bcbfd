"""A real JupyterLab server for tests: a free port, its own config, data and runtime dirs."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.server_process import stop


@dataclass(frozen=True)
class JupyterLab:
    """The running server: ``http://127.0.0.1:<port><base_url>``, its token, its notebooks."""

    port: int
    base_url: str
    token: str
    root: Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def running_jupyterlab(
    folder: Path, *, base_url: str = "/", env: dict[str, str] | None = None
) -> Iterator[JupyterLab]:
    """Start ``jupyter lab`` (this interpreter's) serving ``folder/notebooks``, then stop it.

    It answers any host name (as a JupyterHub or a remote server does), never checks for
    updates or news, and keeps its config, data and runtime files in ``folder``; its kernels
    get ``env`` on top of this process's environment.
    """
    root = folder / "notebooks"
    root.mkdir(parents=True, exist_ok=True)
    lab = JupyterLab(free_port(), base_url, secrets.token_hex(16), root)
    environment = {
        **os.environ,
        **(env or {}),
        "JUPYTER_CONFIG_DIR": str(folder / "config"),
        "JUPYTER_DATA_DIR": str(folder / "data"),
        "JUPYTER_RUNTIME_DIR": str(folder / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(folder / "lab-settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(folder / "lab-workspaces"),
    }
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--allow-root",
        f"--port={lab.port}",
        "--ip=127.0.0.1",
        f"--ServerApp.base_url={base_url}",
        f"--ServerApp.root_dir={root}",
        f"--IdentityProvider.token={lab.token}",
        "--ServerApp.allow_remote_access=True",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    log = (folder / "jupyter.log").open("w")
    process = subprocess.Popen(command, env=environment, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_until_up(lab, process, timeout=90)
        yield lab
    except BaseException:
        log.flush()
        print((folder / "jupyter.log").read_text(), file=sys.stderr)
        raise
    finally:
        stop(process, timeout=60)  # shuts its kernels down cleanly
        log.close()


def _wait_until_up(lab: JupyterLab, process: subprocess.Popen[bytes], timeout: float) -> None:
    url = f"http://127.0.0.1:{lab.port}{lab.base_url}api/status"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"jupyter lab exited with {process.returncode}")
        try:
            if httpx.get(url, headers={"Authorization": f"token {lab.token}"}).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"jupyter lab did not answer within {timeout} s")

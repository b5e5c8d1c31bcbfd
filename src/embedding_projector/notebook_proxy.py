"""How the browser that shows a notebook reaches a server its kernel started.

The server listens on 127.0.0.1 of the kernel's machine, and the notebook's browser may be
elsewhere (JupyterHub, Binder, a remote JupyterLab, Google Colab). So ``serve()`` shows the
page through the notebook's own server when it can (``notebook.serve``):

- **jupyter-server-proxy**, when it is installed and the kernel was started by a Jupyter
  server: the page is at ``<base_url>proxy/<port>/`` on the notebook's own origin, behind
  that server's login. The proxy forwards the browser's ``Host``, so the projector gets a
  token for requests addressed to other names than loopback ones (``server.security``).
- **Google Colab**: Colab's kernel-port proxy (``google.colab.output``).
- otherwise ``http://127.0.0.1:<port>/``, which works where the browser runs on the kernel's
  machine.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

Kind = Literal["local", "jupyter-server-proxy", "colab"]


@dataclass(frozen=True)
class PageRoute:
    """The way from the notebook's browser to the page."""

    kind: Kind
    base_url: str = "/"
    """The Jupyter server's base URL (``/`` or ``/user/NAME/``), for jupyter-server-proxy."""

    @property
    def needs_token(self) -> bool:
        """The server needs a token: the proxy forwards the browser's host name."""
        return self.kind == "jupyter-server-proxy"

    @property
    def judge_host(self) -> bool:
        """Whether the server refuses host names other than loopback ones (not on Colab)."""
        return self.kind != "colab"

    def url(self, local_url: str, port: int, token: str | None) -> str:
        """The address the notebook's browser opens (relative to the notebook's origin for
        jupyter-server-proxy, which is all that the kernel can know of it)."""
        if self.kind == "jupyter-server-proxy":
            return f"{self.base_url}proxy/{port}/?token={token}"
        return local_url

    def display(self, url: str, port: int, height: int) -> None:
        """Show the page below the cell."""
        if self.kind == "colab":
            from google.colab import output  # only in Colab

            output.serve_kernel_port_as_iframe(port, height=str(height))
            return
        from IPython.display import IFrame, display

        display(IFrame(url, width="100%", height=height))  # type: ignore[no-untyped-call]

    def note(self, local_url: str) -> str:
        """What to print after the address."""
        if self.kind == "jupyter-server-proxy":
            return f"  (through the Jupyter server; on the kernel's machine: {local_url})"
        if self.kind == "colab":
            return "  (shown below through Colab's proxy)"
        return ""


LOCAL = PageRoute("local")


def notebook_route() -> PageRoute:
    """How this kernel's notebook browser reaches a server on this machine's loopback."""
    if "google.colab" in sys.modules:  # Colab's own kernel imports it at start
        return PageRoute("colab")
    if importlib.util.find_spec("jupyter_server_proxy") is not None:
        server = _parent_jupyter_server()
        if server is not None:
            return PageRoute("jupyter-server-proxy", base_url=str(server.get("base_url", "/")))
    return LOCAL


def _parent_jupyter_server() -> dict[str, Any] | None:
    """The running Jupyter server that started this kernel, from its runtime file.

    Every Jupyter server writes ``jpserver-<pid>.json`` (its ``url``, ``base_url``,
    ``pid``...) into the Jupyter runtime dir, where ``jupyter server list`` reads it; the
    kernel's launcher is the server process (``JPY_PARENT_PID`` on POSIX, else the parent).
    """
    try:
        from jupyter_core.paths import jupyter_runtime_dir
    except ImportError:
        return None
    parents = {str(os.getppid()), os.environ.get("JPY_PARENT_PID", "")}
    for path in Path(jupyter_runtime_dir()).glob("jpserver-*.json"):
        try:
            info = json.loads(path.read_text())
        except (OSError, ValueError):
            continue  # being written, or removed by its server meanwhile
        if isinstance(info, dict) and str(info.get("pid")) in parents:
            return info
    return None

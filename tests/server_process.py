"""A real ``projector`` server in a subprocess, on a free port, for tests."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

_URL = re.compile(r"Embedding Projector at (http://\S+)")


class ServerProcess:
    """The running server: its base URL (with token, if any) and its output so far."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.lines: list[str] = []
        self.url = ""
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    def wait_for_url(self, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.lines:
                match = _URL.search(line)
                if match:
                    self.url = match.group(1)
                    return self.url
            if self.process.poll() is not None:
                break
            time.sleep(0.02)
        raise RuntimeError("server did not start:\n" + self.output)

    def close(self) -> None:
        """After the process ended: finish reading its output and close the pipe."""
        self._reader.join(timeout=10)
        if self.process.stdout is not None:
            self.process.stdout.close()

    @property
    def base(self) -> str:
        """``http://127.0.0.1:PORT`` (no path, no token)."""
        match = re.match(r"http://[^/]+", self.url)
        assert match
        return match.group(0)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def worker_pids(self) -> list[int]:
        """The job workers among the server's child processes (not the resource tracker)."""
        pids = []
        # Each thread lists the children it started (a respawned worker: the pool's thread).
        for task in Path(f"/proc/{self.process.pid}/task").iterdir():
            with contextlib.suppress(FileNotFoundError):  # a thread or child that just ended
                for child in (task / "children").read_text().split():
                    cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
                    if b"spawn_main" in cmdline and b"resource_tracker" not in cmdline:
                        pids.append(int(child))
        return pids

    def rss_mb(self) -> float:
        """The server process's resident memory (its workers not included), in MiB."""
        return rss_mb(self.process.pid)


def rss_mb(pid: int) -> float:
    """Resident memory (``VmRSS``) of a process, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"process {pid} has no VmRSS (a zombie?)")


PROJECTOR = (sys.executable, "-m", "embedding_projector")


@contextmanager
def running_server(
    *args: str,
    cache_dir: Path,
    timeout: float = 60,
    command: Sequence[str] = PROJECTOR,
    path: str | None = None,
) -> Iterator[ServerProcess]:
    """Start ``projector ARGS --no-browser`` (on a free port unless ARGS give one), then stop it.

    ``command`` is how ``projector`` is run (this interpreter's package by default), ``path``
    the ``PATH`` it gets (this one by default).
    """
    env = {
        # numba's compiled code is kept across tests (compiling UMAP's kernels takes a minute),
        # everything else goes to the test's own cache dir.
        "NUMBA_CACHE_DIR": str(Path.home() / ".cache" / "embedding-projector" / "numba"),
        **os.environ,
        "EMBEDDING_PROJECTOR_CACHE_DIR": str(cache_dir),
        "PYTHONUNBUFFERED": "1",
        **({"PATH": path} if path is not None else {}),
    }
    process = subprocess.Popen(
        [
            *command,
            *args,
            "--no-browser",
            *([] if "--port" in args else ["--port", "0"]),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    server = ServerProcess(process)
    try:
        server.wait_for_url(timeout)
        yield server
    except BaseException:
        print(server.output, file=sys.stderr)  # the server's log, for the failure report
        raise
    finally:
        stop(process)
        server.close()


def stop(process: subprocess.Popen[Any], timeout: float = 20) -> None:
    """Ask a process to end (SIGTERM), and kill it if it has not ended within ``timeout`` s."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def client(server: ServerProcess, **kwargs: object) -> httpx.Client:
    return httpx.Client(base_url=server.base, timeout=60, **kwargs)  # type: ignore[arg-type]

"""Time and memory of one call, measured in a fresh interpreter.

``measure(Case("benchmarks.bench_x:load", (path,)), ...)`` runs ``load(path)`` in new
Python processes (so earlier cases leave nothing behind in the heap or in the memory
counters) and returns what the call cost:

- ``seconds``: wall time of the call alone (imports and interpreter start excluded);
- ``peak_mb``: peak resident memory during the call, above the resident memory before it;
- ``anon_mb`` / ``file_mb``: growth of anonymous (heap) and file-backed (memory-mapped)
  resident memory, measured after the call while its result is still alive.

The child is also the entry point: ``python -m benchmarks.measure module:function args...``.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_MB = 1024  # /proc/self/status counts in kB


def _status() -> dict[str, float]:
    """The memory counters of this process, in MiB."""
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
            fields[name] = int(value.split()[0]) / _MB
    return fields


def _reset_peak() -> None:
    """Restart the peak-RSS counter (VmHWM), so imports before the call do not count."""
    # On kernels without it, the peak includes the imports: a small overestimate.
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def evict(*paths: Path) -> None:
    """Drop these files (only) from the page cache, so the next read comes from the disk."""
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)  # dirty pages cannot be dropped
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


@dataclass(frozen=True)
class Case:
    """One call to measure: ``module:function``, its string arguments, and what to do first."""

    target: str
    args: tuple[str, ...] = ()
    setup: Callable[[], None] | None = None
    """Runs in the parent before each run, e.g. ``functools.partial(evict, path)``."""


def _run_once(case: Case) -> dict[str, float]:
    """One fresh interpreter running the case; its JSON report."""
    if case.setup is not None:
        case.setup()
    child = subprocess.run(
        [sys.executable, "-m", "benchmarks.measure", case.target, *case.args],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    report: dict[str, float] = json.loads(child.stdout.splitlines()[-1])
    return report


def measure(*cases: Case, repeat: int = 1) -> list[dict[str, float]]:
    """Run each case ``repeat`` times, each run in a fresh interpreter, one result per case.

    The cases take turns (a b a b ...), so a change in the machine's load while they run
    affects them alike. Each result holds the median ``seconds`` and the largest memory
    figures of the case's runs.
    """
    runs: list[list[dict[str, float]]] = [[] for _ in cases]
    for _ in range(repeat):
        for case, case_runs in zip(cases, runs, strict=True):
            case_runs.append(_run_once(case))
    return [
        {
            "seconds": sorted(run["seconds"] for run in case_runs)[len(case_runs) // 2],
            **{
                key: max(run[key] for run in case_runs) for key in ("peak_mb", "anon_mb", "file_mb")
            },
        }
        for case_runs in runs
    ]


def _child(target: str, *args: str) -> None:
    """Call the target once and print its cost as one JSON line."""
    module, _, function = target.partition(":")
    call = getattr(importlib.import_module(module), function)
    gc.collect()
    _reset_peak()
    before = _status()
    start = time.perf_counter()
    result = call(*args)
    seconds = time.perf_counter() - start
    after = _status()
    report = {
        "seconds": seconds,
        "peak_mb": after["VmHWM"] - before["VmRSS"],
        "anon_mb": after["RssAnon"] - before["RssAnon"],
        "file_mb": after["RssFile"] - before["RssFile"],
    }
    print(json.dumps(report))
    del result


if __name__ == "__main__":
    _child(*sys.argv[1:])

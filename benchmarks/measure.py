"""Time and memory of one call, measured in a fresh interpreter.

``measure(Case("benchmarks.bench_x:load", (path,)), ...)`` runs ``load(path)`` in new
Python processes (so earlier cases leave nothing behind in the heap or in the memory
counters) and returns what the call cost:

- ``seconds``: wall time of the call alone (imports and interpreter start excluded), or
  the time the call measured itself when it returns :class:`Timed` (to leave out making
  its input, a warm-up, ...); ``extra`` is then what it returned beside the time;
- ``peak_mb``: peak resident memory during the call, above the resident memory before it;
- ``anon_mb`` / ``file_mb``: growth of anonymous (heap) and file-backed (memory-mapped)
  resident memory, measured after the call while its result is still alive.

The child is also the entry point: ``python -m benchmarks.measure module:function JSON``,
with the arguments as a JSON list.
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
from typing import Any

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
    """One call to measure: ``module:function``, its arguments (JSON values), what to do first."""

    target: str
    args: tuple[Any, ...] = ()
    setup: Callable[[], None] | None = None
    """Runs in the parent before each run, e.g. ``functools.partial(evict, path)``."""


@dataclass(frozen=True)
class Timed:
    """Returned by a case that times its own work: the seconds, and anything else (JSON)."""

    seconds: float
    extra: Any = None


def _run_once(case: Case) -> dict[str, Any]:
    """One fresh interpreter running the case; its JSON report."""
    if case.setup is not None:
        case.setup()
    command = [sys.executable, "-m", "benchmarks.measure", case.target, json.dumps(case.args)]
    child = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    if child.returncode != 0:
        raise RuntimeError(f"{case.target}{case.args} failed:\n{child.stderr[-3000:]}")
    report: dict[str, Any] = json.loads(child.stdout.splitlines()[-1])
    return report


def measure(*cases: Case, repeat: int = 1) -> list[dict[str, Any]]:
    """Run each case ``repeat`` times, each run in a fresh interpreter, one result per case.

    The cases take turns (a b a b ...), so a change in the machine's load while they run
    affects them alike. Each result holds the median ``seconds`` (and the ``extra`` of
    that run), the largest memory figures of the case's runs, and the load average
    (one minute) before each run, in ``load``.
    """
    runs: list[list[dict[str, Any]]] = [[] for _ in cases]
    for _ in range(repeat):
        for case, case_runs in zip(cases, runs, strict=True):
            load = os.getloadavg()[0]
            case_runs.append({**_run_once(case), "load": load})
    results = []
    for case_runs in runs:
        median = sorted(case_runs, key=lambda run: run["seconds"])[len(case_runs) // 2]
        memory = {key: max(run[key] for run in case_runs) for key in _MEMORY}
        load = [round(run["load"], 1) for run in case_runs]
        results.append({"seconds": median["seconds"], "extra": median["extra"], **memory,
                        "load": load})  # fmt: skip
    return results


_MEMORY = ("peak_mb", "anon_mb", "file_mb")


def comparison(
    benchmark: str,
    case: str,
    size: str,
    ours: dict[str, Any],
    baseline: str,
    base: dict[str, Any],
    *,
    digits: int = 3,
) -> dict[str, Any]:
    """The columns every table row has: ours and the baseline (results of :func:`measure`)."""
    return {
        "benchmark": benchmark,
        "case": case,
        "size": size,
        "seconds": round(ours["seconds"], digits),
        "peak_mb": round(ours["peak_mb"]),
        "baseline": baseline,
        "baseline_seconds": round(base["seconds"], digits),
        "baseline_peak_mb": round(base["peak_mb"]),
        "ratio": round(ours["seconds"] / base["seconds"], 3),
        "load": ours["load"] + base["load"],
    }


def _child(target: str, args: str) -> None:
    """Call the target once and print its cost as one JSON line."""
    module, _, function = target.partition(":")
    call = getattr(importlib.import_module(module), function)
    gc.collect()
    _reset_peak()
    before = _status()
    start = time.perf_counter()
    result = call(*json.loads(args))
    seconds = time.perf_counter() - start
    after = _status()
    timed = isinstance(result, Timed)
    report = {
        "seconds": result.seconds if timed else seconds,
        "extra": result.extra if timed else None,
        "peak_mb": after["VmHWM"] - before["VmRSS"],
        "anon_mb": after["RssAnon"] - before["RssAnon"],
        "file_mb": after["RssFile"] - before["RssFile"],
    }
    print(json.dumps(report))
    del result


if __name__ == "__main__":
    # Run as a script, this file is ``__main__``: the cases return ``benchmarks.measure``'s
    # Timed, so call the child through that module, not this copy of it.
    from benchmarks.measure import _child as child

    child(*sys.argv[1:])

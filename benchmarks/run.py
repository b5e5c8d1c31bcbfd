"""Run every ``benchmarks/bench_*.py`` and write ``results/results.json`` and ``results.md``.

Usage::

    python -m benchmarks.run                 # everything, full sizes (make bench)
    python -m benchmarks.run --smoke         # tiny sizes, a few seconds: checks the harness
    python -m benchmarks.run --only checkpoint --out /tmp/results

A benchmark module exposes ``run(smoke: bool)``, which returns (or yields) its rows; see
``README.md`` for the row fields. The results are written again after every row, so that
an interrupted run keeps what it measured.
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import json
import os
import pkgutil
import platform
from pathlib import Path
from typing import Any

import benchmarks
from embedding_projector.formats.atomic import write_atomic

RESULTS = Path(__file__).resolve().parent / "results"
COLUMNS = [
    ("benchmark", "benchmark"),
    ("case", "case"),
    ("size", "size"),
    ("seconds", "s"),
    ("peak_mb", "peak MB"),
    ("baseline", "baseline"),
    ("baseline_seconds", "baseline s"),
    ("baseline_peak_mb", "baseline peak MB"),
    ("ratio", "time ratio"),
    ("note", "note"),
]


def discover(only: str | None) -> list[str]:
    """Module names of the benchmarks, ``bench_`` prefix included, sorted."""
    names = sorted(
        info.name
        for info in pkgutil.iter_modules(benchmarks.__path__)
        if info.name.startswith("bench_")
    )
    if only is not None:
        names = [name for name in names if name in (only, f"bench_{only}")]
        if not names:
            raise SystemExit(f"no benchmark named {only!r} in {benchmarks.__path__[0]}")
    return names


def _cell(value: Any) -> str:
    """A table cell: numbers with three significant digits, text with pipes escaped."""
    if isinstance(value, float):
        return f"{value:.3g}"
    return "" if value is None else str(value).replace("|", "\\|")


def to_markdown(rows: list[dict[str, Any]], header: str) -> str:
    """The rows as a markdown table, each measurement beside its baseline."""
    lines = [header, "", "| " + " | ".join(title for _, title in COLUMNS) + " |"]
    lines.append("|" + "---|" * len(COLUMNS))
    for row in rows:
        lines.append("| " + " | ".join(_cell(row.get(key)) for key, _ in COLUMNS) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    """Run the benchmarks and write the results."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, to test the harness")
    parser.add_argument("--only", metavar="NAME", help="run bench_NAME only")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    args = parser.parse_args(argv)
    stamp = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    rows: list[dict[str, Any]] = []
    table = "no rows"
    for name in discover(args.only):
        module = importlib.import_module(f"benchmarks.{name}")
        print(f"running {name}{' (smoke)' if args.smoke else ''} ...", flush=True)
        for row in module.run(args.smoke):
            rows.append({**row, "module": name.removeprefix("bench_")})
            table = write_results(args.out, rows, stamp, smoke=args.smoke)
    print(table)


def write_results(out: Path, rows: list[dict[str, Any]], stamp: str, *, smoke: bool) -> str:
    """Write ``results.json`` and ``results.md`` into ``out`` (each atomically); the table."""
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs"
    result = {"generated": stamp, "smoke": smoke, "machine": machine, "rows": rows}
    header = f"Benchmarks of {stamp} on {machine}, Python {platform.python_version()}" + (
        " (smoke sizes)" if smoke else ""
    )
    table = to_markdown(rows, header)
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / "results.json", (json.dumps(result, indent=1) + "\n").encode())
    write_atomic(out / "results.md", table.encode())
    return table


if __name__ == "__main__":
    main()

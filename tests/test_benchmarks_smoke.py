"""The benchmark harness keeps working: every module runs in smoke mode, the tables are written."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO_ROOT


def test_benchmarks_run_in_smoke_mode(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--smoke", "--out", str(tmp_path)],
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
        timeout=600,  # two browser benchmarks (first paint, level of detail) at smoke sizes
    )
    result = json.loads((tmp_path / "results.json").read_text())
    assert result["smoke"] is True
    modules = {p.stem.removeprefix("bench_") for p in (REPO_ROOT / "benchmarks").glob("bench_*.py")}
    assert {row["module"] for row in result["rows"]} >= modules
    for row in result["rows"]:
        assert row["seconds"] > 0, row
        # TensorBoard, the server's baseline, runs only where TENSORBOARD_PYTHON points to it.
        assert "skipped" in row["baseline"] or row["baseline_seconds"] > 0, row
    table = (tmp_path / "results.md").read_text()
    assert "| benchmark | case | size | s | peak MB | baseline |" in table
    assert table.count("\n| checkpoint |") == 4  # warm, cold, and the server's two reads

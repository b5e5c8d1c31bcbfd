"""The scripts in examples/: the numpy quick start runs; the others say what they need."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

import embedding_projector

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
# Each example's optional dependency: where it is missing, the script must say how to get it.
NEEDS = {
    "keras_reference_workflow.py": "tensorflow",
    "pytorch_add_embedding.py": "torch",
    "sentence_embeddings.py": "sentence_transformers",
}


def run_example(name: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args],
        cwd=cwd,
        env={**os.environ, "EMBEDDING_PROJECTOR_CACHE_DIR": str(cwd / "cache")},
        capture_output=True,
        text=True,
        timeout=240,
    )


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.py")), ids=lambda p: p.name)
def test_example_says_what_it_needs(path: Path) -> None:
    docstring = ast.get_docstring(ast.parse(path.read_text())) or ""
    assert "Needs" in docstring and "Run::" in docstring, path.name


def test_numpy_quickstart(tmp_path: Path) -> None:
    result = run_example("numpy_quickstart.py", "logs", "--no-serve", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "projector --logdir logs" in result.stdout
    assert "clusters: 3,000 x 50, columns ['name', 'cluster', 'distance to centre']" in (
        result.stdout
    )
    embedding = embedding_projector.open(tmp_path / "logs").embeddings[0]
    assert embedding.shape == (3000, 50) and embedding.warnings == []
    # Run again: the same log dir is rewritten, not refused.
    assert run_example("numpy_quickstart.py", "logs", "--no-serve", cwd=tmp_path).returncode == 0


@pytest.mark.parametrize("name", sorted(NEEDS))
def test_example_without_its_dependency(name: str, tmp_path: Path) -> None:
    """Run as if the dependency were not installed (an import of it fails)."""
    hide = (
        f"import runpy, sys; sys.modules[{NEEDS[name]!r}] = None; "
        f"sys.argv = [{str(EXAMPLES / name)!r}]; "
        f"runpy.run_path(sys.argv[0], run_name='__main__')"
    )
    result = subprocess.run(
        [sys.executable, "-c", hide], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 1, result.stderr
    assert "This example needs" in result.stderr and "pip install" in result.stderr
    assert "Traceback" not in result.stderr

"""The examples: the numpy quick start (script and notebook) runs; the others say what they need."""

from __future__ import annotations

import ast
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

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


# Each notebook's optional dependency: where it is missing, the notebook stops at its first
# code cell with an error saying how to get it (it cannot run here without it).
NOTEBOOK_NEEDS = {"keras_reference_workflow.ipynb": "tensorflow"}


def execute_notebook(path: Path, cwd: Path) -> nbformat.NotebookNode:
    """Run a notebook of examples/ in a real kernel (nbclient), in ``cwd``; its cells."""
    notebook = nbformat.read(path, as_version=4)
    os.environ["EMBEDDING_PROJECTOR_CACHE_DIR"] = str(cwd / "cache")  # the kernel inherits it
    try:
        NotebookClient(
            notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}
        ).execute()
    finally:
        os.environ.pop("EMBEDDING_PROJECTOR_CACHE_DIR")
    return notebook


def test_notebook_quickstart(tmp_path: Path) -> None:
    cells = execute_notebook(EXAMPLES / "notebook_quickstart.ipynb", tmp_path).cells
    outputs = [o for cell in cells if cell.cell_type == "code" for o in cell.outputs]
    views = [o for o in outputs if WIDGET_VIEW in o.get("data", {})]
    assert len(views) == 2  # show() and %projector
    text = "".join(o.get("text", "") for o in outputs)
    # No front end here: the traits change from Python only (projection stays unknown).
    assert "493 selected\nNone 2 cluster\n" in text  # 493 rows in cluster 2
    written = embedding_projector.open(tmp_path / "logs" / "clusters").embeddings[0]
    assert written.shape == (3000, 50)


@pytest.mark.parametrize("name", sorted(NOTEBOOK_NEEDS))
def test_notebook_without_its_dependency(name: str, tmp_path: Path) -> None:
    """The project's environment has no TensorFlow: the notebook says what it needs, at once."""
    if importlib.util.find_spec(NOTEBOOK_NEEDS[name]) is not None:
        cells = execute_notebook(EXAMPLES / name, tmp_path).cells
        assert WIDGET_VIEW in cells[-1].outputs[-1]["data"]
        return
    with pytest.raises(CellExecutionError, match="This example needs TensorFlow: pip install"):
        execute_notebook(EXAMPLES / name, tmp_path)


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"

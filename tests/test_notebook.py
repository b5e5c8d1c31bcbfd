"""``show()`` and ``%projector`` in a real Jupyter kernel (nbclient), and from a script."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx
import nbformat
import numpy as np
import pyarrow as pa
import pytest
from nbclient import NotebookClient

import embedding_projector
from embedding_projector.errors import InvalidParameterError
from tests.conftest import FIXTURES

CELLS = [
    "import numpy as np, embedding_projector as ep\n"
    "vectors = np.random.default_rng(0).normal(size=(200, 12))",
    "w = ep.show(vectors, {'word': [f'w{i}' for i in range(200)], 'n': list(range(200))})",
    "print(type(w).__name__, w.selection.tolist(), w.projection, w.layout.shape)",
    # As a cell's last line, the widget shown by show() is not shown a second time.
    "ep.show(vectors[:20]).close()\nsmall = ep.show(vectors[:30])\nsmall",
    "small.close()\n%load_ext embedding_projector",
    f"m = %projector --logdir {FIXTURES / 'tf2_keras_tutorial'} --height 500\n"
    "print(m.height, m)\nm.close()",
    "%projector --logdir /no/such/folder",
    "ep.show(vectors, labels=['a', 'b'])",
    "w.close(); print(w)",
    "c = ep.compare(vectors, vectors[:, ::-1] ** 2, labels=[f'w{i}' for i in range(200)])\n"
    "print(c, c._compare is not None)\nc.close()",
]


def widget_views(outputs: list[dict[str, Any]]) -> int:
    """How many widget views a cell displayed."""
    return sum(WIDGET_VIEW in o.get("data", {}) for o in outputs)


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def test_show_in_a_jupyter_kernel_is_a_widget(tmp_path: Path) -> None:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    env = {"EMBEDDING_PROJECTOR_CACHE_DIR": str(tmp_path / "cache")}
    os.environ.update(env)  # the kernel inherits it
    try:
        NotebookClient(notebook, timeout=180, kernel_name="python3", allow_errors=True).execute()
    finally:
        os.environ.pop("EMBEDDING_PROJECTOR_CACHE_DIR")
    outputs = [cell["outputs"] for cell in notebook.cells]
    assert widget_views(outputs[1]) == 1
    assert "ProjectorWidget [] None (0, 0)" in outputs[2][0]["text"]
    assert widget_views(outputs[3]) == 2 and len(outputs[3]) == 2, outputs[3]
    assert widget_views(outputs[5]) == 1
    assert "500 <ProjectorWidget running, 1 embedding>" in outputs[5][-1]["text"]
    assert "%projector: /no/such/folder: no such file or folder" in outputs[6][0]["text"]
    # Bad input: an error naming the argument, and nothing displayed.
    assert [o["output_type"] for o in outputs[7]] == ["error"]
    assert "`labels` has 2 rows but there are 200 vectors" in outputs[7][0]["evalue"]
    assert "<ProjectorWidget stopped, 1 embedding>" in outputs[8][0]["text"]
    assert widget_views(outputs[9]) == 1
    assert "<ProjectorWidget running, 2 embeddings> True" in outputs[9][-1]["text"]


def test_show_from_a_script_reports_the_selection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EMBEDDING_PROJECTOR_CACHE_DIR", str(tmp_path))
    table = pa.table({"x": np.arange(50.0), "y": np.arange(50.0) ** 0.5, "z": np.ones(50)})
    p = embedding_projector.show(
        table, labels=[f"p{i}" for i in range(50)], open_browser=False, port=0
    )
    try:
        base = p.url.rstrip("/")
        emb = httpx.get(f"{base}/api/embeddings").json()[0]
        assert emb["shape"] == [50, 3]
        put = httpx.put(
            f"{base}/api/embeddings/{emb['id']}/selection",
            content=np.array([7, 2, 7], "<i4").tobytes(),
        )
        assert put.status_code == 200
        assert p.selection.tolist() == [2, 7]
        bad = httpx.put(
            f"{base}/api/embeddings/{emb['id']}/selection", content=np.array([50], "<i4").tobytes()
        )
        assert bad.status_code == 400
        # The same data again reuses the log dir written the first time.
        again = embedding_projector.show(
            table, labels=[f"p{i}" for i in range(50)], open_browser=False, port=0
        )
        again.stop()
        assert len(list((tmp_path / "sessions").iterdir())) == 1
    finally:
        p.stop()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"vectors": np.zeros(5)}, r"`vectors` must be N x D .* got shape \(5,\)"),
        ({"vectors": np.zeros((2, 3, 4))}, r"`vectors` must be N x D .* got shape \(2, 3, 4\)"),
        ({"vectors": np.zeros((0, 4))}, r"`vectors` must be N x D .* got shape \(0, 4\)"),
        ({"vectors": [["a", "b"], ["c", "d"]]}, r"`vectors` must hold numbers, got dtype <U1"),
        ({"vectors": [[1.0, 2.0], [3.0]]}, r"`vectors` must be a 2-D array of numbers"),
        ({"vectors": np.full((3, 2), np.nan)}, r"`vectors` has NaN or infinite values .* row 0"),
        ({"vectors": np.array([[1.0, 2.0], [np.inf, 0]])}, r"NaN or infinite .* row 1"),
        ({"vectors": np.ones((3, 2)), "metadata": ["a", "b"]}, r"`metadata` has 2 rows but"),
        (
            {"vectors": np.ones((3, 2)), "metadata": {"w": ["a"] * 3, "n": [1, 2]}},
            r"column 'n' of `metadata` has 2 rows but there are 3 vectors",
        ),
        (
            {"vectors": np.ones((3, 2)), "labels": ["a"], "metadata": ["x"] * 3},
            r"`labels` has 1 row but there are 3 vectors",
        ),
        ({"vectors": np.ones((3, 2)), "images": np.zeros((2, 4, 4))}, r"`images` has 2 images"),
    ],
)
def test_show_rejects_bad_input_before_showing_anything(
    arguments: dict[str, Any], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EMBEDDING_PROJECTOR_CACHE_DIR", str(tmp_path))
    with pytest.raises(InvalidParameterError, match=message):
        embedding_projector.show(**arguments, open_browser=False, port=0)
    assert not (tmp_path / "sessions").exists() or not any((tmp_path / "sessions").iterdir())

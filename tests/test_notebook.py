"""``show()`` and ``%projector`` in a real Jupyter kernel (nbclient), and from a script."""

from __future__ import annotations

import os
from pathlib import Path

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
    "import numpy as np, embedding_projector as ep",
    "vectors = np.random.default_rng(0).normal(size=(200, 12))\n"
    "p = ep.show(vectors, {'word': [f'w{i}' for i in range(200)], 'n': list(range(200))})",
    "import httpx\n"
    "listing = httpx.get(p.url + 'api/embeddings').json()\n"
    "assert listing[0]['shape'] == [200, 12], listing\n"
    "print('columns', [c['name'] for c in listing[0]['columns']])\n"
    "print('selection', p.selection.tolist())",
    "%load_ext embedding_projector",
    f"%projector --logdir {FIXTURES / 'tf2_keras_tutorial'} --height 500",
    "%projector --logdir /no/such/folder",
    "p.stop(); print(p)",
]


def test_show_in_a_jupyter_kernel(tmp_path: Path) -> None:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    env = {"EMBEDDING_PROJECTOR_CACHE_DIR": str(tmp_path / "cache")}
    os.environ.update(env)  # the kernel inherits it
    try:
        NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    finally:
        os.environ.pop("EMBEDDING_PROJECTOR_CACHE_DIR")
    outputs = [cell["outputs"] for cell in notebook.cells]
    shown = [o for o in outputs[1] if o["output_type"] == "display_data"]
    assert len(shown) == 1
    html = shown[0]["data"]["text/html"]
    assert "<iframe" in html and 'src="http://127.0.0.1:' in html
    text = "".join(o.get("text", "") for o in outputs[2])
    assert "columns ['word', 'n']" in text and "selection []" in text
    magic = [o for o in outputs[4] if o["output_type"] == "display_data"]
    assert 'height="500"' in magic[0]["data"]["text/html"]
    assert "%projector: /no/such/folder: no such file or folder" in outputs[5][0]["text"]
    assert "stopped" in outputs[6][0]["text"]


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


def test_show_rejects_bad_input_clearly() -> None:
    with pytest.raises(InvalidParameterError, match="`vectors` must be N x D"):
        embedding_projector.show(np.zeros(5), open_browser=False)
    with pytest.raises(InvalidParameterError, match="NaN or infinite"):
        embedding_projector.show(np.full((3, 2), np.nan), open_browser=False)

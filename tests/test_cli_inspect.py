"""``projector inspect``: run as a user runs it, in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from tests.test_steps import TIMELINE

PROJECTOR = [sys.executable, "-m", "embedding_projector"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*PROJECTOR, *args], capture_output=True, text=True, timeout=60, check=False
    )


def test_inspect_text(fixtures_dir: Path) -> None:
    result = run("inspect", str(fixtures_dir / "tf2_two_embeddings_sprite"))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "word_vectors [word_vectors/.ATTRIBUTES/VARIABLE_VALUE]  100 × 32  float32" in out
    assert "doc_vectors [doc_vectors/.ATTRIBUTES/VARIABLE_VALUE]  40 × 5  float64" in out
    assert "class (categorical, 5 distinct)" in out
    assert "160×160 px, 16×16 thumbnails, 10×10 grid" in out
    assert "bookmarks: 1" in out
    assert "steps:" not in out  # one checkpoint: no timeline


def test_inspect_lists_how_many_steps() -> None:
    result = run("inspect", str(TIMELINE / "tf2_resized"))
    assert result.returncode == 0, result.stderr
    assert "    steps: 3\n" in result.stdout


def test_inspect_json_is_stable(fixtures_dir: Path) -> None:
    result = run("inspect", "--json", str(fixtures_dir / "metadata_row_mismatch"))
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert set(document) == {"root", "runs"}
    (run_doc,) = document["runs"]
    assert set(run_doc) == {"name", "path", "warnings", "embeddings"}
    (emb,) = run_doc["embeddings"]
    assert set(emb) == {
        "name",
        "tensor_name",
        "run",
        "shape",
        "dtype",
        "source",
        "metadata",
        "sprite",
        "bookmarks",
        "steps",
        "warnings",
    }
    assert emb["shape"] == [15, 4] and emb["dtype"] == "float32"
    assert "Number of tensors (15) do not match" in emb["warnings"][0]


def test_bad_input_is_one_line_exit_1(fixtures_dir: Path) -> None:
    result = run("inspect", str(fixtures_dir / "tensor_tsv_ragged"))
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert "t.tsv: line 2 has 2 values but line 1 has 3" in lines[0]


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    result = run("inspect", "--debug", str(tmp_path / "missing"))
    assert result.returncode == 1
    assert "Traceback" in result.stderr and "NotFoundError" in result.stderr


def test_version() -> None:
    result = run("--version")
    assert result.returncode == 0 and result.stdout.startswith("projector, version ")


def test_unreadable_file(tmp_path: Path) -> None:
    np.save(tmp_path / "v.npy", np.zeros((3, 2), np.float32))
    (tmp_path / "v.npy").chmod(0)
    # Root reads every file: drop the capabilities that let it, as CI runs as root.
    prefix = (
        ["setpriv", "--bounding-set=-dac_override,-dac_read_search"] if os.geteuid() == 0 else []
    )
    result = subprocess.run(
        [*prefix, *PROJECTOR, "inspect", str(tmp_path / "v.npy")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "v.npy: permission denied: make the file readable" in result.stderr

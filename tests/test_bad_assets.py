"""One bad asset never takes down the log dir (issue 8, item 3).

The attack run's reproductions: a symlink loop or a dangling link named by
``metadata_path``, ``tensor_path``, ``bookmarks_path`` or ``sprite.image_path``, a NUL
byte in a configured path, and a sprite PNG whose text (zTXt) or colour-profile (iCCP)
chunk inflates past Pillow's limit. Each used to end in "... (this is a bug)" with nothing
served; each is now a warning on that asset (or that run), and the rest is served.
"""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import PngImagePlugin

import embedding_projector
from embedding_projector.formats.projector_config import (
    read_projector_config,
    write_projector_config,
)
from embedding_projector.projector import save_embeddings
from tests.server_process import ServerProcess, client, running_server

RNG = np.random.default_rng(11)
VECTORS = RNG.normal(size=(16, 3)).astype(np.float32)
IMAGES = RNG.integers(0, 255, size=(16, 4, 4), dtype=np.uint8)
FIELDS = ("metadata_path", "bookmarks_path", "sprite.image_path", "tensor_path")


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _with_inflating_chunk(png: bytes, kind: bytes) -> bytes:
    """``png`` with a zTXt or iCCP chunk that inflates past Pillow's MAX_TEXT_CHUNK."""
    inflating = zlib.compress(b"a" * 2 * PngImagePlugin.MAX_TEXT_CHUNK)
    at = png.index(b"IDAT") - 4
    return png[:at] + _png_chunk(kind, b"k\0\0" + inflating) + png[at:]


def _set(run: Path, field: str, value: str) -> None:
    config = read_projector_config(run / "projector_config.pbtxt")
    entry = config.embeddings[0]
    if field == "sprite.image_path":
        entry.sprite.image_path = value
    else:
        setattr(entry, field, value)
    write_projector_config(run, config)


@pytest.fixture(scope="module")
def logdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A good run, and one run per bad asset (each otherwise complete)."""
    root = tmp_path_factory.mktemp("bad_assets")
    save_embeddings(root / "good", "emb", VECTORS, [f"w{i}" for i in range(16)], IMAGES)
    for field in FIELDS:
        for bad in ("loop", "dangling", "nul"):
            run = root / f"{field}-{bad}"
            save_embeddings(run, "emb", VECTORS, [f"w{i}" for i in range(16)], IMAGES)
            if bad == "loop":
                (run / "l1").symlink_to(run / "l2")
                (run / "l2").symlink_to(run / "l1")
                _set(run, field, "l1")
            elif bad == "dangling":
                (run / "gone").symlink_to(run / "nothing-here")
                _set(run, field, "gone")
            else:
                _set(run, field, "emb/meta\0data")
    for kind in (b"zTXt", b"iCCP"):
        run = root / f"sprite-{kind.decode()}"
        save_embeddings(run, "emb", VECTORS, [f"w{i}" for i in range(16)], IMAGES)
        sprite = run / "emb" / "sprite.png"
        sprite.write_bytes(_with_inflating_chunk(sprite.read_bytes(), kind))
    return root


def _runs(root: Path) -> dict[str, embedding_projector.Run]:
    return {run.name: run for run in embedding_projector.open(root).runs}


def test_each_bad_asset_is_a_warning_and_the_rest_is_served(logdir: Path) -> None:
    runs = _runs(logdir)
    assert len(runs) == 1 + len(FIELDS) * 3 + 2
    good = runs["good"].embeddings[0]
    assert good.warnings == [] and good.sprite is not None
    np.testing.assert_array_equal(good.vectors, VECTORS)
    expected_reason = {
        "loop": "is a symlink loop",
        "dangling": "nothing-here",  # the missing target is named
        "nul": "has a NUL byte in its path",
    }
    for field in FIELDS:
        for bad, reason in expected_reason.items():
            run = runs[f"{field}-{bad}"]
            if field == "tensor_path":  # the run's only tensor: a warning on the run
                assert run.embeddings == []
                assert any(reason in w and "not loaded" in w for w in run.warnings), run.warnings
                continue
            (embedding,) = run.embeddings
            assert any(reason in w for w in embedding.warnings), (field, embedding.warnings)
            np.testing.assert_array_equal(embedding.vectors, VECTORS)
            if field == "metadata_path":
                assert embedding.metadata.column_names == ["index"]
            if field == "sprite.image_path":
                assert embedding.sprite is None
            if field == "bookmarks_path":
                assert embedding.bookmarks == []


@pytest.mark.parametrize("kind", ["zTXt", "iCCP"])
def test_a_sprite_chunk_inflating_past_the_limit_drops_the_sprite(logdir: Path, kind: str) -> None:
    (embedding,) = _runs(logdir)[f"sprite-{kind}"].embeddings
    assert embedding.sprite is None
    (warning,) = embedding.warnings
    assert "sprite.png" in warning and "too large" in warning and warning.endswith("ignored")
    assert embedding.metadata.column("label").to_pylist()[:2] == ["w0", "w1"]


def test_inspect_reports_them_on_one_line_each(logdir: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "embedding_projector", "inspect", str(logdir), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert "this is a bug" not in run.stdout + run.stderr
    document = json.loads(run.stdout)
    assert len(document["runs"]) == 1 + len(FIELDS) * 3 + 2
    warnings = [w for r in document["runs"] for e in r["embeddings"] for w in e["warnings"]]
    warnings += [w for r in document["runs"] for w in r["warnings"]]
    assert all(w.isprintable() for w in warnings)
    assert any("\\x00" in w for w in warnings)  # the NUL byte, escaped


@pytest.fixture(scope="module")
def server(logdir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    cache = tmp_path_factory.mktemp("cache")
    with running_server("--logdir", str(logdir), "--workers", "1", cache_dir=cache) as s:
        yield s


def test_the_server_serves_everything_else(server: ServerProcess) -> None:
    with client(server) as http:
        listing = http.get("/api/embeddings").json()
        assert len(listing) == 1 + (len(FIELDS) - 1) * 3 + 2
        for embedding in listing:
            vectors = http.get(f"/api/embeddings/{embedding['id']}/vectors")
            assert vectors.status_code == 200
            assert http.get(f"/api/embeddings/{embedding['id']}/metadata").status_code == 200
            assert http.get(f"/api/embeddings/{embedding['id']}/bookmarks").status_code == 200
            sprite = http.get(f"/api/embeddings/{embedding['id']}/sprite")
            assert sprite.status_code == (200 if embedding["has_sprite"] else 404)
        runs = {r["name"]: r for r in http.get("/api/runs").json()}
        assert any("symlink loop" in w for w in runs["tensor_path-loop"]["warnings"])

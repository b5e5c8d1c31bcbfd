"""Files are confined to the opened folder when they are opened, on the file actually opened.

The attack run's reproductions (issue 8, item 2): our own saved-bookmarks file as a symlink
to an outside JSON array; sprite, metadata, bookmarks and raw tensor files swapped for
symlinks to outside files after the log dir was opened; a checkpoint data shard linked
from outside. Each through a real server; none may serve a byte of the outside file.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

import embedding_projector
from embedding_projector.errors import NotFoundError, PathOutsideLogdirError, ProjectorError
from embedding_projector.formats.files import open_inside
from embedding_projector.formats.projector_config import (
    read_projector_config,
    write_projector_config,
)
from embedding_projector.projector import save_embeddings
from embedding_projector.server.state import embedding_id
from tests.server_process import ServerProcess, client, running_server
from tests.support.tf_bundle_writer import BundleWriter

SECRET = "outside-secret-0451"
RNG = np.random.default_rng(3)
VECTORS = RNG.normal(size=(20, 4)).astype(np.float32)


def _add_bookmarks_path(logdir: Path, name: str, bookmarks: str) -> None:
    config = read_projector_config(logdir / "projector_config.pbtxt")
    (entry,) = [e for e in config.embeddings if e.tensor_name == name]
    entry.bookmarks_path = bookmarks
    write_projector_config(logdir, config)


@pytest.fixture(scope="module")
def layout(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A log dir and, beside it (outside), files holding a secret."""
    base = tmp_path_factory.mktemp("confinement")
    outside = base / "outside"
    outside.mkdir()
    (outside / "secret.json").write_text(f'[{{"label": "{SECRET}"}}]')
    (outside / "secret.tsv").write_text(f"{SECRET}\n" * 20)
    (outside / "secret.bytes").write_bytes(np.full((20, 4), 451.0, np.float32).tobytes())
    (outside / "secret.png").write_bytes(b"\x89PNG" + SECRET.encode())
    logs = base / "logs"
    images = RNG.integers(0, 255, size=(20, 8, 8), dtype=np.uint8)
    for run in ("swap", "ours", "inside"):
        save_embeddings(logs / run, "emb", VECTORS, [f"w{i}" for i in range(20)], images)
        (logs / run / "emb" / "bookmarks.json").write_text('[{"label": "mine"}]')
        _add_bookmarks_path(logs / run, "emb", "emb/bookmarks.json")
    # "inside": the metadata is a symlink to another file inside the log dir.
    (logs / "inside" / "labels.tsv").write_text("".join(f"inside{i}\n" for i in range(20)))
    (logs / "inside" / "emb" / "metadata.tsv").unlink()
    (logs / "inside" / "emb" / "metadata.tsv").symlink_to(logs / "inside" / "labels.tsv")
    # "shard": a checkpoint whose data shard is linked from outside.
    shard_run = logs / "shard"
    shard_run.mkdir()
    with BundleWriter(shard_run / "ckpt") as writer:
        writer.add("emb", VECTORS)
    data = shard_run / "ckpt.data-00000-of-00001"
    shutil.move(data, outside / data.name)
    data.symlink_to(outside / data.name)
    return {"logs": logs, "outside": outside}


@pytest.fixture(scope="module")
def ids(layout: dict[str, Path]) -> dict[str, str]:
    """Embedding ids by run, as the server computes them (stable across processes)."""
    workspace = embedding_projector.open(layout["logs"])
    return {e.run: embedding_id(e) for e in workspace}


@pytest.fixture(scope="module")
def server(
    layout: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    cache = tmp_path_factory.mktemp("cache")
    with running_server("--logdir", str(layout["logs"]), "--workers", "1", cache_dir=cache) as s:
        yield s


def _swap_for_outside_link(path: Path, target: Path) -> None:
    path.unlink()
    path.symlink_to(target)


def _refused(response: httpx.Response, file: str) -> None:
    assert response.status_code == 403, response.text
    error = response.json()["error"]
    assert error["code"] == "path_outside_logdir"
    assert file in error["message"] and "outside the opened folder" in error["message"]
    assert SECRET not in response.text and "451" not in response.text


def test_files_swapped_for_outside_links_after_opening_are_not_served(
    server: ServerProcess, layout: dict[str, Path], ids: dict[str, str]
) -> None:
    emb, outside = layout["logs"] / "swap" / "emb", layout["outside"]
    with client(server) as http:
        # Nothing of "swap" has been read yet: its files are swapped while it is served.
        _swap_for_outside_link(emb / "metadata.tsv", outside / "secret.tsv")
        _swap_for_outside_link(emb / "sprite.png", outside / "secret.png")
        _swap_for_outside_link(emb / "bookmarks.json", outside / "secret.json")
        _swap_for_outside_link(emb / "tensor.bytes", outside / "secret.bytes")
        swap = ids["swap"]
        _refused(http.get(f"/api/embeddings/{swap}/vectors"), "tensor.bytes")
        _refused(http.get(f"/api/embeddings/{swap}/sprite"), "sprite.png")
        metadata = http.get(f"/api/embeddings/{swap}/metadata")
        assert metadata.status_code == 200 and SECRET.encode() not in metadata.content
        bookmarks = http.get(f"/api/embeddings/{swap}/bookmarks")
        assert bookmarks.status_code == 200 and bookmarks.json() == []
        listing = {e["id"]: e for e in http.get("/api/embeddings").json()}
        warnings = " ".join(listing[swap]["warnings"])
        assert "metadata.tsv" in warnings and "bookmarks.json" in warnings
        assert warnings.count("outside the opened folder") == 2
        assert [c["name"] for c in listing[swap]["columns"]] == ["index"]
        assert http.get("/api/health").json() == {"status": "ok"}


def test_our_saved_bookmarks_file_as_an_outside_link_is_refused(
    server: ServerProcess, layout: dict[str, Path], ids: dict[str, str]
) -> None:
    ours = ids["ours"]
    saved = layout["logs"] / "ours" / "emb" / f"embedding_projector.bookmarks.{ours}.json"
    saved.symlink_to(layout["outside"] / "secret.json")
    with client(server) as http:
        _refused(http.get(f"/api/embeddings/{ours}/bookmarks"), saved.name)


def test_a_data_shard_linked_from_outside_is_refused(
    server: ServerProcess, ids: dict[str, str]
) -> None:
    with client(server) as http:
        response = http.get(f"/api/embeddings/{ids['shard']}/vectors")
        _refused(response, "ckpt.data-00000-of-00001")


def test_symlinks_inside_the_folder_are_followed(
    server: ServerProcess, ids: dict[str, str]
) -> None:
    with client(server) as http:
        inside = ids["inside"]
        vectors = http.get(f"/api/embeddings/{inside}/vectors")
        assert vectors.status_code == 200
        np.testing.assert_array_equal(np.frombuffer(vectors.content, "<f4").reshape(20, 4), VECTORS)
        listing = {e["id"]: e for e in http.get("/api/embeddings").json()}
        assert listing[inside]["warnings"] == []
        assert listing[inside]["columns"][0]["name"] == "label"
        assert http.get(f"/api/embeddings/{inside}/sprite").status_code == 200


def test_a_folder_swapped_while_opening_never_leaks_the_outside_file(tmp_path: Path) -> None:
    """A folder on the path is replaced by a symlink to outside, and back, while the file is
    opened again and again. Resolving the path, checking it and then opening it lets the
    outside file through now and then (3 times in 5,000 opens when measured); checking the
    descriptor actually opened never does."""
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "real").mkdir(parents=True)
    outside.mkdir()
    (root / "real" / "f.txt").write_text("inside")
    (outside / "f.txt").write_text(SECRET)
    stop = threading.Event()

    def flip() -> None:
        # Each state held a moment (sleeping lets the opener run), swapped in two syscalls.
        while not stop.is_set():
            os.rename(root / "real", root / "stash")
            os.symlink(outside, root / "real")
            time.sleep(0.0002)
            os.unlink(root / "real")
            os.rename(root / "stash", root / "real")
            time.sleep(0.0002)

    flipper = threading.Thread(target=flip)
    flipper.start()
    outcomes = {"inside": 0, "refused": 0, "missing": 0}
    try:
        for _ in range(5000):
            try:
                with open_inside(root / "real" / "f.txt", root) as opened:
                    content = opened.read_all().decode()
            except PathOutsideLogdirError:
                outcomes["refused"] += 1
            except NotFoundError:  # between two renames
                outcomes["missing"] += 1
            except ProjectorError:  # an open caught mid-swap (EINVAL): refused, not leaked
                outcomes["refused"] += 1
            else:
                assert content == "inside"
                outcomes["inside"] += 1
    finally:
        stop.set()
        flipper.join()
    assert outcomes["inside"] > 0 and outcomes["refused"] > 0, outcomes

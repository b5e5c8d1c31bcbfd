"""What we write, and what we trust of what is on disk (issue 8, item 7).

The attack run's reproductions: a config whose ``bookmarks_path`` names our own file
name (the page's save overwrote the user's file); temporary files of a killed save left
forever; a tampered shared-vectors cache file trusted; a deleted log dir making the
sprite route a 500; ``torch.load(weights_only=True)`` on a torch older than 2.6.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import embedding_projector
from embedding_projector.compute.cache import ResultCache
from embedding_projector.errors import MissingDependencyError
from embedding_projector.formats.atomic import STALE_AFTER, remove_stale_temporaries
from embedding_projector.formats.projector_config import (
    read_projector_config,
    write_projector_config,
)
from embedding_projector.formats.torch_pt import check_torch_version
from embedding_projector.projector import save_embeddings
from embedding_projector.server.state import embedding_id
from tests.server_process import client, running_server

RNG = np.random.default_rng(6)
VECTORS = RNG.normal(size=(30, 4)).astype(np.float32)
IMAGES = RNG.integers(0, 255, size=(30, 6, 6), dtype=np.uint8)
USERS = '[{"label": "the user\'s own"}]'


def _logdir(root: Path) -> tuple[Path, str]:
    """A log dir of one embedding with a sprite; returns it and the embedding's id."""
    save_embeddings(root, "emb", VECTORS, [f"w{i}" for i in range(30)], IMAGES)
    (embedding,) = embedding_projector.open(root).embeddings
    return root, embedding_id(embedding)


def test_a_users_bookmarks_file_named_like_ours_is_never_overwritten(tmp_path: Path) -> None:
    logdir, emb = _logdir(tmp_path / "logs")
    users = logdir / "emb" / f"embedding_projector.bookmarks.{emb}.json"
    users.write_text(USERS)
    config = read_projector_config(logdir / "projector_config.pbtxt")
    config.embeddings[0].bookmarks_path = f"emb/{users.name}"
    write_projector_config(logdir, config)
    cache = tmp_path / "cache"
    with (
        running_server("--logdir", str(logdir), "--workers", "1", cache_dir=cache) as server,
        client(server) as http,
    ):
        assert http.get(f"/api/embeddings/{emb}/bookmarks").json() == [{"label": "the user's own"}]
        saved = http.put(f"/api/embeddings/{emb}/bookmarks", json=[{"label": "page"}])
        assert saved.status_code == 200
        assert Path(saved.json()["path"]).is_relative_to(cache)
        assert http.get(f"/api/embeddings/{emb}/bookmarks").json() == [{"label": "page"}]
    assert users.read_text() == USERS


# A save that is killed midway: it has written part of its temporary file and holds the
# lock that says "in progress" (as atomic_writer does) when SIGKILL arrives.
WRITER = textwrap.dedent(
    """
    import sys, time
    from embedding_projector.formats.atomic import atomic_writer

    with atomic_writer(sys.argv[1]) as file:
        file.write(b'[{"label": "half')
        file.flush()
        print("writing", flush=True)
        time.sleep(120)
    """
)


def _start_save(target: Path) -> subprocess.Popen[str]:
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(target)], stdout=subprocess.PIPE, text=True
    )
    assert writer.stdout is not None and writer.stdout.readline() == "writing\n"
    return writer


def _temporaries(folder: Path) -> set[Path]:
    return set(folder.glob(".embedding_projector.bookmarks.*.tmp"))


def _age(paths: set[Path]) -> None:
    old = time.time() - 2 * STALE_AFTER
    for path in paths:
        os.utime(path, (old, old))


def test_a_killed_saves_temporary_file_is_removed_at_start_but_not_a_save_in_progress(
    tmp_path: Path,
) -> None:
    logdir, emb = _logdir(tmp_path / "logs")
    folder = logdir / "emb"
    target = folder / f"embedding_projector.bookmarks.{emb}.json"
    killed = _start_save(target)
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    assert killed.stdout is not None
    killed.stdout.close()
    left = _temporaries(folder)
    assert len(left) == 1 and not target.exists()
    in_progress = _start_save(target)
    try:
        ongoing = _temporaries(folder) - left
        _age(left | ongoing)  # both look old: only the lock tells them apart
        young = folder / f".{target.name}.young.tmp"
        young.write_bytes(b"[")  # unlocked but new: its writer may not have locked it yet
        with (
            running_server(
                "--logdir", str(logdir), "--workers", "1", cache_dir=tmp_path / "cache"
            ) as server,
            client(server) as http,
        ):
            assert http.get("/api/health").status_code == 200
            assert _temporaries(folder) == ongoing | {young}
    finally:
        in_progress.kill()
        in_progress.wait()
        assert in_progress.stdout is not None
        in_progress.stdout.close()
    # Its writer gone, the once ongoing save is stale too; "young" is still young.
    assert set(remove_stale_temporaries(folder, target.name)) == ongoing
    _age({young})
    assert remove_stale_temporaries(folder, target.name) == [young]


def test_a_tampered_shared_vectors_file_is_not_trusted(tmp_path: Path) -> None:
    X = VECTORS
    key, path = ResultCache(tmp_path).store_vectors(X)
    for tampered in (X + 1, X[::-1]):  # same shape, same size, other content
        np.save(path, tampered)
        # A new process (a restart) finds the file on disk, and the same process too.
        for cache in (ResultCache(tmp_path), ResultCache(tmp_path)):
            assert cache.store_vectors(X) == (key, path)
            np.testing.assert_array_equal(np.load(path), X)
            np.save(path, tampered)
    ours = ResultCache(tmp_path)
    assert ours.store_vector_blocks(X.shape, lambda: iter([X[:10], X[10:]])) == (key, path)
    np.testing.assert_array_equal(np.load(path), X)


def test_the_sprite_of_a_deleted_log_dir_is_a_clear_404(tmp_path: Path) -> None:
    logdir, emb = _logdir(tmp_path / "logs")
    with (
        running_server(
            "--logdir", str(logdir), "--workers", "1", cache_dir=tmp_path / "cache"
        ) as server,
        client(server) as http,
    ):
        assert http.get(f"/api/embeddings/{emb}/sprite").headers["content-type"] == "image/png"
        shutil.rmtree(logdir)
        response = http.get(f"/api/embeddings/{emb}/sprite")
        assert response.status_code == 404
        error = response.json()["error"]
        assert error["code"] == "not_found" and "sprite.png: file not found" in error["message"]
        assert http.get("/api/health").json() == {"status": "ok"}


@pytest.mark.parametrize(
    ("version", "refused"),
    [("1.13.1", True), ("2.5.1+cu121", True), ("2.6.0", False), ("2.13.0+cpu", False)],
)
def test_torch_files_need_torch_2_6(tmp_path: Path, version: str, refused: bool) -> None:
    path = tmp_path / "w.pt"
    if not refused:
        check_torch_version(version, path)
        return
    with pytest.raises(MissingDependencyError, match=r"needs torch 2\.6 or later") as raised:
        check_torch_version(version, path)
    assert f"torch {version} is installed" in str(raised.value)
    assert str(raised.value).startswith(f"{path}: ")

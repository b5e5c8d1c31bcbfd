"""A file that changes while it is served never crashes the server (issue 8, item 4).

The attack run's reproductions: re-saving a served ``.npy`` smaller (``np.save`` over the
same file, as a user re-running their script does) and truncating a checkpoint data
shard. Either killed the server with SIGBUS on the next read of its memory map. Now the
server never maps a user's file: it reads the vectors once with ``pread`` into its own
copy in the cache dir, so a file changed after that read changes nothing it serves, and a
file changed before it is an error for that request (409 ``file_changed``, naming the
file). The Python API says the same when ``emb.vectors`` is asked for again.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import numpy as np
import pytest

from embedding_projector.errors import FileChangedError
from embedding_projector.formats.tensor_file import raw_float32_layout
from tests.server_process import ServerProcess, client, running_server
from tests.support.tf_bundle_writer import BundleWriter

RNG = np.random.default_rng(4)
VECTORS = RNG.normal(size=(40_000, 16)).astype(np.float32)  # 2.5 MB: many pages
SHARD = "ckpt.data-00000-of-00001"


def _alive(server: ServerProcess, http: httpx.Client) -> None:
    assert server.process.poll() is None, server.output
    assert http.get("/api/health").json() == {"status": "ok"}


def _mapped_files(server: ServerProcess) -> str:
    """Every file the server process has memory-mapped (``/proc/PID/maps``)."""
    return Path(f"/proc/{server.process.pid}/maps").read_text()


def _only_embedding(http: httpx.Client) -> str:
    (embedding,) = http.get("/api/embeddings").json()
    return str(embedding["id"])


def _vectors(http: httpx.Client, emb: str) -> np.ndarray:
    response = http.get(f"/api/embeddings/{emb}/vectors")
    assert response.status_code == 200, response.text
    return np.frombuffer(response.content, "<f4").reshape(VECTORS.shape)


@contextmanager
def _serving(tmp_path: Path, *args: str) -> Iterator[tuple[ServerProcess, httpx.Client, str]]:
    """A real server on ``args``, a client, and the id of its only embedding."""
    with (
        running_server(*args, "--workers", "1", cache_dir=tmp_path / "cache") as server,
        client(server) as http,
    ):
        yield server, http, _only_embedding(http)


def _changed(response: httpx.Response, name: str) -> None:
    assert response.status_code == 409, response.text
    error = response.json()["error"]
    assert error["code"] == "file_changed"
    assert name in error["message"] and "changed since it was opened" in error["message"]


def test_an_npy_saved_again_smaller_while_served(tmp_path: Path) -> None:
    path = tmp_path / "vectors.npy"
    np.save(path, VECTORS)
    with _serving(tmp_path, str(path)) as (server, http, emb):
        np.testing.assert_array_equal(_vectors(http, emb), VECTORS)
        neighbors = http.get(f"/api/embeddings/{emb}/neighbors", params={"index": 0, "k": 5})
        assert neighbors.status_code == 200
        np.save(path, VECTORS[:100])  # the same file, truncated and rewritten
        # What the server serves was read before: unchanged, and no crash.
        np.testing.assert_array_equal(_vectors(http, emb), VECTORS)
        again = http.get(f"/api/embeddings/{emb}/neighbors", params={"index": 7, "k": 5})
        assert again.status_code == 200
        _alive(server, http)
        assert str(path) not in _mapped_files(server)


def test_an_npy_cut_short_as_the_server_starts(tmp_path: Path) -> None:
    # The server reads the first embedding's vectors as it starts (first paint first), so
    # a file cut short now is either already copied (served unchanged) or refused.
    path = tmp_path / "vectors.npy"
    np.save(path, VECTORS)
    with _serving(tmp_path, str(path)) as (server, http, emb):
        np.save(path, VECTORS[:100])
        response = http.get(f"/api/embeddings/{emb}/vectors")
        if response.status_code == 200:
            np.testing.assert_array_equal(_vectors(http, emb), VECTORS)
        else:
            _changed(response, "vectors.npy")
            _changed(
                http.get(f"/api/embeddings/{emb}/neighbors", params={"index": 0}), "vectors.npy"
            )
        _alive(server, http)


@pytest.fixture
def checkpoint(tmp_path: Path) -> Path:
    logdir = tmp_path / "logs"
    logdir.mkdir()
    with BundleWriter(logdir / "ckpt") as writer:
        writer.add("emb", VECTORS)
    return logdir


def test_a_checkpoint_shard_truncated_while_served(checkpoint: Path, tmp_path: Path) -> None:
    with _serving(tmp_path, "--logdir", str(checkpoint)) as (server, http, emb):
        np.testing.assert_array_equal(_vectors(http, emb), VECTORS)
        os.truncate(checkpoint / SHARD, 4096)
        np.testing.assert_array_equal(_vectors(http, emb), VECTORS)
        _alive(server, http)
        assert SHARD not in _mapped_files(server)


def test_a_checkpoint_shard_truncated_before_it_is_read(tmp_path: Path) -> None:
    # Two tensors: the server reads the first as it starts; the second not until asked.
    logdir = tmp_path / "logs"
    logdir.mkdir()
    with BundleWriter(logdir / "ckpt") as writer:
        writer.add("emb", VECTORS)
        writer.add("other", VECTORS[::-1].copy())
    with (
        running_server(
            "--logdir", str(logdir), "--workers", "1", cache_dir=tmp_path / "c"
        ) as server,
        client(server) as http,
    ):
        _, emb = (e["id"] for e in http.get("/api/embeddings").json())
        os.truncate(logdir / SHARD, 4096)
        response = http.get(f"/api/embeddings/{emb}/vectors")
        assert response.status_code == 422, response.text  # past the end of the shard now
        assert SHARD in response.json()["error"]["message"]
        projection = http.post(f"/api/embeddings/{emb}/projections", json={"method": "pca"})
        assert projection.status_code == 422
        _alive(server, http)


def test_an_earlier_checkpoint_step_truncated_while_served(tmp_path: Path) -> None:
    """The steps route reads other checkpoints of the run: the same way, never mapped."""
    logdir = tmp_path / "logs"
    logdir.mkdir()
    for number in (1, 2):
        with BundleWriter(logdir / f"ckpt-{number}") as writer:
            writer.add("emb", VECTORS * number)
    (logdir / "checkpoint").write_text('model_checkpoint_path: "ckpt-2"\n')
    with _serving(tmp_path, "--logdir", str(logdir)) as (server, http, emb):
        steps = http.get(f"/api/embeddings/{emb}/steps").json()["steps"]
        assert [s["label"] for s in steps] == ["ckpt-1", "ckpt-2"] and steps[1]["default"]
        first = http.get(f"/api/embeddings/{emb}/steps/0/vectors")
        assert first.status_code == 200
        np.testing.assert_array_equal(
            np.frombuffer(first.content, "<f4").reshape(VECTORS.shape), VECTORS
        )
        os.truncate(logdir / "ckpt-1.data-00000-of-00001", 4096)
        assert http.get(f"/api/embeddings/{emb}/steps/0/vectors").content == first.content
        _alive(server, http)
        assert "ckpt-1.data" not in _mapped_files(server)


def test_pread_reports_a_file_cut_short_while_it_is_read(tmp_path: Path) -> None:
    """The race the checks cannot close (cut between the check and the read) is a short
    read, which is an error: no memory map is involved."""
    path = tmp_path / "t.bytes"
    path.write_bytes(VECTORS.tobytes())
    stored = raw_float32_layout(path, VECTORS.shape)
    blocks = stored.row_blocks(block_bytes=2**16)
    first = next(blocks)
    np.testing.assert_array_equal(first, VECTORS[: len(first)])
    os.truncate(path, 2**17)  # the file is open: same inode, same identity checked at open
    with pytest.raises(FileChangedError, match=r"t\.bytes: ends at byte 131,072"):
        list(blocks)


# The Python API in its own process: a mistake here would be a SIGBUS, which would take
# the test runner down with it.
PYTHON_API = textwrap.dedent(
    """
    import sys
    import numpy as np
    import embedding_projector
    from embedding_projector.errors import FileChangedError

    path = sys.argv[1]
    (emb,) = embedding_projector.open(path).embeddings
    first = np.array(emb.vectors[:3])
    np.save(path, np.zeros((10, 16), np.float32))
    reads = {"vectors": lambda: emb.vectors, "blocks": lambda: list(emb.source.blocks())}
    for what, read in reads.items():
        try:
            read()
        except FileChangedError as exc:
            print(what, "refused:", exc)
        else:
            print(what, "served")
    print("alive", first.shape)
    """
)


def test_the_python_api_refuses_a_changed_file(tmp_path: Path) -> None:
    path = tmp_path / "vectors.npy"
    np.save(path, VECTORS)
    run = subprocess.run(
        [sys.executable, "-c", PYTHON_API, str(path)], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].startswith("vectors refused: ") and "changed since it was opened" in lines[0]
    assert "vectors.npy" in lines[0] and "is now" in lines[0]
    assert lines[1].startswith("blocks refused: ")
    assert lines[2] == "alive (3, 16)"

"""Big text tables parsed once (formats/parsed_cache.py): kept, found, and never stale."""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pytest

from embedding_projector.compute.cache import ResultCache
from embedding_projector.errors import PathOutsideLogdirError
from embedding_projector.formats import parsed_cache
from embedding_projector.formats.files import open_inside
from embedding_projector.formats.metadata_tsv import read_metadata_tsv
from embedding_projector.user_cache import ENV_CACHE_DIR
from tests.server_process import client, running_server


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cache dir of the test's own, and every file big enough to be kept."""
    folder = tmp_path / "cache"
    monkeypatch.setenv(ENV_CACHE_DIR, str(folder))
    monkeypatch.setattr(parsed_cache, "MIN_BYTES", 1)
    return folder


def parse_counting(calls: list[bytes]) -> parsed_cache.Parse:
    def parse(data: bytes) -> pa.Table:
        calls.append(data)
        return pa.table({"line": data.decode().split("\n")})

    return parse


def read(path: Path, calls: list[bytes]) -> pa.Table:
    with open_inside(path, path.parent) as opened:
        return parsed_cache.parsed_once(opened, "lines/1", parse_counting(calls))


def test_a_table_is_parsed_once_then_read_back(tmp_path: Path, cache: Path) -> None:
    path = tmp_path / "data" / "t.txt"
    path.parent.mkdir()
    path.write_text("a\nb\nc")
    calls: list[bytes] = []
    first, second = read(path, calls), read(path, calls)
    assert len(calls) == 1
    assert second.equals(first)
    assert len(list((cache / "tables").glob("*.arrow"))) == 1


def test_a_rewritten_file_is_parsed_again_even_with_its_size_and_mtime_kept(
    tmp_path: Path, cache: Path
) -> None:
    path = tmp_path / "t.txt"
    path.write_text("a\nb\nc")
    calls: list[bytes] = []
    read(path, calls)
    before = path.stat()
    path.write_text("x\ny\nz")  # same size
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # and the same mtime
    assert read(path, calls).column("line").to_pylist() == ["x", "y", "z"]
    assert len(calls) == 2


def test_another_parser_version_does_not_use_the_old_table(tmp_path: Path, cache: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_text("a\nb")
    calls: list[bytes] = []
    read(path, calls)
    with open_inside(path, None) as opened:
        parsed_cache.parsed_once(opened, "lines/2", parse_counting(calls))
    assert len(calls) == 2


def test_a_damaged_entry_is_parsed_again_and_replaced(tmp_path: Path, cache: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_text("a\nb\nc")
    calls: list[bytes] = []
    expected = read(path, calls)
    (entry,) = (cache / "tables").glob("*.arrow")
    entry.write_bytes(entry.read_bytes()[:100])  # cut short
    assert read(path, calls).equals(expected)
    assert len(calls) == 2
    assert read(path, calls).equals(expected)  # the entry written again is whole
    assert len(calls) == 2


def test_a_cache_that_cannot_be_written_only_costs_a_parse(tmp_path: Path, cache: Path) -> None:
    cache.mkdir()
    (cache / "tables").write_text("a file where the folder would go")
    path = tmp_path / "t.txt"
    path.write_text("a\nb")
    calls: list[bytes] = []
    assert read(path, calls).column("line").to_pylist() == ["a", "b"]
    assert read(path, calls).column("line").to_pylist() == ["a", "b"]
    assert len(calls) == 2


def test_confinement_is_checked_when_the_table_is_kept(tmp_path: Path, cache: Path) -> None:
    """A kept table is no way around the log dir's bounds: the file is opened every time."""
    logdir, outside = tmp_path / "logs", tmp_path / "outside"
    logdir.mkdir()
    outside.mkdir()
    (outside / "meta.tsv").write_text("name\tgroup\nsecret\t1\n")
    (logdir / "meta.tsv").write_text("name\tgroup\nmine\t1\n")
    assert read_metadata_tsv(logdir / "meta.tsv", root=logdir).column("name").to_pylist() == [
        "mine"
    ]
    read_metadata_tsv(outside / "meta.tsv", root=outside)  # its table is kept too
    (logdir / "meta.tsv").unlink()
    (logdir / "meta.tsv").symlink_to(outside / "meta.tsv")
    with pytest.raises(PathOutsideLogdirError):
        read_metadata_tsv(logdir / "meta.tsv", root=logdir)


def test_a_restarted_server_finds_the_columns_described(tmp_path: Path) -> None:
    """The distinct counts of the metadata are kept in the result cache under the table's
    hash: a second server answers with what the first kept (here: altered, to tell)."""
    logdir, cache = tmp_path / "logs", tmp_path / "cache"
    logdir.mkdir()
    (logdir / "v.tsv").write_text("".join(f"{i}\t{i % 3}\n" for i in range(30)))
    (logdir / "m.tsv").write_text(
        "name\tgroup\n" + "".join(f"w{i}\t{'abc'[i % 3]}\n" for i in range(30))
    )
    args = (str(logdir / "v.tsv"), "--metadata", str(logdir / "m.tsv"))
    described = []
    for _ in range(2):
        with running_server(*args, cache_dir=cache) as server, client(server) as http:
            (embedding,) = http.get("/api/embeddings").json()
            described.append(embedding["columns"])
        kept = ResultCache(cache)
        for entry in (cache / "results").glob("*.npz"):
            found = kept.get(entry.stem)
            if found is not None and "columns" in found[1]:
                found[1]["columns"][0]["distinct"] = 7
                kept.put(entry.stem, *found)
    assert described == [
        [
            {"name": "name", "kind": "categorical", "distinct": 30},
            {"name": "group", "kind": "categorical", "distinct": 3},
        ],
        [
            {"name": "name", "kind": "categorical", "distinct": 7},
            {"name": "group", "kind": "categorical", "distinct": 3},
        ],
    ]

"""Row files: any process reads row ranges of an input itself, as the whole file reads."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st
from safetensors.numpy import save_file

import embedding_projector
from embedding_projector.errors import FileChangedError, NotFoundError, PathOutsideLogdirError
from embedding_projector.formats.crc import combine, crc32c, mask
from embedding_projector.formats.rows import ParquetRows, StoredRows
from tests.support.tf_bundle_writer import BundleWriter

VECTORS = np.random.default_rng(3).normal(size=(50, 6)).astype(np.float32)
RANGES = [(0, 50), (0, 1), (7, 23), (49, 50), (10, 10)]


def rows_of(path: Path, name: str | None = None) -> StoredRows | ParquetRows:
    embeddings = embedding_projector.open(path).embeddings
    (embedding,) = [e for e in embeddings if name is None or e.name == name]
    rows = embedding.source.rows
    assert rows is not None, f"{path} has no row file"
    assert rows.shape == VECTORS.shape
    return rows


def assert_ranges(rows: StoredRows | ParquetRows, expected: np.ndarray) -> None:
    """Every range reads what the whole array holds, also after a trip through pickle."""
    for copy in (rows, pickle.loads(pickle.dumps(rows))):
        for start, stop in RANGES:
            got = copy.read(start, stop)
            assert got.dtype == np.float32 and got.shape == (stop - start, expected.shape[1])
            np.testing.assert_array_equal(got, expected[start:stop])


def test_npy_raw_and_safetensors_rows(tmp_path: Path) -> None:
    np.save(tmp_path / "v.npy", VECTORS)
    assert_ranges(rows_of(tmp_path / "v.npy"), VECTORS)
    np.save(tmp_path / "d.npy", VECTORS.astype(np.float64))
    assert_ranges(rows_of(tmp_path / "d.npy"), VECTORS)
    save_file({"a": np.zeros((2, 2), np.float32), "emb": VECTORS.astype(np.float16)},
              str(tmp_path / "t.safetensors"))  # fmt: skip
    half = VECTORS.astype(np.float16).astype(np.float32)
    assert_ranges(rows_of(tmp_path / "t.safetensors", "emb"), half)


def test_fortran_ordered_npy_has_no_row_file(tmp_path: Path) -> None:
    np.save(tmp_path / "f.npy", np.asfortranarray(VECTORS))
    (embedding,) = embedding_projector.open(tmp_path / "f.npy").embeddings
    assert embedding.source.rows is None  # read whole, on this machine


def test_checkpoint_rows_and_their_crc(tmp_path: Path) -> None:
    with BundleWriter(tmp_path / "ckpt") as writer:
        writer.add("other", np.arange(12, dtype=np.float32).reshape(3, 4))
        writer.add("emb", VECTORS)
    rows = rows_of(tmp_path / "ckpt", "emb")
    assert isinstance(rows, StoredRows) and rows.stored.crc32c is not None
    assert_ranges(rows, VECTORS)
    crc = 0
    for start, stop in [(0, 7), (7, 8), (8, 50)]:
        raw = rows.read_stored(start, stop)
        crc = combine(crc, crc32c(raw.data), raw.nbytes)
    assert mask(crc) == rows.stored.crc32c


def test_parquet_rows_list_and_numeric_columns(tmp_path: Path) -> None:
    table = pa.table({"v": list(VECTORS.astype(np.float64)), "label": [str(i) for i in range(50)]})
    pq.write_table(table, tmp_path / "l.parquet", row_group_size=8)
    assert_ranges(rows_of(tmp_path / "l.parquet"), VECTORS)
    columns = {f"d{i}": VECTORS[:, i] for i in range(6)}
    pq.write_table(pa.table(columns), tmp_path / "c.parquet", row_group_size=13)
    assert_ranges(rows_of(tmp_path / "c.parquet"), VECTORS)


def test_a_file_that_went_away_or_changed_names_itself(tmp_path: Path) -> None:
    np.save(tmp_path / "v.npy", VECTORS)
    rows = rows_of(tmp_path / "v.npy")
    np.save(tmp_path / "v.npy", VECTORS[:10])  # cut short: no crash, one line
    with pytest.raises(FileChangedError, match=r"v\.npy: changed since it was opened"):
        rows.read(0, 5)
    (tmp_path / "v.npy").unlink()
    with pytest.raises(NotFoundError, match=r"v\.npy: file not found"):
        rows.read(0, 5)


def test_rows_are_read_inside_the_opened_folder_only(tmp_path: Path) -> None:
    """A worker opens the file as the server does: a symlink put there since, leading
    outside the folder that was opened, is refused on the descriptor."""
    (tmp_path / "logdir").mkdir()
    np.save(tmp_path / "logdir" / "v.npy", VECTORS)
    np.save(tmp_path / "secret.npy", VECTORS)
    rows = rows_of(tmp_path / "logdir" / "v.npy")
    (tmp_path / "logdir" / "v.npy").unlink()
    (tmp_path / "logdir" / "v.npy").symlink_to(tmp_path / "secret.npy")
    with pytest.raises(PathOutsideLogdirError, match="outside the opened folder"):
        rows.read(0, 5)


@given(st.binary(max_size=300), st.binary(max_size=300))
def test_crc32c_combine_equals_the_crc_of_the_concatenation(first: bytes, second: bytes) -> None:
    assert combine(crc32c(first), crc32c(second), len(second)) == crc32c(first + second)

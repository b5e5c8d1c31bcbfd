"""Direct inputs (SPEC §2.9): each written by the tool users write it with."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest
from safetensors.numpy import save_file

import embedding_projector
from embedding_projector.errors import (
    FormatError,
    InvalidParameterError,
    MissingDependencyError,
    NotFoundError,
    UnsupportedFormatError,
)
from embedding_projector.formats.npy import npy_layout

RNG = np.random.default_rng(0)
VECTORS = RNG.normal(size=(30, 6)).astype(np.float32)
LABELS = [f"item {i}" for i in range(30)]


def single(path: Path, **kwargs: object) -> embedding_projector.Embedding:
    (emb,) = embedding_projector.open(path, **kwargs).embeddings  # type: ignore[arg-type]
    return emb


def test_npy_is_memory_mapped(tmp_path: Path) -> None:
    np.save(tmp_path / "vecs.npy", VECTORS)
    emb = single(tmp_path / "vecs.npy")
    assert emb.name == "vecs" and emb.shape == (30, 6) and emb.dtype == "float32"
    assert isinstance(emb.vectors, np.memmap)
    np.testing.assert_array_equal(emb.vectors, VECTORS)
    assert emb.metadata.column_names == ["index"]


def test_npy_float64_and_fortran_order(tmp_path: Path) -> None:
    np.save(tmp_path / "v.npy", np.asfortranarray(VECTORS.astype(np.float64)))
    emb = single(tmp_path / "v.npy")
    assert emb.dtype == "float64" and emb.vectors.flags.c_contiguous
    np.testing.assert_array_equal(emb.vectors, VECTORS)


def test_npy_wrong_rank_and_corrupt(tmp_path: Path) -> None:
    np.save(tmp_path / "v.npy", np.zeros((2, 3, 4)))
    with pytest.raises(FormatError, match=r"has shape \(2, 3, 4\); an embedding is 2-D"):
        embedding_projector.open(tmp_path / "v.npy")
    (tmp_path / "c.npy").write_bytes(b"\x93NUMPY garbage")
    with pytest.raises(FormatError, match=r"c\.npy: is not a readable \.npy array"):
        embedding_projector.open(tmp_path / "c.npy")


def test_npz_with_labels(tmp_path: Path) -> None:
    np.savez(tmp_path / "e.npz", vectors=VECTORS, labels=np.array(LABELS), other=np.zeros(3))
    emb = single(tmp_path / "e.npz")
    assert emb.name == "vectors"
    assert emb.metadata.column("labels").to_pylist() == LABELS
    assert "other" not in emb.metadata.column_names


def test_safetensors_memory_mapped_and_bfloat16(tmp_path: Path) -> None:
    bf16_bits = (VECTORS.view(np.uint32) >> 16).astype(np.uint16)
    save_file({"emb.weight": VECTORS, "bias": np.zeros(6, np.float32)}, tmp_path / "m.safetensors")
    emb = single(tmp_path / "m.safetensors")
    assert emb.name == "emb.weight" and isinstance(emb.vectors, np.memmap)
    np.testing.assert_array_equal(emb.vectors, VECTORS)
    # bfloat16 as written by torch / safetensors: the upper 16 bits of a float32.
    path = tmp_path / "bf.safetensors"
    header = b'{"w":{"dtype":"BF16","shape":[30,6],"data_offsets":[0,360]}}'
    path.write_bytes(len(header).to_bytes(8, "little") + header + bf16_bits.tobytes())
    emb = single(path)
    assert emb.dtype == "bfloat16"
    np.testing.assert_array_equal(emb.vectors, (bf16_bits.astype(np.uint32) << 16).view(np.float32))


def test_safetensors_truncated(tmp_path: Path) -> None:
    save_file({"w": VECTORS}, tmp_path / "m.safetensors")
    data = (tmp_path / "m.safetensors").read_bytes()
    (tmp_path / "t.safetensors").write_bytes(data[:-10])
    with pytest.raises(FormatError, match=r"tensor 'w' .* the file is truncated or corrupt"):
        embedding_projector.open(tmp_path / "t.safetensors")


def test_parquet_fixed_size_list_zero_copy_and_metadata(tmp_path: Path) -> None:
    vectors = pa.FixedSizeListArray.from_arrays(pa.array(VECTORS.ravel()), 6)
    pq.write_table(pa.table({"label": LABELS, "embedding": vectors}), tmp_path / "t.parquet")
    emb = single(tmp_path / "t.parquet")
    assert emb.name == "embedding"
    np.testing.assert_array_equal(emb.vectors, VECTORS)
    assert emb.metadata.column("label").to_pylist() == LABELS


def test_parquet_from_pandas_list_column(tmp_path: Path) -> None:
    frame = pd.DataFrame({"word": LABELS, "vec": list(VECTORS.astype(np.float64))})
    frame.to_parquet(tmp_path / "p.parquet")
    np.testing.assert_array_equal(single(tmp_path / "p.parquet").vectors, VECTORS)


def test_parquet_ragged_list_names_row(tmp_path: Path) -> None:
    pq.write_table(pa.table({"v": [[1.0, 2.0], [1.0, 2.0], [3.0]]}), tmp_path / "r.parquet")
    emb = single(tmp_path / "r.parquet")  # opening reads the footer: the vectors when used
    with pytest.raises(FormatError, match="column 'v', row 2: the vector has 1 values"):
        emb.vectors  # noqa: B018


def test_parquet_folder_is_one_table_read_by_row_ranges(tmp_path: Path) -> None:
    folder = tmp_path / "parts"
    folder.mkdir()
    halves = (VECTORS[:2], VECTORS[2:])
    for i, (part, labels) in enumerate(zip(halves, (LABELS[:2], LABELS[2:]), strict=True)):
        vectors = pa.FixedSizeListArray.from_arrays(pa.array(part.ravel()), part.shape[1])
        table = pa.table({"label": labels, "embedding": vectors})
        pq.write_table(table, folder / f"part-{i}.parquet", row_group_size=1)
    emb = single(folder)
    assert emb.shape == VECTORS.shape
    np.testing.assert_array_equal(emb.vectors, VECTORS)
    assert emb.metadata.column("label").to_pylist() == LABELS
    rows = emb.source.rows
    assert rows is not None
    np.testing.assert_array_equal(rows.read(1, len(VECTORS)), VECTORS[1:])


def test_feather_and_arrow_stream(tmp_path: Path) -> None:
    frame = pd.DataFrame(VECTORS, columns=[f"d{i}" for i in range(6)]).assign(label=LABELS)
    feather.write_feather(frame, tmp_path / "f.feather")
    emb = single(tmp_path / "f.feather")
    np.testing.assert_array_equal(emb.vectors, VECTORS)
    assert emb.metadata.column_names == ["label"]
    table = pa.Table.from_pandas(frame, preserve_index=False)
    with (
        pa.OSFile(str(tmp_path / "s.arrows"), "wb") as sink,
        pa.ipc.new_stream(sink, table.schema) as w,
    ):
        w.write_table(table)
    np.testing.assert_array_equal(single(tmp_path / "s.arrows").vectors, VECTORS)


def test_csv_with_header_and_label(tmp_path: Path) -> None:
    frame = pd.DataFrame(VECTORS, columns=[f"x{i}" for i in range(6)])
    frame.insert(0, "name", LABELS)
    frame.to_csv(tmp_path / "e.csv", index=False)
    emb = single(tmp_path / "e.csv")
    np.testing.assert_allclose(emb.vectors, VECTORS, rtol=1e-6)
    assert emb.metadata.column("name").to_pylist() == LABELS


def test_tsv_without_header(tmp_path: Path) -> None:
    lines = ["\t".join(repr(float(v)) for v in row) for row in VECTORS]
    (tmp_path / "v.tsv").write_text("\n".join(lines) + "\n")
    np.testing.assert_array_equal(single(tmp_path / "v.tsv").vectors, VECTORS)


def test_raw_bytes_need_a_shape(tmp_path: Path) -> None:
    (tmp_path / "v.bin").write_bytes(VECTORS.tobytes())
    with pytest.raises(InvalidParameterError, match=r"give `shape=\(N, D\)`"):
        embedding_projector.open(tmp_path / "v.bin")
    np.testing.assert_array_equal(single(tmp_path / "v.bin", shape=(30, 6)).vectors, VECTORS)


def test_metadata_file_beside_any_input(tmp_path: Path) -> None:
    np.save(tmp_path / "v.npy", VECTORS)
    (tmp_path / "m.tsv").write_text(
        "word\tn\n" + "".join(f"{w}\t{i}\n" for i, w in enumerate(LABELS))
    )
    emb = single(tmp_path / "v.npy", metadata=tmp_path / "m.tsv")
    assert emb.metadata.column("word").to_pylist() == LABELS
    assert emb.metadata_path == tmp_path / "m.tsv"
    with pytest.raises(NotFoundError, match="metadata file not found"):
        embedding_projector.open(tmp_path / "v.npy", metadata=tmp_path / "nope.tsv")


def test_unknown_and_missing(tmp_path: Path) -> None:
    (tmp_path / "x.docx").write_bytes(b"PK")
    with pytest.raises(UnsupportedFormatError, match=r"unknown file type '\.docx'; supported: "):
        embedding_projector.open(tmp_path / "x.docx")
    with pytest.raises(NotFoundError, match="no such file or folder"):
        embedding_projector.open(tmp_path / "missing")


def test_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="no embeddings found"):
        embedding_projector.open(tmp_path)


def test_torch_file(tmp_path: Path) -> None:
    path = tmp_path / "e.pt"
    if importlib.util.find_spec("torch") is None:
        path.write_bytes(b"not really")
        with pytest.raises(
            MissingDependencyError, match=r"needs torch: `pip install 'torch>=2\.6'`"
        ):
            embedding_projector.open(path)
        return
    import torch

    torch.save({"emb.weight": torch.from_numpy(VECTORS), "step": torch.tensor(3)}, path)
    emb = single(path)
    assert emb.name == "emb.weight"
    np.testing.assert_array_equal(emb.vectors, VECTORS)


@pytest.mark.parametrize("layout", ["C float32", "Fortran float64", "big-endian float32"])
def test_pread_blocks_hold_what_the_map_holds(tmp_path: Path, layout: str) -> None:
    """The server's read (pread, block after block into one buffer) and the Python API's
    map give the same numbers, whatever the layout and however the blocks fall."""
    array = {
        "C float32": VECTORS,
        "Fortran float64": np.asfortranarray(VECTORS.astype(np.float64)),
        "big-endian float32": VECTORS.astype(">f4"),
    }[layout]
    np.save(tmp_path / "v.npy", array)
    stored = npy_layout(tmp_path / "v.npy")
    for block_bytes in (1, 24, 7 * 24, 2**20):
        blocks = [stored.float32(block).copy() for block in stored.row_blocks(block_bytes)]
        np.testing.assert_array_equal(np.concatenate(blocks), VECTORS)
    np.testing.assert_array_equal(stored.float32(stored.map()), VECTORS)

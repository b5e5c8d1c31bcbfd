"""The test-only bundle writer: byte-identical to TensorFlow, and read back by the reader."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from embedding_projector.formats.tf_checkpoint import CheckpointReader
from embedding_projector.formats.tf_checkpoint.index import load_index
from embedding_projector.formats.tf_checkpoint.ordered_code import decode_slice_key
from embedding_projector.formats.tf_checkpoint.sstable import iter_table, read_block, read_footer
from embedding_projector.formats.tf_checkpoint.wire import parse_entry, parse_header
from tests.conftest import FIXTURES
from tests.support.sstable_writer import build_table
from tests.support.tf_bundle_writer import (
    DT_BFLOAT16,
    BundleWriter,
    encode_entry,
    encode_header,
    encode_slice_key,
)

DATA = Path(__file__).parent / "data" / "checkpoints"
TF_INDEXES = sorted([*FIXTURES.rglob("*.index"), *DATA.rglob("*.index")])


def data_blocks(index: Path) -> int:
    """How many data blocks a table's index block points to."""
    data = index.read_bytes()
    _, handle = read_footer(data, path=index)
    block = read_block(data, handle, path=index, what="index")
    return int.from_bytes(block[-4:], "little")  # one restart per index entry


@pytest.mark.parametrize("index", TF_INDEXES, ids=lambda p: str(p.relative_to(p.parents[1])))
def test_index_rebuilt_byte_for_byte(index: Path) -> None:
    data = index.read_bytes()
    (header_key, header), *entries = iter_table(data, path=index)
    assert header_key == b"" and encode_header(parse_header(header).num_shards) == header
    for key, value in entries:
        assert encode_entry(parse_entry(value)) == value, key
        if key.startswith(b"\x00"):
            name, box = decode_slice_key(key)
            assert encode_slice_key(name.decode(), box) == key
    assert build_table([(header_key, header), *entries]) == data


@pytest.mark.parametrize(
    "source", [FIXTURES / "tf1_saver" / "model.ckpt-1000", DATA / "tf1_partitioned" / "ckpt"]
)
def test_writer_reproduces_whole_tf1_checkpoints(tmp_path: Path, source: Path) -> None:
    """Index and data file alike, from the tensors alone (these store them in key order)."""
    reader, entries = CheckpointReader(source), load_index(Path(f"{source}.index")).entries
    with BundleWriter(tmp_path / "ckpt") as writer:
        for name, info in reader.variables().items():
            if info.partitioned:  # Saver writes every extent's length, none "to the end"
                boxes = [tuple((e.start, e.length) for e in s) for s in entries[name].slices]
                writer.add_partitioned(name, reader.read(name), boxes, shards=[0] * len(boxes))
            else:
                writer.add(name, reader.read(name))
    for suffix in (".index", ".data-00000-of-00001"):
        assert (
            Path(f"{tmp_path / 'ckpt'}{suffix}").read_bytes()
            == Path(f"{source}{suffix}").read_bytes()
        )


def test_reference_set_includes_a_two_block_index() -> None:
    assert data_blocks(DATA / "many_keys" / "ckpt.index") == 2


ALL_DTYPES = [
    np.float32, np.float64, np.float16, np.int8, np.int16, np.int32, np.int64,
    np.uint8, np.uint16, np.uint32, np.uint64, np.bool_, np.complex64, np.complex128,
]  # fmt: skip


def test_all_dtypes_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    arrays = {np.dtype(t).name: (rng.standard_normal((7, 3)) * 50).astype(t) for t in ALL_DTYPES}
    bits = np.array([[0x3F80, 0xC000], [0x7F80, 0x0001]], np.uint16)  # 1, -2, inf, tiny
    with BundleWriter(tmp_path / "ckpt") as writer:
        for name, array in arrays.items():
            writer.add(name, array)
        writer.add("bf16", bits, dtype=DT_BFLOAT16)
        writer.add("empty", np.zeros((0, 5), np.float32))
    reader = CheckpointReader(tmp_path / "ckpt")
    for name, array in arrays.items():
        assert reader.variables()[name].dtype == name
        got = reader.read(name)
        assert got.dtype == array.dtype
        np.testing.assert_array_equal(got, array)
    assert reader.variables()["bf16"].dtype == "bfloat16"
    np.testing.assert_array_equal(reader.read("bf16"), [[1, -2], [np.inf, 2.0**-133]])
    assert reader.read("empty").shape == (0, 5)


def test_partitioned_across_shards(tmp_path: Path) -> None:
    array = np.arange(12 * 5, dtype=np.float32).reshape(12, 5)
    boxes = [((0, 7), (0, 2)), ((0, 7), (2, 3)), ((7, 5), (0, 5))]
    with BundleWriter(tmp_path / "ckpt", num_shards=3) as writer:
        writer.add("before", np.ones(3, np.float32), shard=1)
        writer.add_partitioned("emb", array, boxes, shards=[2, 0, 1])
    reader = CheckpointReader(tmp_path / "ckpt")
    assert list(reader.variables()) == ["before", "emb"]
    np.testing.assert_array_equal(reader.read("emb"), array)


def test_many_keys_make_a_multi_block_index(tmp_path: Path) -> None:
    names = [f"layer_{i:05d}/kernel/.ATTRIBUTES/VARIABLE_VALUE" for i in range(9000)]
    with BundleWriter(tmp_path / "ckpt") as writer:
        for i, name in enumerate(names):
            writer.add(name, np.array([i], np.int32))
    assert data_blocks(tmp_path / "ckpt.index") >= 2
    reader = CheckpointReader(tmp_path / "ckpt")
    assert list(reader.variables()) == names
    assert [reader.read(names[i])[0] for i in (0, 4321, 8999)] == [0, 4321, 8999]


@given(
    st.text(min_size=1, max_size=20),
    st.lists(st.tuples(st.integers(-1, 2**62), st.integers(-(2**63), 2**63 - 1)), max_size=4),
)
def test_slice_keys_round_trip(name: str, box: list[tuple[int, int]]) -> None:
    decoded_name, decoded_box = decode_slice_key(encode_slice_key(name, tuple(box)))
    assert decoded_name.decode() == name
    assert decoded_box == tuple(box)


@given(st.lists(st.integers(-(2**63), 2**63 - 1), min_size=2, max_size=2))
def test_slice_keys_sort_like_their_numbers(pair: list[int]) -> None:
    key_a, key_b = (encode_slice_key("x", ((n, 0),)) for n in pair)
    assert (key_a < key_b) == (pair[0] < pair[1])

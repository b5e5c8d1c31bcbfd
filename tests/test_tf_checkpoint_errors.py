"""Every way a checkpoint can be broken gives a ProjectorError that says where and what to do."""

from __future__ import annotations

import shutil
import struct
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from embedding_projector.errors import (
    ChecksumError,
    FormatError,
    NotFoundError,
    ProjectorError,
    UnsupportedFormatError,
)
from embedding_projector.formats.crc import masked_crc32c
from embedding_projector.formats.tf_checkpoint import CheckpointReader
from embedding_projector.formats.tf_checkpoint.wire import BundleEntry, Extent
from tests.conftest import FIXTURES
from tests.support.sstable_writer import build_table
from tests.support.tf_bundle_writer import BundleWriter, encode_entry, encode_header

EMB = "embedding/.ATTRIBUTES/VARIABLE_VALUE"


@pytest.fixture
def tutorial(tmp_path: Path) -> Path:
    """A writable copy of the tutorial checkpoint; returns its prefix."""
    for file in (FIXTURES / "tf2_keras_tutorial").glob("embedding.ckpt-1.*"):
        shutil.copy(file, tmp_path)
    return tmp_path / "embedding.ckpt-1"


def edit(path: Path, change: Callable[[bytearray], bytes | bytearray]) -> None:
    """Rewrite a file through ``change``."""
    path.write_bytes(bytes(change(bytearray(path.read_bytes()))))


def test_missing_index(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match=r"no checkpoint index here.*model\.ckpt-1") as error:
        CheckpointReader(tmp_path / "model.ckpt-1")
    assert error.value.path == str(tmp_path / "model.ckpt-1.index")


def test_empty_index(tutorial: Path) -> None:
    Path(f"{tutorial}.index").write_bytes(b"")
    with pytest.raises(FormatError, match="the checkpoint index is empty"):
        CheckpointReader(tutorial)


@pytest.mark.parametrize(
    ("keep", "message"),
    [(20, "truncated: 20 bytes, shorter than its 48-byte footer"), (200, "bad magic number")],
)
def test_truncated_index(tutorial: Path, keep: int, message: str) -> None:
    edit(Path(f"{tutorial}.index"), lambda data: data[:keep])
    with pytest.raises(FormatError, match=message) as error:
        CheckpointReader(tutorial)
    assert error.value.path == f"{tutorial}.index"


def test_bad_magic(tutorial: Path) -> None:
    def flip_last(data: bytearray) -> bytearray:
        data[-1] ^= 0xFF
        return data

    edit(Path(f"{tutorial}.index"), flip_last)
    with pytest.raises(FormatError, match=r"bad magic number 0x2447.* at byte offset 260"):
        CheckpointReader(tutorial)


def test_corrupt_block_crc(tutorial: Path) -> None:
    def flip(data: bytearray) -> bytearray:
        data[0x40] ^= 0x01  # inside the key "embedding/..." of data block 0
        return data

    edit(Path(f"{tutorial}.index"), flip)
    with pytest.raises(ChecksumError, match="data block 0 at byte offset 0 fails its CRC32C"):
        CheckpointReader(tutorial)


def test_snappy_block(tutorial: Path) -> None:
    def mark_snappy(data: bytearray) -> bytearray:
        data[182] = 1  # the type byte after data block 0 (182 bytes), crc recomputed
        data[183:187] = struct.pack("<I", masked_crc32c(bytes(data[:183])))
        return data

    edit(Path(f"{tutorial}.index"), mark_snappy)
    with pytest.raises(UnsupportedFormatError, match="compressed index not supported") as error:
        CheckpointReader(tutorial)
    assert error.value.path == f"{tutorial}.index"


def test_corrupt_tensor_crc_names_tensor_and_file(tutorial: Path) -> None:
    data_file = Path(f"{tutorial}.data-00000-of-00001")

    def flip(data: bytearray) -> bytearray:
        data[1000] ^= 0x10
        return data

    edit(data_file, flip)
    reader = CheckpointReader(tutorial)
    with pytest.raises(ChecksumError, match=f"tensor '{EMB}' fails its CRC32C check") as error:
        reader.read(EMB)
    assert error.value.path == str(data_file)
    assert reader.read("save_counter/.ATTRIBUTES/VARIABLE_VALUE") == 1  # others still read


def test_tensor_past_end_of_shard(tutorial: Path) -> None:
    data_file = Path(f"{tutorial}.data-00000-of-00001")
    edit(data_file, lambda data: data[:50_000])
    message = f"tensor '{EMB}' at byte offset 0 .63936 bytes. extends past the end of the data"
    with pytest.raises(FormatError, match=message + r" file .50000 bytes.") as error:
        CheckpointReader(tutorial).read(EMB)
    assert error.value.path == str(data_file)


def test_missing_shard_names_the_file(tmp_path: Path) -> None:
    for file in (FIXTURES / "tf2_sharded").glob("sharded.ckpt-1.*"):
        shutil.copy(file, tmp_path)
    missing = tmp_path / "sharded.ckpt-1.data-00001-of-00003"
    missing.unlink()
    reader = CheckpointReader(tmp_path / "sharded.ckpt-1")
    with pytest.raises(NotFoundError, match=r"data file of the checkpoint is missing") as error:
        reader.read("emb_b/.ATTRIBUTES/VARIABLE_VALUE")
    assert error.value.path == str(missing)


def test_big_endian_header(tmp_path: Path) -> None:
    (tmp_path / "ckpt.index").write_bytes(build_table([(b"", encode_header(1, big_endian=True))]))
    with pytest.raises(UnsupportedFormatError, match="written on a big-endian machine"):
        CheckpointReader(tmp_path / "ckpt")


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (encode_header(1, min_consumer=2), "needs a reader of bundle format version 2 or later"),
        (bytes.fromhex("0801 1a04 0801 1801"), "readers of bundle format version 1 .this one."),
    ],
    ids=["min_consumer", "bad_consumers"],
)
def test_bundle_version_refused(tmp_path: Path, header: bytes, message: str) -> None:
    (tmp_path / "ckpt.index").write_bytes(build_table([(b"", header)]))
    with pytest.raises(UnsupportedFormatError, match=message):
        CheckpointReader(tmp_path / "ckpt")


def test_keys_out_of_order(tmp_path: Path) -> None:
    entry = encode_entry(BundleEntry(1, (0,)))
    table = build_table([(b"", encode_header(1)), (b"b", entry), (b"a", entry)])
    (tmp_path / "ckpt.index").write_bytes(table)
    with pytest.raises(FormatError, match="keys out of order in data block 0"):
        CheckpointReader(tmp_path / "ckpt")


def test_string_tensor_is_listed_not_read(tutorial: Path) -> None:
    reader = CheckpointReader(tutorial)
    assert reader.variables()["_CHECKPOINTABLE_OBJECT_GRAPH"].dtype == "string"
    with pytest.raises(UnsupportedFormatError, match="is a string tensor; only numeric"):
        reader.read("_CHECKPOINTABLE_OBJECT_GRAPH")


def test_complex_tensor_has_no_float32_form(tmp_path: Path) -> None:
    with BundleWriter(tmp_path / "ckpt") as writer:
        writer.add("c", np.array([[1 + 2j]], np.complex64))
    with pytest.raises(UnsupportedFormatError, match="complex numbers have no float32 form"):
        CheckpointReader(tmp_path / "ckpt").read_float32("c")


@pytest.mark.parametrize("name", ["embeding", "embedding:0", "embedding/.ATTRIBUTES/VALUE"])
def test_unknown_tensor_suggests_a_name(tutorial: Path, name: str) -> None:
    with pytest.raises(NotFoundError, match=f"no tensor '{name}'; did you mean '{EMB}'"):
        CheckpointReader(tutorial).read(name)


def write_with(tmp_path: Path, *entries: tuple[bytes, BundleEntry]) -> CheckpointReader:
    """A checkpoint whose index holds ``entries`` over an 80-byte data file of zeros."""
    (tmp_path / "ckpt.data-00000-of-00001").write_bytes(bytes(80))
    items = [(b"", encode_header(1)), *sorted((k, encode_entry(e)) for k, e in entries)]
    (tmp_path / "ckpt.index").write_bytes(build_table(items))
    return CheckpointReader(tmp_path / "ckpt")


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            BundleEntry(1, (3, 4), size=40),
            "is 40 bytes in the index, but shape .3, 4. of float32 takes 48",
        ),
        (BundleEntry(1, (30, 4), size=480), "extends past the end of the data file .80 bytes."),
        (BundleEntry(1, (2,), shard_id=1, size=8), "is in data file 1, but the checkpoint has 1"),
        (BundleEntry(1, None), "has an unknown rank"),
        (BundleEntry(1, (-1, 4)), "has a negative dimension"),
        (BundleEntry(1, (2,), offset=-8, size=8), "has a negative offset"),
    ],
)
def test_inconsistent_entry(tmp_path: Path, entry: BundleEntry, message: str) -> None:
    with pytest.raises(FormatError, match=message):
        write_with(tmp_path, (b"t", entry)).read("t")


def test_slices_with_a_gap(tmp_path: Path) -> None:
    array = np.arange(20, dtype=np.float32).reshape(4, 5)
    with BundleWriter(tmp_path / "ckpt") as writer:
        writer.add_partitioned("emb", array, [((0, 2), (0, 5)), ((2, 2), (0, 5))], shards=[0, 0])
        full = writer.entries[b"emb"]
        writer.entries[b"emb"] = BundleEntry(1, (5, 5), slices=full.slices)
    with pytest.raises(FormatError, match="cover 20 of its 25 elements: a slice is missing"):
        CheckpointReader(tmp_path / "ckpt").read("emb")


def test_listed_slice_without_entry(tmp_path: Path) -> None:
    array = np.arange(20, dtype=np.float32).reshape(4, 5)
    with BundleWriter(tmp_path / "ckpt") as writer:
        writer.add_partitioned("emb", array, [((0, 2), (0, 5)), ((2, 2), (0, 5))], shards=[0, 0])
        del writer.entries[min(k for k in writer.entries if k.startswith(b"\x00"))]
    with pytest.raises(FormatError, match=r"slice \[0:2, 0:5\] of tensor 'emb' is listed but has"):
        CheckpointReader(tmp_path / "ckpt").read("emb")


def test_overlapping_slices(tmp_path: Path) -> None:
    array = np.arange(20, dtype=np.float32).reshape(4, 5)
    with BundleWriter(tmp_path / "ckpt") as writer:
        writer.add_partitioned("emb", array, [((0, 3), (0, 5)), ((1, 3), (0, 5))], shards=[0, 0])
    with pytest.raises(
        FormatError, match=r"slices \[0:3, 0:5\] and \[1:4, 0:5\] of tensor 'emb' overlap"
    ):
        CheckpointReader(tmp_path / "ckpt").read("emb")


def test_slices_sharing_bytes(tmp_path: Path) -> None:
    array = np.arange(20, dtype=np.float32).reshape(4, 5)
    with BundleWriter(tmp_path / "ckpt") as writer:
        writer.add_partitioned("emb", array, [((0, 2), (0, 5)), ((2, 2), (0, 5))], shards=[0, 0])
        _, second = sorted(k for k in writer.entries if k.startswith(b"\x00"))
        writer.entries[second] = replace(writer.entries[second], offset=4)
    with pytest.raises(
        FormatError, match="two slices of tensor 'emb' share bytes at byte offset 4"
    ):
        CheckpointReader(tmp_path / "ckpt").read("emb")


def test_slice_outside_its_tensor(tmp_path: Path) -> None:
    slices = ((Extent(0, 2), Extent(3, 4)),)
    reader = write_with(tmp_path, (b"emb", BundleEntry(1, (2, 5), slices=slices)))
    with pytest.raises(FormatError, match=r"slice \[0:2, 3:7\] of tensor 'emb' lies outside"):
        reader.read("emb")


def test_error_types_share_one_base() -> None:
    for error in (FormatError, ChecksumError, UnsupportedFormatError, NotFoundError):
        assert issubclass(error, ProjectorError)

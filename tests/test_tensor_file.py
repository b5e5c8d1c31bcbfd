"""Vectors in ``tensor_path`` files: TSV and raw float32 (SPEC §2.4)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from embedding_projector.errors import FormatError, NotFoundError
from embedding_projector.formats.tensor_file import (
    is_text_file,
    open_tensor_file,
    raw_float32_layout,
    read_tensor_tsv,
)
from tests.conftest import expected


def test_fixture_tsv_reads_exactly(fixtures_dir: Path) -> None:
    vectors = read_tensor_tsv(fixtures_dir / "tensor_tsv" / "tensors.tsv")
    np.testing.assert_array_equal(vectors, expected("tensor_tsv__tsv_vectors").astype(np.float32))


def test_fixture_ragged_tsv_names_file_and_line(fixtures_dir: Path) -> None:
    path = fixtures_dir / "tensor_tsv_ragged" / "t.tsv"
    with pytest.raises(FormatError) as info:
        read_tensor_tsv(path)
    message = str(info.value)
    assert message.startswith(f"{path}: line ")
    assert "values but line 1 has" in message


def test_fixture_raw_bytes(fixtures_dir: Path) -> None:
    source = open_tensor_file(fixtures_dir / "tensor_bytes" / "tensor.bytes", [64, 8])
    assert source.shape == (64, 8)
    np.testing.assert_array_equal(source.read(), expected("tensor_bytes__bytes_vectors"))
    assert isinstance(source.read(), np.memmap)
    np.testing.assert_array_equal(
        np.concatenate([b.copy() for b in source.blocks()]), source.read()
    )


def test_blank_lines_are_skipped_and_line_numbers_kept(tmp_path: Path) -> None:
    path = tmp_path / "t.tsv"
    path.write_text("1\t2\n\n3\t4\n\n5\tx\n")
    with pytest.raises(FormatError, match=r"line 5, column 2: 'x' is not a number"):
        read_tensor_tsv(path)


def test_empty_cell_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "t.tsv"
    path.write_text("1\t2\n3\t\n")
    with pytest.raises(FormatError, match=r"line 2, column 2: is empty"):
        read_tensor_tsv(path)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "t.tsv"
    path.write_text("\n\n")
    with pytest.raises(FormatError, match="holds no vectors"):
        read_tensor_tsv(path)


def test_raw_size_mismatch_names_the_shape(tmp_path: Path) -> None:
    path = tmp_path / "t.bytes"
    path.write_bytes(np.zeros(10, "<f4").tobytes())
    with pytest.raises(FormatError, match=r"holds 40 bytes but `tensor_shape` \[3, 4\]"):
        raw_float32_layout(path, [3, 4])


def test_binary_without_shape_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "t.bytes"
    path.write_bytes(np.arange(8, dtype="<f4").tobytes())
    assert not is_text_file(path)
    with pytest.raises(FormatError, match="must give 2 positive sizes"):
        open_tensor_file(path, [])


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="file not found"):
        open_tensor_file(tmp_path / "nope.tsv")


@settings(max_examples=100, deadline=None)
@given(
    hnp.arrays(
        np.float32,
        hnp.array_shapes(min_dims=2, max_dims=2, max_side=12),
        elements=st.floats(width=32, allow_nan=False, allow_infinity=False),
    )
)
def test_tsv_round_trip(tmp_path_factory: pytest.TempPathFactory, array: np.ndarray) -> None:
    path = tmp_path_factory.mktemp("tsv") / "t.tsv"
    # repr of a float32 value round-trips exactly, as TensorBoard's writers rely on.
    path.write_text("\n".join("\t".join(repr(float(v)) for v in row) for row in array) + "\n")
    np.testing.assert_array_equal(read_tensor_tsv(path), array)

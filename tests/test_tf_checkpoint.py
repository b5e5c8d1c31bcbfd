"""The native checkpoint reader on checkpoints written by real TensorFlow 2.21."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from embedding_projector.formats.tf_checkpoint import CheckpointReader, TensorInfo, prefix_of
from tests.conftest import FIXTURES, expected

DATA = Path(__file__).parent / "data" / "checkpoints"

# (checkpoint prefix in the fixtures, tensor, expected array name)
FIXTURE_TENSORS = [
    ("tf2_keras_tutorial/embedding.ckpt-1", "embedding", "tf2_keras_tutorial"),
    (
        "tf2_two_embeddings_sprite/model.ckpt-1",
        "word_vectors",
        "tf2_two_embeddings_sprite__word_vectors",
    ),
    (
        "tf2_two_embeddings_sprite/model.ckpt-1",
        "doc_vectors",
        "tf2_two_embeddings_sprite__doc_vectors_float64",
    ),
    ("tf1_saver/model.ckpt-1000", "word_embedding", "tf1_saver__word_embedding"),
    ("tf1_saver/model.ckpt-1000", "scope/other_embedding", "tf1_saver__scope_other_embedding"),
    ("tf2_sharded/sharded.ckpt-1", "emb_a", "tf2_sharded__emb_a"),
    ("tf2_sharded/sharded.ckpt-1", "emb_b", "tf2_sharded__emb_b"),
    ("multi_run_no_events/run_a/emb.ckpt-1", "emb", "multi_run_no_events__run_a__emb"),
    ("multi_run_no_events/run_b/emb.ckpt-1", "emb", "multi_run_no_events__run_b__emb"),
]
TF2_SUFFIX = "/.ATTRIBUTES/VARIABLE_VALUE"


def key(prefix: str, tensor: str) -> str:
    """TF2 checkpoints key variables by object path; TF1 ones by plain name."""
    return tensor if prefix.startswith("tf1") else tensor + TF2_SUFFIX


@pytest.mark.parametrize(("prefix", "tensor", "array"), FIXTURE_TENSORS)
def test_fixture_tensors_equal_expected(prefix: str, tensor: str, array: str) -> None:
    want = expected(array)
    got = CheckpointReader(FIXTURES / prefix).read(key(prefix, tensor))
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize(
    "index", sorted(FIXTURES.rglob("*.index")), ids=lambda p: str(p.relative_to(FIXTURES))
)
def test_every_fixture_checkpoint_reads_whole(index: Path) -> None:
    reader = CheckpointReader(index)
    for name, info in reader.variables().items():
        if info.dtype != "string":
            array = reader.read(name)
            assert (array.dtype.name, array.shape) == (info.dtype, info.shape)


def test_tutorial_listing_matches_checkpoint_format_doc() -> None:
    reader = CheckpointReader(FIXTURES / "tf2_keras_tutorial" / "embedding.ckpt-1.index")
    assert reader.variables() == {
        "_CHECKPOINTABLE_OBJECT_GRAPH": TensorInfo("_CHECKPOINTABLE_OBJECT_GRAPH", "string", ()),
        "embedding" + TF2_SUFFIX: TensorInfo("embedding" + TF2_SUFFIX, "float32", (999, 16)),
        "save_counter" + TF2_SUFFIX: TensorInfo("save_counter" + TF2_SUFFIX, "int64", ()),
    }
    assert reader.read("save_counter" + TF2_SUFFIX) == 1


def test_sharded_listing_hides_slice_keys() -> None:
    reader = CheckpointReader(FIXTURES / "tf2_sharded" / "sharded.ckpt-1")
    variables = reader.variables()
    assert list(variables) == [
        "_CHECKPOINTABLE_OBJECT_GRAPH",
        "emb_a" + TF2_SUFFIX,
        "emb_b" + TF2_SUFFIX,
        "save_counter" + TF2_SUFFIX,
    ]
    assert variables["emb_a" + TF2_SUFFIX] == TensorInfo(
        "emb_a" + TF2_SUFFIX, "float32", (500, 16), partitioned=True
    )
    assert reader.num_shards == 3


def test_tf1_listing_in_key_order() -> None:
    reader = CheckpointReader(FIXTURES / "tf1_saver" / "model.ckpt-1000")
    listing = {name: (info.dtype, info.shape) for name, info in reader.variables().items()}
    assert listing == {
        "bias": ("float32", (20,)),
        "global_step": ("int64", ()),
        "scope/other_embedding": ("float32", (25, 7)),
        "word_embedding": ("float32", (300, 20)),
    }


def test_float32_read_is_a_zero_copy_view_of_the_data_file() -> None:
    reader = CheckpointReader(FIXTURES / "tf2_keras_tutorial" / "embedding.ckpt-1")
    vectors = reader.read_float32("embedding" + TF2_SUFFIX)
    assert not vectors.flags.owndata and not vectors.flags.writeable
    assert vectors.base is not None


def test_read_float32_converts_other_dtypes() -> None:
    reader = CheckpointReader(FIXTURES / "tf2_two_embeddings_sprite" / "model.ckpt-1")
    vectors = reader.read_float32("doc_vectors" + TF2_SUFFIX)
    assert vectors.dtype == np.float32
    want = expected("tf2_two_embeddings_sprite__doc_vectors_as_served_float32")
    np.testing.assert_array_equal(vectors, want)


@pytest.mark.parametrize(
    ("given", "prefix"),
    [
        ("a/model.ckpt-1", "a/model.ckpt-1"),
        ("a/model.ckpt-1.index", "a/model.ckpt-1"),
        ("a/model.ckpt-1.data-00002-of-00003", "a/model.ckpt-1"),
        ("a/ckpt.v2", "a/ckpt.v2"),
    ],
)
def test_prefix_of(given: str, prefix: str) -> None:
    assert prefix_of(given) == Path(prefix)


REFERENCE = ["tf1_partitioned", "dtypes", "keras_model_optimizer", "optimizer_slots"]


@pytest.mark.parametrize("name", REFERENCE)
def test_reference_listing_matches_tensorflow(name: str) -> None:
    want = json.loads((DATA / name / "variables.json").read_text())
    reader = CheckpointReader(DATA / name / "ckpt")
    got = {
        info.name: {"dtype": info.dtype, "shape": list(info.shape)}
        for info in reader.variables().values()
    }
    assert got == want


@pytest.mark.parametrize("name", REFERENCE)
def test_reference_tensors_equal_tensorflow(name: str) -> None:
    reader = CheckpointReader(DATA / name / "ckpt")
    with np.load(DATA / name / "expected.npz") as arrays:
        want = {key.replace("__", "/"): arrays[key] for key in arrays.files}
    numeric = [n for n, info in reader.variables().items() if info.dtype != "string"]
    assert sorted(numeric) == sorted(want)
    for tensor in numeric:
        got = reader.read(tensor)
        assert got.dtype == want[tensor].dtype, tensor
        np.testing.assert_array_equal(got, want[tensor], err_msg=tensor)


def test_partitioned_tf1_variable_is_joined() -> None:
    reader = CheckpointReader(DATA / "tf1_partitioned" / "ckpt")
    assert reader.variables()["part_embedding"].partitioned
    assert reader.read("part_embedding").shape == (90, 6)


def test_bfloat16_reads_as_float32() -> None:
    reader = CheckpointReader(DATA / "dtypes" / "ckpt")
    assert reader.variables()["bf16"].dtype == "bfloat16"
    bf16, f32 = reader.read("bf16"), reader.read("f32")
    assert bf16.dtype == np.float32
    np.testing.assert_allclose(bf16, f32, rtol=2**-8)


def test_two_block_index_written_by_tensorflow() -> None:
    reader = CheckpointReader(DATA / "many_keys" / "ckpt")
    names = list(reader.variables())
    assert names == [f"k/{2 * i:05d}/" + "x" * 200 for i in range(1200)]
    for i in (0, 1187, 1188, 1189, 1199):
        assert reader.read(names[i]) == i

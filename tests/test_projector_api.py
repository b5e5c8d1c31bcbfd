"""The TensorBoard-compatible API: message classes, visualize_embeddings, save_embeddings."""

from __future__ import annotations

import io
import logging
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image

import embedding_projector
from embedding_projector import projector
from embedding_projector.errors import FormatError, InvalidParameterError
from embedding_projector.formats.projector_config import read_projector_config

from .conftest import FIXTURES, expected

TUTORIAL = FIXTURES / "tf2_keras_tutorial"


def tensorboard_reads_tensor(path: Path, shape: list[int]) -> np.ndarray:
    """What TensorBoard 2.21 reads from ``tensor_path``: TSV text, else raw float32."""
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        return np.fromfile(path, dtype="float32").reshape(shape)
    rows = [[float(x) for x in line.split("\t")] for line in text.split("\n") if line]
    return np.array(rows, dtype="float32")


def tensorboard_reads_metadata(data: bytes) -> tuple[list[str], list[list[str]]]:
    """Column names and rows as TensorBoard's projector page parses a metadata TSV."""
    columns, rows = ["label"], []
    for line in data.decode("utf-8").split("\n"):
        if not line.strip():
            continue
        if not rows and columns == ["label"] and "\t" in line:
            columns = line.split("\t")
            continue
        rows.append(line.split("\t"))
    return columns, rows


def _saved(logdir: Path, info: Any) -> dict[str, Any]:
    """What a reader finds for ``info``: vectors, metadata columns and rows, atlas pixels."""
    found: dict[str, Any] = {
        "vectors": tensorboard_reads_tensor(logdir / info.tensor_path, list(info.tensor_shape))
    }
    if info.metadata_path:
        found["metadata"] = tensorboard_reads_metadata((logdir / info.metadata_path).read_bytes())
    if info.sprite.image_path:
        found["atlas"] = np.asarray(Image.open(logdir / info.sprite.image_path))
    return found


# --- message classes and visualize_embeddings --------------------------------------------


def test_reference_workflow_writes_tensorboards_config(tmp_path: Path) -> None:
    """SPEC §1 verbatim but for the import line; numpy stands in for the Keras weights."""
    log_dir = str(tmp_path / "logs")
    vocabulary = (TUTORIAL / "metadata.tsv").read_text().splitlines()
    weights = expected("tf2_keras_tutorial__full_keras_embedding_incl_row0")[1:]
    assert weights.shape == (999, 16)
    Path(log_dir).mkdir()
    with open(Path(log_dir) / "metadata.tsv", "w") as f:
        for word in vocabulary:
            f.write(f"{word}\n")
    # checkpoint.save(...) needs TensorFlow: take the files it wrote for the fixture.
    for path in TUTORIAL.glob("*ckpt*"):
        shutil.copy(path, log_dir)
    shutil.copy(TUTORIAL / "checkpoint", log_dir)
    config = projector.ProjectorConfig()
    embedding = config.embeddings.add()
    embedding.tensor_name = "embedding/.ATTRIBUTES/VARIABLE_VALUE"
    embedding.metadata_path = "metadata.tsv"
    projector.visualize_embeddings(log_dir, config)

    written = sorted(p.name for p in Path(log_dir).iterdir())
    assert written == sorted(p.name for p in TUTORIAL.iterdir())
    for name in written:
        assert (Path(log_dir) / name).read_bytes() == (TUTORIAL / name).read_bytes(), name


def test_message_classes_have_tensorboards_fields() -> None:
    config = projector.ProjectorConfig(model_checkpoint_path="ckpt-1")
    config.model_checkpoint_dir = "ckpts"
    embedding = config.embeddings.add(tensor_name="t")
    embedding.tensor_shape.extend([3, 2])
    embedding.bookmarks_path = "b.json"
    embedding.tensor_path = "t.bytes"
    embedding.sprite.image_path = "s.png"
    embedding.sprite.single_image_dim.extend([4, 5])
    other = projector.EmbeddingInfo(tensor_name="u", sprite=projector.SpriteMetadata())
    config.embeddings.append(other)
    assert [e.tensor_name for e in config.embeddings] == ["t", "u"]
    assert config.embeddings[1].HasField("sprite")
    with pytest.raises(AttributeError):
        embedding.no_such_field = 1


def test_visualize_embeddings_creates_the_logdir(tmp_path: Path) -> None:
    logdir = tmp_path / "a" / "b"
    config = projector.ProjectorConfig()
    config.embeddings.add(tensor_name="x")
    projector.visualize_embeddings(logdir, config)
    assert (
        logdir / "projector_config.pbtxt"
    ).read_text() == 'embeddings {\n  tensor_name: "x"\n}\n'


def test_visualize_embeddings_accepts_a_summary_writer(tmp_path: Path) -> None:
    class Writer:  # tf.compat.v1.summary.FileWriter and torch's SummaryWriter have this
        def get_logdir(self) -> str:
            return str(tmp_path)

    projector.visualize_embeddings(Writer(), projector.ProjectorConfig())
    assert (tmp_path / "projector_config.pbtxt").read_bytes() == b""


def test_top_level_export_is_lazy() -> None:
    assert embedding_projector.save_embeddings is projector.save_embeddings
    code = "import sys, embedding_projector; print('google.protobuf' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr


# --- save_embeddings: what it writes --------------------------------------------------------


def test_vectors_metadata_and_sprite_are_read_back_exactly(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(30, 7))
    images = rng.integers(0, 256, size=(30, 5, 4, 3), dtype=np.uint8)
    metadata = {"word": [f"w{i}" for i in range(30)], "count": list(range(30))}
    info = projector.save_embeddings(tmp_path, "words", vectors, metadata, images)

    assert info == read_projector_config(tmp_path / "projector_config.pbtxt").embeddings[0]
    assert info.tensor_name == "words"
    assert info.tensor_path == "words/tensor.bytes"
    assert list(info.tensor_shape) == [30, 7]
    assert info.metadata_path == "words/metadata.tsv"
    assert info.sprite.image_path == "words/sprite.png"
    assert list(info.sprite.single_image_dim) == [4, 5]
    found = _saved(tmp_path, info)
    np.testing.assert_array_equal(found["vectors"], vectors.astype(np.float32))
    assert (tmp_path / info.tensor_path).read_bytes() == vectors.astype("<f4").tobytes()
    columns, rows = found["metadata"]
    assert columns == ["word", "count"]
    assert rows == [[f"w{i}", str(i)] for i in range(30)]
    atlas = found["atlas"]
    grid_columns = atlas.shape[1] // 4
    assert atlas.shape[1] % 4 == 0 and atlas.shape[0] % 5 == 0
    for index in range(30):
        row, column = divmod(index, grid_columns)
        cell = atlas[row * 5 : row * 5 + 5, column * 4 : column * 4 + 4]
        np.testing.assert_array_equal(cell, images[index])


def test_single_column_metadata_has_no_header(tmp_path: Path) -> None:
    labels = ["a", "b", "c"]
    info = projector.save_embeddings(tmp_path, "x", np.eye(3, 2), metadata=labels)
    assert (tmp_path / info.metadata_path).read_bytes() == b"a\nb\nc\n"
    info = projector.save_embeddings(tmp_path, "y", np.eye(3, 2), metadata={"only": labels})
    assert (tmp_path / info.metadata_path).read_bytes() == b"a\nb\nc\n"


@pytest.mark.parametrize(
    "table",
    [
        pd.DataFrame({"word": ["a", "b"], "score": [0.1, np.nan]}),
        pa.table({"word": ["a", "b"], "score": pa.array([0.1, None], pa.float32())}),
        {"word": np.array(["a", "b"]), "score": np.array([0.1, np.nan], np.float32)},
    ],
    ids=["pandas", "pyarrow", "numpy"],
)
def test_tables_get_a_header_and_missing_values_are_empty(tmp_path: Path, table: Any) -> None:
    info = projector.save_embeddings(tmp_path, "t", np.eye(2), metadata=table)
    assert (tmp_path / info.metadata_path).read_bytes() == b"word\tscore\na\t0.1\nb\t\n"


def test_series_and_pandas_nullable_values(tmp_path: Path) -> None:
    info = projector.save_embeddings(tmp_path, "s", np.eye(2), metadata=pd.Series(["p", "q"]))
    assert (tmp_path / info.metadata_path).read_bytes() == b"p\nq\n"
    table = pd.DataFrame(
        {
            "n": pd.Series([1, None], dtype="Int64"),
            "when": pd.to_datetime(["2024-01-02", None]),
            "name": ["a", "b"],
        }
    )
    info = projector.save_embeddings(tmp_path, "t", np.eye(2), metadata=table)
    assert (tmp_path / info.metadata_path).read_bytes() == (
        b"n\twhen\tname\n1\t2024-01-02 00:00:00\ta\n\t\tb\n"
    )


def test_tabs_and_newlines_are_replaced_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    metadata = {"text": ["one\ttwo", "three\r\nfour"], "n": [1, 2]}
    with caplog.at_level(logging.WARNING):
        info = projector.save_embeddings(tmp_path, "t", np.eye(2), metadata)
    assert (tmp_path / info.metadata_path).read_bytes() == b"text\tn\none two\t1\nthree  four\t2\n"
    assert "replaced tabs and line breaks with spaces in 2 values" in caplog.text


def test_raw_bytes_that_read_as_text_are_written_as_tsv(tmp_path: Path) -> None:
    # TensorBoard reads tensor_path as text first: all-zero float32 bytes are valid UTF-8.
    vectors = np.array([[0.0, 0.5], [2.0, 0.0]], dtype=np.float32)
    info = projector.save_embeddings(tmp_path, "z", vectors)
    assert info.tensor_path == "z/tensor.tsv"
    assert list(info.tensor_shape) == [2, 2]
    assert (tmp_path / info.tensor_path).read_text() == "0\t0.5\n2\t0\n"
    np.testing.assert_array_equal(_saved(tmp_path, info)["vectors"], vectors)


_tricky_floats = st.sampled_from([0.0, 0.5, 2.0, 8.0, 0.125, 1.0, -1.0, 1e-38, 3.4e38])


@settings(max_examples=60, deadline=None)
@given(
    hnp.arrays(
        np.float32,
        st.tuples(st.integers(1, 6), st.integers(1, 4)),
        elements=_tricky_floats | st.floats(width=32, allow_nan=False, allow_infinity=False),
    )
)
def test_tensorboard_reads_any_vectors_exactly(vectors: np.ndarray) -> None:
    with tempfile.TemporaryDirectory() as folder:
        info = projector.save_embeddings(folder, "v", vectors)
        np.testing.assert_array_equal(_saved(Path(folder), info)["vectors"], vectors)


@pytest.mark.parametrize(
    "vectors",
    [
        [[1, 2], [3, 4]],
        np.array([[1, 2], [3, 4]], dtype=np.int64),
        np.array([[1, 2], [3, 4]], dtype=np.float64)[:, ::-1][:, ::-1],
        np.asfortranarray(np.array([[1.0, 2.0], [3.0, 4.0]])),
    ],
    ids=["lists", "int64", "view", "fortran"],
)
def test_array_likes(tmp_path: Path, vectors: Any) -> None:
    info = projector.save_embeddings(tmp_path, "v", vectors)
    np.testing.assert_array_equal(_saved(tmp_path, info)["vectors"], [[1, 2], [3, 4]])


def test_tensor_like_objects_go_through_numpy(tmp_path: Path) -> None:
    class FakeTorchTensor:  # requires_grad, on a GPU: must be detached and moved first
        def __init__(self, data: np.ndarray, ready: bool = False) -> None:
            self.data, self.ready = data, ready

        def detach(self) -> FakeTorchTensor:
            return FakeTorchTensor(self.data)

        def cpu(self) -> FakeTorchTensor:
            return FakeTorchTensor(self.data, ready=True)

        def numpy(self) -> np.ndarray:
            assert self.ready, "numpy() before detach().cpu()"
            return self.data

    vectors = np.arange(6, dtype=np.float32).reshape(3, 2)
    images = FakeTorchTensor(np.zeros((3, 2, 2), np.uint8))
    info = projector.save_embeddings(tmp_path, "v", FakeTorchTensor(vectors), images=images)
    np.testing.assert_array_equal(_saved(tmp_path, info)["vectors"], vectors)


# --- save_embeddings and the existing config ---------------------------------------------


def test_existing_entries_and_settings_are_kept(tmp_path: Path) -> None:
    source = FIXTURES / "tf2_two_embeddings_sprite" / "projector_config.pbtxt"
    original = read_projector_config(source)
    original.model_checkpoint_path = "model.ckpt-1"
    projector.visualize_embeddings(tmp_path, original)

    projector.save_embeddings(tmp_path, "new", np.eye(3))
    config = read_projector_config(tmp_path / "projector_config.pbtxt")
    assert config.model_checkpoint_path == "model.ckpt-1"
    assert list(config.embeddings)[:2] == list(original.embeddings)
    assert [e.tensor_name for e in config.embeddings][2:] == ["new"]


def test_duplicate_name_is_refused_without_overwrite(tmp_path: Path) -> None:
    projector.save_embeddings(tmp_path, "v", np.eye(2), metadata=["a", "b"])
    before = (tmp_path / "projector_config.pbtxt").read_bytes()
    with pytest.raises(InvalidParameterError, match=r"'v' already exists.*overwrite=True"):
        projector.save_embeddings(tmp_path, "v", np.eye(3))
    assert (tmp_path / "projector_config.pbtxt").read_bytes() == before
    assert (tmp_path / "v" / "metadata.tsv").read_bytes() == b"a\nb\n"


def test_existing_folder_is_refused_without_overwrite(tmp_path: Path) -> None:
    (tmp_path / "v").mkdir()
    with pytest.raises(InvalidParameterError, match="v already exists; pass overwrite=True"):
        projector.save_embeddings(tmp_path, "v", np.eye(2))


def test_overwrite_replaces_in_place_and_removes_stale_files(tmp_path: Path) -> None:
    projector.save_embeddings(tmp_path, "a", np.eye(2))
    projector.save_embeddings(tmp_path, "v", np.eye(2), ["x", "y"], np.zeros((2, 3, 3), np.uint8))
    projector.save_embeddings(tmp_path, "b", np.eye(2))
    info = projector.save_embeddings(tmp_path, "v", np.eye(4, 3) + 1, overwrite=True)
    config = read_projector_config(tmp_path / "projector_config.pbtxt")
    assert [e.tensor_name for e in config.embeddings] == ["a", "v", "b"]
    assert config.embeddings[1] == info
    assert sorted(p.name for p in (tmp_path / "v").iterdir()) == ["tensor.bytes"]


def test_overwrite_merges_duplicated_entries(tmp_path: Path) -> None:
    # tensorboardX appends to the config, so the same name can appear twice.
    config = projector.ProjectorConfig()
    for name in ("v", "w", "v"):
        config.embeddings.add(tensor_name=name)
    projector.visualize_embeddings(tmp_path, config)
    projector.save_embeddings(tmp_path, "v", np.eye(2), overwrite=True)
    names = [
        e.tensor_name for e in read_projector_config(tmp_path / "projector_config.pbtxt").embeddings
    ]
    assert names == ["v", "w"]


def test_another_embeddings_folder_is_never_overwritten(tmp_path: Path) -> None:
    projector.save_embeddings(tmp_path, "a b", np.eye(2))
    with pytest.raises(InvalidParameterError, match="holds the files of the embedding 'a b'"):
        projector.save_embeddings(tmp_path, "a_b", np.eye(2), overwrite=True)


def test_broken_config_is_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "projector_config.pbtxt"
    path.write_text("embeddings { nonsense: 1 }\n")
    with pytest.raises(FormatError, match="line 1, column 14"):
        projector.save_embeddings(tmp_path, "v", np.eye(2))
    assert path.read_text() == "embeddings { nonsense: 1 }\n"
    assert not (tmp_path / "v").exists()


@pytest.mark.parametrize(
    ("name", "folder"),
    [
        ("word vectors/v1", "word_vectors_v1"),
        ("words:00000", "words_00000"),
        ("日本語", "日本語"),
        (".hidden", "hidden"),
    ],
)
def test_folder_names(tmp_path: Path, name: str, folder: str) -> None:
    info = projector.save_embeddings(tmp_path, name, np.eye(2))
    assert info.tensor_name == name
    assert info.tensor_path == f"{folder}/tensor.bytes"


@pytest.mark.parametrize("name", ["", "..", "...", None, b"v"])
def test_unusable_names(tmp_path: Path, name: Any) -> None:
    with pytest.raises(InvalidParameterError, match="`name`"):
        projector.save_embeddings(tmp_path, name, np.eye(2))


# --- save_embeddings: bad input ----------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"vectors": [[1, 2], [3]]}, "rows of equal length"),
        (
            {"vectors": [[1.0, np.nan]]},
            "NaN or infinite values .* in 1 rows, the first being row 0",
        ),
        ({"vectors": [[1.0, 2.0], [np.inf, 0]]}, "the first being row 1"),
        ({"vectors": [[1e300, 0.0]]}, r"NaN or infinite values \(as float32\)"),
        ({"vectors": np.zeros((2, 3, 4))}, r"must be N x D .* got shape \(2, 3, 4\)"),
        ({"vectors": np.zeros(5)}, r"got shape \(5,\)"),
        ({"vectors": np.zeros((0, 5))}, r"got shape \(0, 5\)"),
        ({"vectors": [["a", "b"]]}, "must hold numbers, got dtype <U1"),
        ({"vectors": np.eye(2, dtype=bool)}, "must hold numbers, got dtype bool"),
        ({"metadata": ["a", "b"]}, "`metadata` has 2 rows but there are 3 vectors"),
        ({"metadata": {"a": [1, 2, 3], "b": [1, 2]}}, "column 'b' of `metadata` has 2 rows"),
        ({"metadata": "abc"}, "got a string"),
        ({"metadata": {}}, "has no columns"),
        ({"metadata": pd.DataFrame([[1, 2]] * 3, columns=["a", "a"])}, "two columns named 'a'"),
        ({"metadata": np.zeros((3, 2))}, "holds lists"),
        ({"metadata": ["a", None, "c"]}, "row 1 of `metadata` is blank"),
        ({"metadata": {"a": ["x", "", "z"], "b": [1, None, 3]}}, "row 1 of `metadata` is blank"),
        ({"images": np.zeros((2, 4, 4), np.uint8)}, "`images` has 2 images but there are 3"),
        ({"images": np.zeros((3, 4), np.uint8)}, r"got shape \(3, 4\)"),
        ({"images": np.zeros((3, 3, 8, 8), np.uint8)}, "channels first"),
    ],
)
def test_bad_input_is_refused_before_anything_is_written(
    tmp_path: Path, kwargs: dict[str, Any], message: str
) -> None:
    arguments: dict[str, Any] = {"vectors": np.eye(3, 2)} | kwargs
    with pytest.raises(InvalidParameterError, match=message):
        projector.save_embeddings(tmp_path / "logs", "v", **arguments)
    assert not (tmp_path / "logs").exists()


def test_metadata_values_are_formatted_for_reading(tmp_path: Path) -> None:
    metadata = {
        "f32": np.array([0.1, 1e-8, 3.0], np.float32),
        "f64": [0.1, 1 / 3, float("nan")],
        "mixed": [True, 7, "x"],
    }
    info = projector.save_embeddings(tmp_path, "v", np.eye(3), metadata)
    lines = (tmp_path / info.metadata_path).read_text().split("\n")
    assert lines == [
        "f32\tf64\tmixed",
        "0.1\t0.1\tTrue",
        "1e-08\t0.3333333333333333\t7",
        "3.0\t\tx",
        "",
    ]


def test_atlas_of_saved_images_round_trips(tmp_path: Path) -> None:
    images = np.linspace(0, 1, 3 * 2 * 2).reshape(3, 2, 2)
    info = projector.save_embeddings(tmp_path, "v", np.eye(3), images=images)
    atlas = np.asarray(Image.open(io.BytesIO((tmp_path / info.sprite.image_path).read_bytes())))
    assert atlas.shape == (4, 4)
    np.testing.assert_array_equal(atlas[:2, :2], np.round(images[0] * 255))

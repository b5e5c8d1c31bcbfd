"""projector_config.pbtxt and checkpoint state files: parsing, writing, errors, atomic writes."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from google.protobuf import text_format
from hypothesis import given, settings
from hypothesis import strategies as st

from embedding_projector.errors import (
    FormatError,
    InsufficientStorageError,
    NotFoundError,
    ProjectorError,
)
from embedding_projector.formats.atomic import write_atomic
from embedding_projector.formats.projector_config import (
    read_checkpoint_state,
    read_projector_config,
    write_projector_config,
)
from embedding_projector.formats.protos import EmbeddingInfo, ProjectorConfig, SpriteMetadata

from .conftest import FIXTURES

CONFIGS = sorted(FIXTURES.rglob("projector_config.pbtxt"))
STATE_FILES = sorted(FIXTURES.rglob("checkpoint"))


def test_fixtures_are_found() -> None:
    assert len(CONFIGS) >= 12
    assert len(STATE_FILES) >= 8


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: str(p.relative_to(FIXTURES).parent))
def test_fixture_config_round_trips_byte_for_byte(path: Path, tmp_path: Path) -> None:
    config = read_projector_config(path)
    assert len(config.embeddings) >= 1
    written = write_projector_config(tmp_path, config)
    # Every fixture config was written by TensorBoard's API or PyTorch (both text_format).
    assert written.read_bytes() == path.read_bytes()
    assert read_projector_config(written) == config


def test_fixture_fields_are_read() -> None:
    config = read_projector_config(
        FIXTURES / "tf2_two_embeddings_sprite" / "projector_config.pbtxt"
    )
    words, docs = config.embeddings
    assert words.tensor_name == "word_vectors/.ATTRIBUTES/VARIABLE_VALUE"
    assert words.bookmarks_path == "bookmarks.json"
    assert words.sprite.image_path == "sprite.png"
    assert list(words.sprite.single_image_dim) == [16, 16]
    assert docs.metadata_path == "docs.tsv"
    assert not docs.HasField("sprite")
    shape = read_projector_config(FIXTURES / "tensor_bytes" / "projector_config.pbtxt")
    assert list(shape.embeddings[0].tensor_shape) == [64, 8]


def test_tensor_shape_is_packed_like_tensorboards_proto3() -> None:
    # Bytes produced by TensorBoard 2.21's projector_config_pb2 for tensor_shape [64, 8].
    assert EmbeddingInfo(tensor_shape=[64, 8]).SerializeToString() == b'"\x02@\x08'


@pytest.mark.parametrize("path", STATE_FILES, ids=lambda p: str(p.relative_to(FIXTURES).parent))
def test_fixture_checkpoint_state_files_parse(path: Path) -> None:
    state = read_checkpoint_state(path)
    assert state.model_checkpoint_path
    assert state.model_checkpoint_path == state.all_model_checkpoint_paths[-1]


def test_checkpoint_state_keeps_foreign_absolute_paths() -> None:
    state = read_checkpoint_state(FIXTURES / "tf1_saver" / "checkpoint")
    assert state.model_checkpoint_path == "/data/experiments/tf1_saver/model.ckpt-1000"


def test_checkpoint_state_timestamps(tmp_path: Path) -> None:
    path = tmp_path / "checkpoint"
    path.write_text(
        'model_checkpoint_path: "ckpt-2"\nall_model_checkpoint_paths: "ckpt-1"\n'
        'all_model_checkpoint_paths: "ckpt-2"\nall_model_checkpoint_timestamps: 1784015297.5\n'
        "all_model_checkpoint_timestamps: 1784015299.25\nlast_preserved_timestamp: 1784015297.0\n"
    )
    state = read_checkpoint_state(path)
    assert list(state.all_model_checkpoint_timestamps) == [1784015297.5, 1784015299.25]
    assert state.last_preserved_timestamp == 1784015297.0


def test_empty_file_is_an_empty_config(tmp_path: Path) -> None:
    path = tmp_path / "projector_config.pbtxt"
    path.write_bytes(b"")
    assert read_projector_config(path) == ProjectorConfig()


def test_unknown_field_names_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "projector_config.pbtxt"
    path.write_text('embeddings {\n  tensor_name: "a"\n  metdata_path: "m.tsv"\n}\n')
    with pytest.raises(FormatError) as caught:
        read_projector_config(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: line 3, column 3: not a projector config: ")
    assert 'no field named "metdata_path"' in message
    assert caught.value.path == str(path)


def test_syntax_error_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "projector_config.pbtxt"
    path.write_text('embeddings {\n  tensor_name: "a"\n')
    with pytest.raises(FormatError, match=r"line 2, column 16: .*Expected \"}\""):
        read_projector_config(path)


def test_wrong_value_type_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "projector_config.pbtxt"
    path.write_text("embeddings { tensor_shape: -3 }\n")
    with pytest.raises(FormatError, match="line 1, column 28"):
        read_projector_config(path)


def test_checkpoint_state_parse_error(tmp_path: Path) -> None:
    path = tmp_path / "checkpoint"
    path.write_text("model_checkpoint_path: ckpt-1\n")
    with pytest.raises(FormatError, match="line 1, column 24: not a checkpoint state file"):
        read_checkpoint_state(path)


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "projector_config.pbtxt"
    path.write_bytes(b'embeddings { tensor_name: "\xff" }')
    with pytest.raises(FormatError, match=r"not UTF-8 text .*offset 27"):
        read_projector_config(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="file not found"):
        read_projector_config(tmp_path / "projector_config.pbtxt")


def test_folder_instead_of_file(tmp_path: Path) -> None:
    with pytest.raises(ProjectorError, match="is a folder, expected a file"):
        read_projector_config(tmp_path)


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "projector_config.pbtxt"
    path.write_text("")
    real_open = os.open

    def denied(name: str | os.PathLike[str], *args: int) -> int:
        # Tests run as root, who may read anything: the refusal is the kernel's answer.
        if Path(name) == path:
            raise PermissionError(13, "Permission denied")
        return real_open(name, *args)

    monkeypatch.setattr(os, "open", denied)
    with pytest.raises(ProjectorError, match="permission denied: make the file readable"):
        read_projector_config(path)


# Strings as users write them: quotes, backslashes, unicode, control characters.
_text = st.text(
    alphabet=st.characters(exclude_categories=("Cs",)) | st.sampled_from("\"\\\n\t'{}:#"),
    max_size=12,
)
_dims = st.lists(st.integers(min_value=0, max_value=2**32 - 1), max_size=3)


@st.composite
def _embeddings(draw: st.DrawFn) -> object:
    entry = EmbeddingInfo(
        tensor_name=draw(_text),
        metadata_path=draw(_text),
        bookmarks_path=draw(_text),
        tensor_shape=draw(_dims),
        tensor_path=draw(_text),
    )
    if draw(st.booleans()):
        entry.sprite.CopyFrom(SpriteMetadata(image_path=draw(_text), single_image_dim=draw(_dims)))
    return entry


_configs = st.builds(
    lambda path, directory, entries: ProjectorConfig(
        model_checkpoint_path=path, model_checkpoint_dir=directory, embeddings=entries
    ),
    _text,
    _text,
    st.lists(_embeddings(), max_size=3),
)


@settings(max_examples=150, deadline=None)
@given(_configs)
def test_random_configs_round_trip(config: object) -> None:
    with tempfile.TemporaryDirectory() as folder:
        written = write_projector_config(folder, config)
        again = read_projector_config(written)
        assert again == config
        assert text_format.MessageToString(again).encode() == written.read_bytes()


def test_write_atomic_replaces_and_leaves_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"old")
    write_atomic(path, memoryview(b"new content"))
    assert path.read_bytes() == b"new content"
    assert [p.name for p in tmp_path.iterdir()] == ["f.bin"]


def test_write_atomic_into_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(ProjectorError, match="cannot write the file"):
        write_atomic(tmp_path / "missing" / "f.bin", b"x")


def test_write_atomic_failure_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"old")

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(InsufficientStorageError, match="its disk is full; free some space"):
        write_atomic(path, b"new")
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.bin"]

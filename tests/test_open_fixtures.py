"""Every fixture log dir opens exactly as TensorBoard 2.21 served it, without TensorFlow."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import embedding_projector
from embedding_projector.dataset.model import Embedding, Workspace
from tests.conftest import expected


def only(ws: Workspace, name: str) -> Embedding:
    matches = [e for e in ws if e.name == name]
    assert len(matches) == 1, [e.name for e in ws]
    return matches[0]


def test_keras_tutorial(fixtures_dir: Path) -> None:
    ws = embedding_projector.open(fixtures_dir / "tf2_keras_tutorial")
    assert [r.name for r in ws.runs] == ["."]
    emb = only(ws, "embedding")
    assert emb.tensor_name == "embedding/.ATTRIBUTES/VARIABLE_VALUE"
    assert emb.shape == (999, 16) and emb.dtype == "float32"
    assert emb.vectors.dtype == np.float32
    np.testing.assert_array_equal(emb.vectors, expected("tf2_keras_tutorial"))
    labels = emb.metadata.column("label").to_pylist()
    assert labels[:2] == ["tok_1", "tok_2"] and len(labels) == 999
    assert emb.warnings == [] and emb.sprite is None and emb.bookmarks == []


def test_two_embeddings_sprite_and_bookmarks(fixtures_dir: Path) -> None:
    ws = embedding_projector.open(fixtures_dir / "tf2_two_embeddings_sprite")
    words = only(ws, "word_vectors")
    np.testing.assert_array_equal(
        words.vectors, expected("tf2_two_embeddings_sprite__word_vectors")
    )
    assert words.metadata.column_names == ["word", "count", "class"]
    assert str(words.metadata.column("count").type) == "int64"
    assert words.sprite is not None
    assert words.sprite.single_image_dim == (16, 16)
    assert words.sprite.capacity >= 100
    assert len(words.bookmarks) >= 1 and words.bookmarks[0]["label"] == "PCA view from fixture"
    docs = only(ws, "doc_vectors")
    assert docs.dtype == "float64" and docs.shape == (40, 5)
    np.testing.assert_array_equal(
        docs.vectors, expected("tf2_two_embeddings_sprite__doc_vectors_as_served_float32")
    )
    assert docs.metadata.column("label").to_pylist()[0] == "doc 0"


def test_tensor_tsv_and_bytes(fixtures_dir: Path) -> None:
    tsv = only(embedding_projector.open(fixtures_dir / "tensor_tsv"), "tsv_vectors")
    np.testing.assert_array_equal(tsv.vectors, expected("tensor_tsv__tsv_vectors").astype("f4"))
    assert tsv.metadata.num_rows == tsv.shape[0]
    raw = only(embedding_projector.open(fixtures_dir / "tensor_bytes"), "bytes_vectors")
    np.testing.assert_array_equal(raw.vectors, expected("tensor_bytes__bytes_vectors"))


def test_runs_without_event_files(fixtures_dir: Path) -> None:
    ws = embedding_projector.open(fixtures_dir / "multi_run_no_events")
    assert [r.name for r in ws.runs] == ["run_a", "run_b"]
    for run in ws.runs:
        (emb,) = run.embeddings
        np.testing.assert_array_equal(
            emb.vectors, expected(f"multi_run_no_events__{run.name}__emb")
        )
        assert emb.metadata.num_rows == emb.shape[0]


def test_torch_add_embedding(fixtures_dir: Path) -> None:
    ws = embedding_projector.open(fixtures_dir / "torch_add_embedding")
    words = only(ws, "words:00000")
    np.testing.assert_array_equal(words.vectors, expected("torch_add_embedding__words"))
    assert words.metadata.num_columns > 1  # written with metadata_header
    images = only(ws, "images:00000")
    np.testing.assert_array_equal(images.vectors, expected("torch_add_embedding__images"))
    assert images.sprite is not None and images.sprite.capacity >= images.shape[0]


def test_tf1_saver_moved_log_dir(fixtures_dir: Path) -> None:
    ws = embedding_projector.open(fixtures_dir / "tf1_saver")
    word = only(ws, "word_embedding")
    np.testing.assert_array_equal(word.vectors, expected("tf1_saver__word_embedding"))
    assert word.metadata_path is not None
    other = only(ws, "scope/other_embedding")
    np.testing.assert_array_equal(other.vectors, expected("tf1_saver__scope_other_embedding"))
    assert ws.runs[0].warnings == []


def test_sharded_slices_reassembled(fixtures_dir: Path) -> None:
    ws = embedding_projector.open(fixtures_dir / "tf2_sharded")
    for name in ("emb_a", "emb_b"):
        np.testing.assert_array_equal(only(ws, name).vectors, expected(f"tf2_sharded__{name}"))


def test_metadata_row_mismatch_warns_and_pads(fixtures_dir: Path) -> None:
    emb = only(embedding_projector.open(fixtures_dir / "metadata_row_mismatch"), "emb")
    assert emb.metadata.num_rows == 15
    assert emb.metadata.column("label").to_pylist()[12:] == [None, None, None]
    (warning,) = emb.warnings
    assert "Number of tensors (15) do not match the number of lines in metadata (12)." in warning


def test_ragged_tensor_tsv_is_a_clear_run_warning(fixtures_dir: Path) -> None:
    with pytest.raises(embedding_projector.ProjectorError) as info:
        embedding_projector.open(fixtures_dir / "tensor_tsv_ragged")
    message = str(info.value)
    assert "t.tsv: line" in message and "every vector must have the same number" in message


def test_path_escape_refused_tensor_still_loads(fixtures_dir: Path) -> None:
    emb = only(embedding_projector.open(fixtures_dir / "path_escape"), "emb")
    assert emb.shape[0] > 0 and emb.vectors.shape == emb.shape
    assert emb.metadata_path is None and emb.bookmarks == []
    warnings = " ".join(emb.warnings)
    assert "`metadata_path` '../outside.tsv' resolves to" in warnings
    assert "`bookmarks_path` '/etc/hostname' resolves to" in warnings
    assert "outside the opened folder" in warnings


def test_whole_fixtures_folder_finds_every_run(fixtures_dir: Path) -> None:
    ws = embedding_projector.open(fixtures_dir)
    names = {r.name for r in ws.runs}
    assert {"multi_run_no_events/run_a", "tf2_keras_tutorial", "torch_add_embedding"} <= names

"""What ``projector.save_embeddings`` writes opens back exactly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

import embedding_projector
from embedding_projector import projector
from tests.conftest import FIXTURES, writable_copy


def test_round_trip_vectors_metadata_sprite(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(37, 9)).astype(np.float32)
    frame = pd.DataFrame({"word": [f"w{i}" for i in range(37)], "count": np.arange(37) * 3})
    images = rng.integers(0, 255, size=(37, 12, 20, 3), dtype=np.uint8)
    projector.save_embeddings(tmp_path, "words", vectors, metadata=frame, images=images)
    projector.save_embeddings(
        tmp_path, "labels only", vectors[:5], metadata=["a", "b", "c", "d", "e"]
    )

    ws = embedding_projector.open(tmp_path)
    words, labels = ws.runs[0].embeddings
    np.testing.assert_array_equal(words.vectors, vectors)
    assert words.metadata.to_pydict() == {
        "word": frame["word"].tolist(),
        "count": frame["count"].tolist(),
    }
    assert words.sprite is not None
    assert words.sprite.single_image_dim == (20, 12) and words.sprite.capacity >= 37
    assert words.warnings == []
    assert labels.metadata.column("label").to_pylist() == ["a", "b", "c", "d", "e"]


def test_added_beside_a_checkpoint_config_keeps_it(tmp_path: Path) -> None:
    writable_copy(FIXTURES / "tf2_keras_tutorial", tmp_path)
    projector.save_embeddings(tmp_path, "extra", np.eye(4, dtype=np.float32))
    ws = embedding_projector.open(tmp_path)
    assert [e.name for e in ws] == ["extra", "embedding"]
    assert ws.embeddings[1].metadata.column("label")[0].as_py() == "tok_1"

"""Steps of an embedding, on timelines written by TensorFlow, PyTorch and tensorboardX.

The fixtures (``tests/data/timeline``) are read-only; the bad-input cases damage a copy.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

import embedding_projector
from embedding_projector.dataset.model import Embedding
from embedding_projector.errors import ChecksumError, NotFoundError
from tests.conftest import writable_copy

TIMELINE = Path(__file__).parent / "data" / "timeline"


def expected(fixture: str, label: str) -> np.ndarray:
    """The exact array the library saved at that step."""
    return np.load(TIMELINE / "expected" / fixture / f"{label.replace(':', '_')}.npy")


def damaged_timeline(folder: Path) -> Path:
    """A copy of the timelines in ``folder``, with ckpt-5's data corrupt and ckpt-6 deleted
    (still in the state file)."""
    root = writable_copy(TIMELINE, folder)
    run = root / "tf2_checkpoint_manager"
    data = run / "ckpt-5.data-00000-of-00001"
    corrupt = bytearray(data.read_bytes())
    corrupt[100] ^= 0xFF
    data.write_bytes(bytes(corrupt))
    for path in run.glob("ckpt-6.*"):
        path.unlink()
    return root


def embeddings(path: Path) -> dict[str, Embedding]:
    return {e.name: e for e in embedding_projector.open(path)}


def test_checkpoint_manager_keeps_five_steps_in_order() -> None:
    (emb,) = embedding_projector.open(TIMELINE / "tf2_checkpoint_manager")
    assert emb.name == "embedding" and emb.tensor_name == "embedding/.ATTRIBUTES/VARIABLE_VALUE"
    assert [s.label for s in emb.steps] == ["ckpt-3", "ckpt-4", "ckpt-5", "ckpt-6", "ckpt-7"]
    assert [s.number for s in emb.steps] == [3, 4, 5, 6, 7]
    assert [s.position for s in emb.steps] == [0, 1, 2, 3, 4]
    assert [s.default for s in emb.steps] == [False] * 4 + [True]
    for step in emb.steps:
        assert step.available and step.alignable and step.message is None
        assert step.shape == (299, 16) and step.dtype == "float32"
        np.testing.assert_array_equal(step.vectors, expected("tf2_checkpoint_manager", step.label))
    # The embedding shows the latest checkpoint, as TensorBoard does, and reads it once.
    assert emb.steps[-1].vectors is emb.vectors
    assert emb.metadata.column(0).to_pylist()[:2] == ["pos_1", "pos_2"]
    assert not np.array_equal(emb.steps[0].vectors, emb.steps[-1].vectors)  # it trained


ADD_EMBEDDING = ["torch_add_embedding_steps", "tensorboardx_add_embedding_steps"]


@pytest.mark.parametrize("fixture", ADD_EMBEDDING)
def test_add_embedding_steps_are_one_embedding(fixture: str) -> None:
    found = embeddings(TIMELINE / fixture)
    words = found["words"]  # not four unrelated `words:000N0` embeddings
    assert words.tensor_name == "words" and words.shape == (200, 16)
    assert [s.number for s in words.steps] == [0, 100, 200, 300]
    assert [s.label for s in words.steps] == [f"words:{n:05d}" for n in (0, 100, 200, 300)]
    assert [s.path.parent.name for s in words.steps] == ["words"] * 4
    assert [s.path.parent.parent.name for s in words.steps] == ["00000", "00100", "00200", "00300"]
    assert [s.default for s in words.steps] == [False, False, False, True]
    for step in words.steps:
        assert step.available and step.alignable
        np.testing.assert_array_equal(step.vectors, expected(fixture, step.label))
    np.testing.assert_array_equal(words.vectors, expected(fixture, "words:00300"))
    assert words.metadata.column_names == ["word", "group"]


def test_torch_tags_group_separately() -> None:
    found = embeddings(TIMELINE / "torch_add_embedding_steps")
    assert list(found) == ["words", "growing"]
    assert [s.label for s in found["growing"].steps] == [
        "growing:00000",
        "growing:00100",
        "growing:00200",
    ]


def test_a_single_add_embedding_step_keeps_its_name(fixtures_dir: Path) -> None:
    found = embeddings(fixtures_dir / "torch_add_embedding")
    assert set(found) == {"words:00000", "images:00000"}
    (step,) = found["words:00000"].steps
    assert step.number == 0 and step.label == "words:00000" and step.default
    assert step.vectors is found["words:00000"].vectors


def test_a_file_has_one_step(tmp_path: Path) -> None:
    vectors = np.arange(12, dtype=np.float32).reshape(4, 3)
    np.save(tmp_path / "x.npy", vectors)
    (emb,) = embedding_projector.open(tmp_path / "x.npy")
    (step,) = emb.steps
    assert step.number is None and step.label == "x" and step.default and step.alignable
    np.testing.assert_array_equal(step.vectors, vectors)


@pytest.mark.parametrize(
    ("fixture", "name", "alignable", "reasons"),
    [
        (
            "tf2_resized",
            "embedding",
            [False, False, True],
            [
                "ckpt-1 is 50 × 8 but ckpt-3 is 60 × 8: its rows are not the same points",
                "ckpt-2 is 60 × 4 but ckpt-3 is 60 × 8: vectors of 4 and of 8 dimensions "
                "share no axes",
            ],
        ),
        (
            "torch_add_embedding_steps",
            "growing",
            [False, False, True],
            [
                "growing:00000 is 100 × 8 but growing:00200 is 120 × 8: its rows are not the "
                "same points",
                "growing:00100 is 100 × 8 but growing:00200 is 120 × 8",
            ],
        ),
    ],
)
def test_steps_of_another_shape_are_listed_not_aligned(
    fixture: str, name: str, alignable: list[bool], reasons: list[str]
) -> None:
    emb = embeddings(TIMELINE / fixture)[name]
    assert [s.alignable for s in emb.steps] == alignable
    assert all(s.available for s in emb.steps)
    for step, reason in zip(emb.steps, reasons, strict=False):
        assert step.message is not None and step.message.startswith(reason)
        assert step.message.endswith("so it cannot be aligned with the other steps")
        np.testing.assert_array_equal(step.vectors, expected(fixture, step.label))
    assert emb.steps[-1].message is None


@pytest.fixture
def damaged(tmp_path: Path) -> Path:
    """A writable copy of the CheckpointManager run, to damage."""
    return writable_copy(TIMELINE / "tf2_checkpoint_manager", tmp_path / "run")


def test_corrupt_missing_and_unreadable_steps(damaged: Path) -> None:
    index = damaged / "ckpt-4.index"
    index.write_bytes(index.read_bytes()[:100])  # a truncated copy
    for path in damaged.glob("ckpt-6.*"):  # deleted, still listed by the state file
        path.unlink()
    data = damaged / "ckpt-5.data-00000-of-00001"
    corrupt = bytearray(data.read_bytes())
    corrupt[500] ^= 0xFF
    data.write_bytes(bytes(corrupt))

    (emb,) = embedding_projector.open(damaged)
    steps = {s.label: s for s in emb.steps}
    assert list(steps) == ["ckpt-3", "ckpt-4", "ckpt-5", "ckpt-6", "ckpt-7"]
    assert not steps["ckpt-4"].available and steps["ckpt-4"].shape is None
    assert steps["ckpt-4"].message == (
        f"{index}: bad magic number 0x120912010845554c at byte offset 92 (expected "
        "0xdb4775248b80fb57): not a TensorFlow V2 checkpoint index, or a truncated one"
    )
    assert not steps["ckpt-6"].available and not steps["ckpt-6"].alignable
    assert steps["ckpt-6"].message == (
        f"{damaged / 'checkpoint'}: lists checkpoint ckpt-6, but ckpt-6.index does not exist "
        "beside it (deleted, or not copied along?)"
    )
    with pytest.raises(NotFoundError, match=r"ckpt-6\.index does not exist"):
        steps["ckpt-6"].vectors  # noqa: B018
    # Listing read the index only: the corrupt data is found when the vectors are read.
    assert steps["ckpt-5"].available and steps["ckpt-5"].shape == (299, 16)
    with pytest.raises(ChecksumError, match="fails its CRC32C check"):
        steps["ckpt-5"].vectors  # noqa: B018
    assert not steps["ckpt-5"].available
    assert steps["ckpt-5"].message is not None
    assert steps["ckpt-5"].message.startswith(f"{data}: tensor 'embedding/.ATTRIBUTES/")
    for label in ("ckpt-3", "ckpt-7"):  # the others still load
        np.testing.assert_array_equal(
            steps[label].vectors, expected("tf2_checkpoint_manager", label)
        )
    assert emb.warnings == [] and emb.shape == (299, 16)


def test_listing_reads_indexes_only(damaged: Path) -> None:
    for path in damaged.glob("ckpt-[3-6].data-*"):
        path.unlink()
    (emb,) = embedding_projector.open(damaged)
    assert [s.shape for s in emb.steps] == [(299, 16)] * 5
    with pytest.raises(NotFoundError, match="data file of the checkpoint is missing"):
        emb.steps[0].vectors  # noqa: B018


def test_other_checkpoints_in_the_folder(damaged: Path, fixtures_dir: Path) -> None:
    # The tutorial's own checkpoint has the same tensor (999 rows): a step, not aligned.
    for path in (fixtures_dir / "tf2_keras_tutorial").glob("embedding.ckpt-1.*"):
        shutil.copy(path, damaged)
    # Another model's checkpoint has no such tensor: not a step of this embedding.
    for path in (fixtures_dir / "tf2_two_embeddings_sprite").glob("model.ckpt-1.*"):
        shutil.copy(path, damaged / path.name.replace("model.ckpt-1", "model.ckpt-2"))
    (emb,) = embedding_projector.open(damaged)
    assert [s.label for s in emb.steps] == [
        "embedding.ckpt-1",
        "ckpt-3",
        "ckpt-4",
        "ckpt-5",
        "ckpt-6",
        "ckpt-7",
    ]
    assert not emb.steps[0].alignable and emb.steps[0].shape == (999, 16)
    assert emb.steps[-1].default


def test_a_step_outside_the_opened_folder_is_refused(tmp_path: Path) -> None:
    logs = writable_copy(TIMELINE / "tf2_checkpoint_manager", tmp_path / "logs")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    for path in logs.glob("ckpt-3.*"):
        shutil.move(path, outside / path.name)
    state = logs / "checkpoint"
    state.write_text(state.read_text().replace('"ckpt-3"', '"../elsewhere/ckpt-3"'))
    (emb,) = embedding_projector.open(logs)
    first = emb.steps[0]
    assert first.label == "ckpt-3" and not first.available
    assert first.message is not None
    assert "`all_model_checkpoint_paths`" in first.message
    assert "outside the opened folder" in first.message


def test_a_broken_latest_add_embedding_step_shows_the_one_before(tmp_path: Path) -> None:
    logs = writable_copy(TIMELINE / "torch_add_embedding_steps", tmp_path / "logs")
    latest = logs / "00300" / "words" / "tensors.tsv"
    latest.write_text(latest.read_text() + "1.0\t2.0\n")  # a ragged last line
    words = embeddings(logs)["words"]
    assert [s.available for s in words.steps] == [True, True, True, False]
    assert [s.default for s in words.steps] == [False, False, True, False]
    np.testing.assert_array_equal(
        words.vectors, expected("torch_add_embedding_steps", "words:00200")
    )
    message = words.steps[-1].message
    assert message is not None and message.startswith(f"{latest}: line 201 has 2 values")
    (warning,) = words.warnings
    assert warning.startswith("showing step words:00200, the latest that could be read: ")
    assert message in warning

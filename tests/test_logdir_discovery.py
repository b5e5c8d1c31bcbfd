"""Log dir layouts beyond the fixtures: where TensorBoard users' "no data" reports come from.

The checkpoints are real ones written by TensorFlow 2.21 (``tests/data/checkpoints``), laid
out in temp log dirs the way users' folders look; configs are written with our
TensorBoard-compatible API.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

import embedding_projector
from embedding_projector import projector
from embedding_projector.dataset.model import Embedding, Workspace
from embedding_projector.errors import ProjectorError
from tests.conftest import FIXTURES, writable_copy

CHECKPOINTS = Path(__file__).parent / "data" / "checkpoints"
PLUGIN_DIR = Path("plugins/org_tensorflow_tensorboard_projector")


def place(checkpoint: str, folder: Path, *, state: str | None = "ckpt") -> None:
    """Copy a reference checkpoint's files into ``folder`` (and a state file naming it)."""
    folder.mkdir(parents=True, exist_ok=True)
    for f in (CHECKPOINTS / checkpoint).glob("ckpt.*"):
        shutil.copy(f, folder / f.name)
    if state is not None:
        (folder / "checkpoint").write_text(f'model_checkpoint_path: "{state}"\n')


def keras_tutorial(folder: Path) -> None:
    """The SPEC §1 tutorial's files (a real TF 2.21 checkpoint + metadata)."""
    writable_copy(FIXTURES / "tf2_keras_tutorial", folder)


def config(folder: Path, *entries: dict[str, object], **fields: str) -> None:
    cfg = projector.ProjectorConfig(**fields)
    for entry in entries:
        cfg.embeddings.add(**entry)
    projector.visualize_embeddings(folder, cfg)


def names(ws: Workspace) -> dict[str, list[str]]:
    return {run.name: [e.name for e in run.embeddings] for run in ws.runs}


def only(ws: Workspace, name: str) -> Embedding:
    (emb,) = [e for e in ws if e.name == name]
    return emb


def test_config_in_plugin_assets_folder(tmp_path: Path) -> None:
    keras_tutorial(tmp_path / "run1")
    assets = tmp_path / "run1" / PLUGIN_DIR
    assets.mkdir(parents=True)
    (tmp_path / "run1" / "projector_config.pbtxt").rename(assets / "projector_config.pbtxt")
    (tmp_path / "run1" / "metadata.tsv").rename(assets / "metadata.tsv")
    ws = embedding_projector.open(tmp_path)
    assert names(ws) == {"run1": ["embedding"]}
    assert only(ws, "embedding").metadata.column("label")[0].as_py() == "tok_1"


def test_runs_at_any_depth_without_event_files(tmp_path: Path) -> None:
    for run in ("a/b/c", "a/d", "e"):
        keras_tutorial(tmp_path / run)
    assert list(names(embedding_projector.open(tmp_path))) == ["a/b/c", "a/d", "e"]


def test_checkpoint_in_the_parent_folder(tmp_path: Path) -> None:
    place("optimizer_slots", tmp_path / "train")
    config(tmp_path / "train" / "projector", {"tensor_name": "emb/.ATTRIBUTES/VARIABLE_VALUE"})
    ws = embedding_projector.open(tmp_path)
    assert list(names(ws)) == ["train/projector"]  # the checkpoint folder is not a second run
    assert names(ws)["train/projector"][0] == "emb"  # the configured tensor comes first


def test_no_state_file_takes_the_newest_and_says_so(tmp_path: Path) -> None:
    place("tf1_partitioned", tmp_path / "old", state=None)
    place("optimizer_slots", tmp_path / "new", state=None)
    for f in (tmp_path / "old").iterdir():
        f.rename(tmp_path / f"old-{f.name}")
    for f in (tmp_path / "new").iterdir():
        f.rename(tmp_path / f"new-{f.name}")
    os.utime(tmp_path / "old-ckpt.index", (1, 1))
    ws = embedding_projector.open(tmp_path)
    (run,) = ws.runs
    assert "emb" in [e.name for e in run.embeddings]  # from new-ckpt, the newest
    assert any(
        "no `checkpoint` state file; using the newest checkpoint (of 2 found), new-ckpt" in w
        for w in run.warnings
    )


def test_model_checkpoint_path_relative_to_the_config_not_the_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    place("tf1_partitioned", tmp_path / "logs" / "ckpts", state=None)
    config(
        tmp_path / "logs", {"tensor_name": "part_embedding:0"}, model_checkpoint_path="ckpts/ckpt"
    )
    monkeypatch.chdir("/")
    emb = only(embedding_projector.open(tmp_path / "logs"), "part_embedding")
    expected = np.load(CHECKPOINTS / "tf1_partitioned" / "expected.npz")["part_embedding"]
    np.testing.assert_array_equal(emb.vectors, expected)


def test_absolute_model_checkpoint_path_from_another_machine(tmp_path: Path) -> None:
    place("tf1_partitioned", tmp_path, state=None)
    config(tmp_path, {"tensor_name": "plain"}, model_checkpoint_path="/home/someone/exp/ckpt")
    ws = embedding_projector.open(tmp_path)
    assert "plain" in names(ws)["."]
    assert any(
        "using ckpt beside the config (was the log dir moved?)" in w for w in ws.runs[0].warnings
    )


def test_empty_first_tensor_name_lends_metadata_to_every_tensor(tmp_path: Path) -> None:
    place("tf1_partitioned", tmp_path)
    (tmp_path / "labels.tsv").write_text("".join(f"w{i}\n" for i in range(90)))
    config(tmp_path, {"tensor_name": "", "metadata_path": "labels.tsv"})
    ws = embedding_projector.open(tmp_path)
    part, plain = only(ws, "part_embedding"), only(ws, "plain")
    assert part.metadata.column("label")[5].as_py() == "w5"
    assert plain.metadata_path == tmp_path / "labels.tsv"  # 4 rows vs 90 lines: a warning
    assert "Number of tensors (4) do not match" in plain.warnings[0]


def test_tensorboardx_duplicate_entries_are_shown_once(tmp_path: Path) -> None:
    writable_copy(FIXTURES / "torch_add_embedding", tmp_path)
    text = (tmp_path / "projector_config.pbtxt").read_text()
    (tmp_path / "projector_config.pbtxt").write_text(text * 3)  # tensorboardX appends on rerun
    ws = embedding_projector.open(tmp_path)
    assert names(ws) == {".": ["words:00000", "images:00000"]}
    assert ws.runs[0].warnings == []


def test_differing_duplicates_keep_the_last_and_warn(tmp_path: Path) -> None:
    writable_copy(FIXTURES / "tensor_tsv", tmp_path)
    config(
        tmp_path,
        {"tensor_name": "v", "tensor_path": "tensors.tsv"},
        {"tensor_name": "v", "tensor_path": "tensors.tsv", "metadata_path": "metadata.tsv"},
    )
    ws = embedding_projector.open(tmp_path)
    assert only(ws, "v").metadata_path == tmp_path / "metadata.tsv"
    assert any("more than once with different settings" in w for w in ws.runs[0].warnings)


def test_optimizer_slots_skipped_and_names_unescaped(tmp_path: Path) -> None:
    place("optimizer_slots", tmp_path)
    ws = embedding_projector.open(tmp_path)
    emb_names = names(ws)["."]
    assert "emb" in emb_names and "odd.name/with slash" in emb_names
    assert not any(".OPTIMIZER_SLOT" in e.tensor_name for e in ws)
    odd = only(ws, "odd.name/with slash")
    assert odd.tensor_name == "odd..name.Swith slash/.ATTRIBUTES/VARIABLE_VALUE"


def test_keras_full_model_checkpoint_offers_every_2d_variable(tmp_path: Path) -> None:
    place("keras_model_optimizer", tmp_path)
    emb_names = names(embedding_projector.open(tmp_path))["."]
    assert "optimizer/_trainable_variables/0" in emb_names  # the embedding layer (20 × 8)
    assert "optimizer/_trainable_variables/2" not in emb_names  # a bias: 1-D


def test_dtypes_served_as_float32_zero_rows_skipped(tmp_path: Path) -> None:
    place("dtypes", tmp_path)
    ws = embedding_projector.open(tmp_path)
    expected = np.load(CHECKPOINTS / "dtypes" / "expected.npz")
    for name in ("f16", "f64", "i32"):
        emb = only(ws, name)
        assert emb.vectors.dtype == np.float32
        np.testing.assert_array_equal(emb.vectors, expected[name].astype(np.float32))
    assert only(ws, "bf16").dtype == "bfloat16"
    assert "empty" not in names(ws)["."]


def test_config_names_a_missing_tensor(tmp_path: Path) -> None:
    place("tf1_partitioned", tmp_path)
    config(tmp_path, {"tensor_name": "nope"})
    ws = embedding_projector.open(tmp_path)
    assert any("names tensor 'nope', which is not a 2-D tensor" in w for w in ws.runs[0].warnings)
    assert "plain" in names(ws)["."]


def test_broken_config_still_offers_the_checkpoint(tmp_path: Path) -> None:
    place("tf1_partitioned", tmp_path)
    (tmp_path / "projector_config.pbtxt").write_text("embeddings { tensor_nam: 'x' }\n")
    ws = embedding_projector.open(tmp_path)
    assert "plain" in names(ws)["."]
    assert any("line 1, column" in w for w in ws.runs[0].warnings)


def test_unparseable_state_file_falls_back_to_index_files(tmp_path: Path) -> None:
    place("tf1_partitioned", tmp_path, state=None)
    (tmp_path / "checkpoint").write_text("this is not a checkpoint state\n")
    ws = embedding_projector.open(tmp_path)
    assert "plain" in names(ws)["."]
    assert any("looking for checkpoint files instead" in w for w in ws.runs[0].warnings)


def test_symlink_out_of_the_root_is_refused(tmp_path: Path) -> None:
    keras_tutorial(tmp_path / "logs")
    (tmp_path / "secret.tsv").write_text("".join(f"s{i}\n" for i in range(999)))
    (tmp_path / "logs" / "metadata.tsv").unlink()
    (tmp_path / "logs" / "metadata.tsv").symlink_to(tmp_path / "secret.tsv")
    emb = only(embedding_projector.open(tmp_path / "logs"), "embedding")
    assert emb.metadata.column_names == ["index"]
    assert any("outside the opened folder" in w for w in emb.warnings)


def test_checkpoint_only_folder_and_index_file_input(tmp_path: Path) -> None:
    place("tf1_partitioned", tmp_path)
    assert set(names(embedding_projector.open(tmp_path))["."]) == {"part_embedding", "plain"}
    ws = embedding_projector.open(tmp_path / "ckpt.index")
    assert set(names(ws)["."]) == {"part_embedding", "plain"}
    assert set(names(embedding_projector.open(tmp_path / "ckpt"))["."]) == {
        "part_embedding",
        "plain",
    }


def test_corrupt_checkpoint_is_one_clear_error(tmp_path: Path) -> None:
    place("tf1_partitioned", tmp_path)
    data = tmp_path / "ckpt.data-00000-of-00001"
    raw = bytearray(data.read_bytes())
    raw[10] ^= 0xFF
    data.write_bytes(bytes(raw))
    ws = embedding_projector.open(tmp_path)
    with pytest.raises(ProjectorError, match=r"ckpt\.data-00000-of-00001"):
        for emb in ws:
            emb.vectors  # noqa: B018 - reading checks the CRC

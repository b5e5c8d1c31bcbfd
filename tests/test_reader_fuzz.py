"""Every reader against mutated real files: only ProjectorErrors (or success), quickly.

3,600 mutants in all, 360 per reader, seeded (``derandomize``): the checkpoint index and
data shards, the projector config, a metadata TSV, a bookmarks file, a sprite PNG,
safetensors, ``.npy``, ``.npz`` and Parquet. Each mutant is opened the way a user opens
it, and everything the server would serve is read: vectors both ways (the Python API's
map and the server's ``pread`` blocks), metadata, bookmarks, the sprite, the warnings
and the JSON description. Nothing but a :class:`ProjectorError` may come out, every
message must be one printable line, and what is served must be valid JSON.
"""

from __future__ import annotations

import contextlib
import json
import struct
import zlib
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import PngImagePlugin
from safetensors.numpy import save_file

import embedding_projector
from embedding_projector.dataset.summary import describe_workspace
from embedding_projector.errors import ProjectorError
from embedding_projector.formats.files import read_inside
from tests.conftest import FIXTURES, writable_copy
from tests.support.mutation import Edit, mutate, mutations

MUTANTS_PER_READER = 360
LOGDIR = FIXTURES / "tf2_two_embeddings_sprite"
CHECKPOINTS = Path(__file__).parent / "data" / "checkpoints"
RNG = np.random.default_rng(8)
VECTORS = RNG.normal(size=(12, 5)).astype(np.float32)


@dataclass(frozen=True)
class Case:
    """A seed: the file that is mutated, its original bytes, and the path that is opened."""

    file: Path
    original: bytes
    opened: Path

    def __repr__(self) -> str:  # hypothesis prints the failing example: keep it short
        return f"Case({self.file.name!r} of {self.file.parent.name!r})"


def _case(file: Path, opened: Path) -> Case:
    return Case(file, file.read_bytes(), opened)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


# A text chunk and a colour profile that inflate past Pillow's limit (MAX_TEXT_CHUNK).
_INFLATING = zlib.compress(b"a" * 2 * PngImagePlugin.MAX_TEXT_CHUNK)
_BOMBS = (_png_chunk(b"zTXt", b"k\0\0" + _INFLATING), _png_chunk(b"iCCP", b"p\0\0" + _INFLATING))

TOKENS: dict[str, tuple[bytes, ...]] = {
    "config": (
        b"embeddings {",
        b'metadata_path: "/etc/passwd"',
        b'tensor_path: "x\\000y"',
        b'bookmarks_path: "../../.."',
        b'model_checkpoint_path: "/nonexistent"',
        b"sprite { single_image_dim: 0 }",
        b"tensor_shape: 4294967295",
    ),
    "metadata": (b"\t", b"\r\n", b"\xff", b"9" * 5000, b"nan\t-inf", b"\x00", b"\t\t\t\n"),
    "bookmarks": (
        b"[" * 300,
        b"{" * 100,
        b"NaN",
        b"1e999",
        b"-Infinity",
        b'"\\ud800"',
        b"9" * 5000,
    ),
    "sprite": (*_BOMBS, b"IEND", b"\xff\xff\xff\xff"),
    "safetensors": (b"-1", b"[", b"{", b"[[[[[[[[", b"null", b'"BF16"', b"1e999", b'"x":[1]'),
    "npy": (b"'fortran_order': True", b"'descr': '|O'", b"(-1, 3)", b"(2**62, 2**62)", b"\x02"),
    "npz": (b"PK\x03\x04", b".npy", b"\x00" * 8, b"\xff\xff\xff\xff"),
    "parquet": (b"PAR1", b"\x00" * 8, b"\xff\xff\xff\xff"),
}


def _logdir_cases(root: Path, target: str) -> list[Case]:
    folder = writable_copy(LOGDIR, root / "logdir")
    files = {
        "index": "model.ckpt-1.index",
        "data": "model.ckpt-1.data-00000-of-00001",
        "config": "projector_config.pbtxt",
        "metadata": "words.tsv",
        "bookmarks": "bookmarks.json",
        "sprite": "sprite.png",
    }
    cases = [_case(folder / files[target], folder)]
    if target in ("index", "data"):  # partitioned and odd-typed tensors too
        for index in sorted(CHECKPOINTS.glob("*/*.index")):
            if "many_keys" in str(index):
                continue
            copy = writable_copy(index.parent, root / index.parent.name)
            prefix = copy / index.name.removesuffix(".index")
            for file in sorted(copy.glob(index.name.removesuffix(".index") + ".*")):
                if (file.suffix == ".index") == (target == "index"):
                    cases.append(_case(file, prefix))
    if target == "sprite":
        png = (folder / "sprite.png").read_bytes()
        at = png.index(b"IDAT") - 4
        for number, bomb in enumerate(_BOMBS):
            copy = writable_copy(folder, root / f"bomb{number}")
            (copy / "sprite.png").write_bytes(png[:at] + bomb + png[at:])
            cases.append(_case(copy / "sprite.png", copy))
    return cases


def _file_cases(root: Path, target: str) -> list[Case]:
    root.mkdir(parents=True, exist_ok=True)
    paths = []
    if target == "safetensors":
        bits = (VECTORS.view(np.uint32) >> 16).astype(np.uint16)
        save_file({"emb": VECTORS, "bias": np.zeros(5, np.float32)}, root / "a.safetensors")
        header = b'{"w":{"dtype":"BF16","shape":[12,5],"data_offsets":[0,120]}}'
        (root / "b.safetensors").write_bytes(
            len(header).to_bytes(8, "little") + header + bits.tobytes()
        )
        paths = [root / "a.safetensors", root / "b.safetensors"]
    elif target == "npy":
        np.save(root / "c.npy", VECTORS)
        np.save(root / "f.npy", np.asfortranarray(VECTORS.astype(np.float64)))
        paths = [root / "c.npy", root / "f.npy"]
    elif target == "npz":
        labels = np.array([f"w{i}" for i in range(12)])
        np.savez(root / "a.npz", vectors=VECTORS, labels=labels)
        np.savez_compressed(root / "b.npz", vectors=VECTORS, n=np.arange(12))
        paths = [root / "a.npz", root / "b.npz"]
    elif target == "parquet":
        table = pa.table(
            {
                "embedding": pa.array(list(VECTORS), pa.list_(pa.float32(), 5)),
                "label": [f"w{i}" for i in range(12)],
            }
        )
        pq.write_table(table, root / "a.parquet")
        pq.write_table(table, root / "b.parquet", compression="none")
        paths = [root / "a.parquet", root / "b.parquet"]
    return [_case(path, path) for path in paths]


TARGETS = ("index", "data", "config", "metadata", "bookmarks", "sprite")
FILE_TARGETS = ("safetensors", "npy", "npz", "parquet")


def _check_message(text: str) -> None:
    assert text.isprintable(), f"not one printable line: {text!r}"


def read_everything(path: Path) -> None:
    """Open ``path`` and read all that a user or the server could; ProjectorErrors allowed."""
    try:
        workspace = embedding_projector.open(path)
    except ProjectorError as exc:
        _check_message(str(exc))
        return
    description = describe_workspace(workspace)  # reads metadata, bookmarks and sprite info
    json.dumps(description, allow_nan=False).encode()  # what the server sends must be JSON
    for run in workspace.runs:
        for warning in run.warnings:
            _check_message(warning)
    for embedding in workspace:
        for warning in embedding.warnings:
            _check_message(warning)
        for read in ("map", "blocks"):  # the Python API's way, and the server's
            try:
                _ = embedding.vectors if read == "map" else list(embedding.source.blocks())
            except ProjectorError as exc:
                _check_message(str(exc))
        if embedding.sprite is not None:
            with contextlib.suppress(ProjectorError):
                read_inside(embedding.sprite.image_path, embedding.sprite.root)


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Case]]:
    root = tmp_path_factory.mktemp("fuzz")
    built = {target: _logdir_cases(root / target, target) for target in TARGETS}
    built |= {target: _file_cases(root / target, target) for target in FILE_TARGETS}
    return built


# A failing mutant's edits can be long (a 5,000-digit token): let hypothesis print them.
@pytest.mark.filterwarnings("ignore:Generating overly large repr")
@pytest.mark.parametrize("target", [*TARGETS, *FILE_TARGETS])
def test_mutants_give_only_projector_errors(cases: dict[str, list[Case]], target: str) -> None:
    seeds = cases[target]
    assert seeds and all(seed.file.is_file() for seed in seeds)
    for seed in seeds:  # every seed opens cleanly before it is mutated
        read_everything(seed.opened)

    @settings(
        max_examples=MUTANTS_PER_READER,
        derandomize=True,
        database=None,
        deadline=timedelta(seconds=5),  # a hang, not a slow machine: mutants take milliseconds
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(
        st.sampled_from(seeds), st.lists(mutations(TOKENS.get(target, ())), min_size=1, max_size=4)
    )
    def mutant(seed: Case, edits: list[Edit]) -> None:
        seed.file.write_bytes(mutate(seed.original, edits))
        try:
            read_everything(seed.opened)
        finally:
            seed.file.write_bytes(seed.original)

    mutant()

"""Fuzzing the checkpoint reader past the block CRCs: only ProjectorErrors come out, quickly.

Byte-level mutations of whole ``.index`` and data files are in ``test_reader_fuzz.py``,
with every other reader's.
"""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from embedding_projector.errors import ProjectorError
from embedding_projector.formats.tf_checkpoint import CheckpointReader
from embedding_projector.formats.tf_checkpoint.ordered_code import decode_slice_key
from embedding_projector.formats.tf_checkpoint.sstable import iter_table
from embedding_projector.formats.tf_checkpoint.wire import DecodeError, parse_entry, parse_header
from tests.conftest import FIXTURES
from tests.support.mutation import Edit, mutate, mutations
from tests.support.sstable_writer import build_table
from tests.support.tf_bundle_writer import BundleEntry, Extent, encode_entry, encode_header

DATA = Path(__file__).parent / "data" / "checkpoints"
SMALL_INDEXES = sorted(
    [*FIXTURES.rglob("*.index"), *(p for p in DATA.rglob("*.index") if "many_keys" not in str(p))]
)
FUZZ = settings(
    max_examples=300, deadline=1000, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(scope="module")
def copies(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Path, bytes]]:
    """Each small checkpoint copied to its own folder: (prefix, original index bytes)."""
    out = []
    for number, index in enumerate(SMALL_INDEXES):
        folder = tmp_path_factory.mktemp(f"ckpt{number}")
        prefix = index.name.removesuffix(".index")
        for file in index.parent.glob(f"{prefix}.*"):
            shutil.copy(file, folder)
        out.append((folder / prefix, index.read_bytes()))
    return out


def open_and_read_all(prefix: Path) -> None:
    """Open the checkpoint and read every tensor; ProjectorErrors are the expected outcome."""
    try:
        reader = CheckpointReader(prefix)
        for name in reader.variables():
            with contextlib.suppress(ProjectorError):
                reader.read(name)
    except ProjectorError:
        pass


@FUZZ
@given(st.data(), st.lists(mutations(), min_size=1, max_size=3))
def test_mutated_entries_with_valid_block_crcs(
    copies: list[tuple[Path, bytes]], data: st.DataObject, edits: list[Edit]
) -> None:
    """Corrupt the keys and values themselves, so the parsers past the CRC checks are fuzzed."""
    prefix, original = data.draw(st.sampled_from(copies))
    items = list(iter_table(original, path=prefix))
    number = data.draw(st.integers(0, len(items) - 1))
    key, value = items[number]
    if data.draw(st.booleans()):
        key = mutate(key, edits)
    else:
        value = mutate(value, edits)
    items[number] = (key, value)
    Path(f"{prefix}.index").write_bytes(build_table(sorted(dict(items).items())))
    open_and_read_all(prefix)


dims = st.integers(-2, 2**62)
extents = st.lists(st.builds(Extent, dims, st.none() | dims), max_size=3)
entries = st.builds(
    BundleEntry,
    dtype=st.integers(-1, 30),
    shape=st.none() | st.lists(dims, max_size=70).map(tuple),
    shard_id=st.integers(-1, 3),
    offset=st.integers(-1, 2**62),
    size=st.integers(-1, 2**62),
    crc32c=st.integers(0, 2**32 - 1),
    slices=st.lists(extents.map(tuple), max_size=3).map(tuple),
)


@FUZZ
@given(st.data(), entries, st.integers(-1, 4))
def test_arbitrary_entries(
    copies: list[tuple[Path, bytes]], data: st.DataObject, entry: BundleEntry, num_shards: int
) -> None:
    """Absurd shapes, sizes, offsets and slices: refused before anything is allocated."""
    prefix, original = data.draw(st.sampled_from(copies))
    (header_key, _), *items = iter_table(original, path=prefix)
    name = data.draw(st.sampled_from([key for key, _ in items]))
    entries = dict(items) | {name: encode_entry(entry)}
    table = build_table([(header_key, encode_header(num_shards)), *sorted(entries.items())])
    Path(f"{prefix}.index").write_bytes(table)
    open_and_read_all(prefix)


@settings(max_examples=500, deadline=200)
@given(st.binary(max_size=64))
def test_decoders_raise_only_decode_error(data: bytes) -> None:
    for decode in (parse_entry, parse_header, decode_slice_key):
        with contextlib.suppress(DecodeError):
            decode(data)

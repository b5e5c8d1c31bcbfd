"""Corrupt files give a format error naming the file, never a foreign exception (issue 8, item 5).

The attack run's reproductions: a safetensors header with negative offsets, a list entry
or deep nesting; an ``.npz`` member that is not ``.npy``; a malformed ``.npy`` header;
and error lines that embedded raw bytes of the file. The seeded fuzz of every reader is
``test_reader_fuzz.py``; these are the named cases, each also through the CLI.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

import embedding_projector
from embedding_projector.errors import FormatError, ProjectorError, one_line, quote_exception
from embedding_projector.formats.bookmarks import read_bookmarks

VECTORS = np.arange(12, dtype=np.float32).reshape(4, 3)


def _safetensors(path: Path, header: bytes, data: bytes = VECTORS.tobytes()) -> Path:
    path.write_bytes(len(header).to_bytes(8, "little") + header + data)
    return path


def _npy_with_header(path: Path, header: bytes) -> Path:
    padded = header + b" " * (-(10 + len(header) + 1) % 64) + b"\n"
    path.write_bytes(b"\x93NUMPY\x01\x00" + len(padded).to_bytes(2, "little") + padded + b"\0" * 48)
    return path


CASES = {
    "safetensors negative offsets": (
        lambda d: _safetensors(
            d / "neg.safetensors", b'{"w":{"dtype":"F32","shape":[4,3],"data_offsets":[-8,40]}}'
        ),
        "tensor 'w' has a malformed header entry",
    ),
    "safetensors list entry": (
        lambda d: _safetensors(d / "list.safetensors", b'{"w":[1,2,3]}'),
        "tensor 'w' has a header entry that is not an object",
    ),
    "safetensors deep nesting": (
        lambda d: _safetensors(d / "deep.safetensors", b'{"__metadata__":' + b"[" * 100_000),
        "has a corrupt JSON header (RecursionError",
    ),
    "safetensors huge integer": (
        lambda d: _safetensors(
            d / "huge.safetensors",
            b'{"w":{"dtype":"F32","shape":[' + b"9" * 5000 + b',3],"data_offsets":[0,48]}}',
        ),
        "has a corrupt JSON header (ValueError: Exceeds the limit (4300 digits)",
    ),
    "safetensors shape of strings": (
        lambda d: _safetensors(
            d / "str.safetensors", b'{"w":{"dtype":"F32","shape":["4","3"],"data_offsets":[0,48]}}'
        ),
        "tensor 'w' has a malformed header entry",
    ),
    "npz member that is not .npy": (
        lambda d: _npz_with_text_member(d / "m.npz"),
        "member 'readme.txt' of the archive is not a .npy array",
    ),
    "npy header cut in a bracket": (
        lambda d: _npy_with_header(
            d / "cut.npy", b"{'descr': '<f4', 'fortran_order': False, 'shape': (4, "
        ),
        "is not a readable .npy array",
    ),
    "npy header that is not a dict": (
        lambda d: _npy_with_header(d / "list.npy", b"[1, 2, 3]"),
        "is not a readable .npy array",
    ),
    "npy negative shape": (
        lambda d: _npy_with_header(
            d / "neg.npy", b"{'descr': '<f4', 'fortran_order': False, 'shape': (-4, 3), }"
        ),
        "the array has a negative size in its shape (-4, 3)",
    ),
    "npy shorter than its header says": (
        lambda d: _npy_with_header(
            d / "short.npy", b"{'descr': '<f4', 'fortran_order': False, 'shape': (400, 3), }"
        ),
        "is truncated: its header describes (400, 3) float32 values",
    ),
    "npy of objects": (
        lambda d: _npy_with_header(
            d / "obj.npy", b"{'descr': '|O', 'fortran_order': False, 'shape': (4, 3), }"
        ),
        "the array holds object values; vectors must be numbers",
    ),
}


def _npz_with_text_member(path: Path) -> Path:
    buffer = io.BytesIO()
    np.save(buffer, VECTORS)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("vectors.npy", buffer.getvalue())
        archive.writestr("readme.txt", b"hello")
    return path


@pytest.mark.parametrize("case", CASES)
def test_a_corrupt_file_is_a_format_error_naming_it(tmp_path: Path, case: str) -> None:
    make, message = CASES[case]
    path = make(tmp_path)
    with pytest.raises(FormatError) as raised:
        embedding_projector.open(path)
    text = str(raised.value)
    assert text.startswith(f"{path}: ") and message in text, text
    assert text.isprintable()


@pytest.mark.parametrize("case", ["safetensors list entry", "npz member that is not .npy"])
def test_the_cli_prints_one_line_and_exits_1(tmp_path: Path, case: str) -> None:
    path = CASES[case][0](tmp_path)
    run = subprocess.run(
        [sys.executable, "-m", "embedding_projector", "inspect", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 1
    (line,) = run.stderr.splitlines()
    assert line.startswith(f"error: {path}: ") and "this is a bug" not in line


def test_raw_bytes_of_a_file_never_reach_an_error_line(tmp_path: Path) -> None:
    """pyarrow quotes the row it failed on; a binary row must come out escaped and short."""
    path = tmp_path / "binary.csv"
    path.write_bytes(b"a,b\n1,2\n" + bytes(range(256)) * 40 + b"\n")
    with pytest.raises(ProjectorError) as raised:
        embedding_projector.open(path)
    text = str(raised.value)
    assert text.isprintable() and "\\x00\\x01\\x02" in text
    assert len(text) < 400


def test_one_line_and_quote_exception() -> None:
    assert one_line("plain – text × 3") == "plain – text × 3"
    assert one_line("a\nb\x00c\udc80\x85") == "a\\nb\\x00c\\udc80\\x85"
    quoted = quote_exception(ValueError("x" * 1000 + "\n"))
    assert quoted.startswith("ValueError: xxx") and quoted.endswith("…") and len(quoted) < 220
    assert json.dumps(str(FormatError("bad\udc80", path="f\nx"))).isascii()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[" * 100_000 + "]" * 100_000, "nested more than 32 levels deep"),
        ('[{"a": ' + "[" * 300 + "]" * 300 + "}]", "nested more than 32 levels deep"),
        ('[{"x": NaN}]', "NaN is not a JSON number"),
        ('[{"x": 1e999}]', "the number 1e999 is too large for a float"),
        ('[{"x": ' + "9" * 5000 + "}]", "an integer of 5000 digits (at most 20)"),
        ('[{"label": "\\ud800"}]', "a string with a lone surrogate"),
        ('{"label": 1}', "expected a JSON array of saved states"),
    ],
)
def test_a_bookmarks_file_that_could_not_be_served_back_is_refused(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "bookmarks.json"
    path.write_text(content)
    with pytest.raises(FormatError) as raised:
        read_bookmarks(path)
    assert str(raised.value).startswith(f"{path}: ") and message in str(raised.value)

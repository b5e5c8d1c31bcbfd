"""Metadata TSV parsing and row-count rules (SPEC §2.5)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from embedding_projector.dataset.metadata import describe_columns, fit_metadata
from embedding_projector.errors import FormatError, NotFoundError
from embedding_projector.formats.metadata_tsv import read_metadata_tsv, typed_column


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "meta.tsv"
    path.write_text(text, encoding="utf-8")
    return path


def test_single_column_has_no_header(tmp_path: Path) -> None:
    table = read_metadata_tsv(write(tmp_path, "tok_1\ntok_2\n\ntok_3\n"))
    assert table.column_names == ["label"]
    assert table.column("label").to_pylist() == ["tok_1", "tok_2", "tok_3"]


def test_tab_in_first_line_makes_a_header(tmp_path: Path) -> None:
    table = read_metadata_tsv(write(tmp_path, "word\tcount\tclass\nw0\t12\ta\nw1\t\tb\n"))
    assert table.column_names == ["word", "count", "class"]
    assert table.column("count").type == pa.int64()
    assert table.column("count").to_pylist() == [12, None]


def test_short_rows_are_padded_with_missing_values(tmp_path: Path) -> None:
    table = read_metadata_tsv(write(tmp_path, "a\tb\nx\n"))
    assert table.to_pylist() == [{"a": "x", "b": None}]


def test_windows_line_endings_and_bom(tmp_path: Path) -> None:
    path = tmp_path / "m.tsv"
    path.write_bytes("\ufeffa\tb\r\n1\tx\r\n".encode())
    assert read_metadata_tsv(path).to_pylist() == [{"a": 1, "b": "x"}]


def test_duplicate_header_names_are_refused(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match="names column 'a' twice"):
        read_metadata_tsv(write(tmp_path, "a\ta\n1\t2\n"))


def test_missing_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match=r"nope\.tsv: file not found"):
        read_metadata_tsv(tmp_path / "nope.tsv")


def test_binary_file_is_not_text(tmp_path: Path) -> None:
    path = tmp_path / "m.tsv"
    path.write_bytes(b"ok\n\xff\xfe\x00bad\n")
    with pytest.raises(FormatError, match=r"not UTF-8 text: invalid byte at offset 3 \(line 2\)"):
        read_metadata_tsv(path)


@pytest.mark.parametrize(
    ("cells", "expected_type"),
    [
        (["1", "2", None], pa.int64()),
        (["1", "2.5"], pa.float64()),
        (["1e3", "-4"], pa.float64()),
        (["3.0"], pa.float64()),
        (["nan", "1"], pa.float64()),
        (["1", "x"], pa.string()),
        (["1_000"], pa.string()),
        ([" 1"], pa.string()),
        ([None, None], pa.string()),
    ],
)
def test_column_typing(cells: list[str | None], expected_type: pa.DataType) -> None:
    assert typed_column(cells).type == expected_type


def table_of(n: int, columns: int = 1) -> pa.Table:
    return pa.table({f"c{i}": [str(r) for r in range(n)] for i in range(columns)})


def test_row_count_equal_is_silent() -> None:
    table, warnings = fit_metadata(table_of(5), 5, Path("m.tsv"))
    assert table.num_rows == 5 and warnings == []


def test_single_column_with_one_extra_line_should_not_have_a_header() -> None:
    with pytest.raises(FormatError) as info:
        fit_metadata(table_of(6), 5, Path("m.tsv"))
    assert str(info.value) == (
        "m.tsv: Number of tensors (5) do not match the number of lines in metadata (6). "
        "Single column metadata should not have a header row."
    )


def test_multi_column_with_one_line_missing_should_have_a_header() -> None:
    with pytest.raises(FormatError, match="Multi-column metadata should have a header row"):
        fit_metadata(table_of(4, columns=2), 5, Path("m.tsv"))


def test_other_mismatches_warn_and_pad() -> None:
    table, warnings = fit_metadata(table_of(12), 15, Path("m.tsv"))
    assert table.num_rows == 15
    assert table.column("c0").to_pylist()[11:] == ["11", None, None, None]
    assert warnings == [
        "m.tsv: Number of tensors (15) do not match the number of lines in metadata (12). "
        "Rows 13–15 have no metadata."
    ]


def test_other_mismatches_warn_and_truncate() -> None:
    table, warnings = fit_metadata(table_of(9, columns=2), 5, Path("m.tsv"))
    assert table.num_rows == 5
    assert "Using the first 5 rows" in warnings[0]


def test_column_kinds() -> None:
    table = pa.table(
        {
            "n": [1, 2, 3],
            "cls": ["a", "b", "a"],
            "word": [f"w{i}" for i in range(3)],
        }
    )
    kinds = {c.name: (c.kind, c.distinct) for c in describe_columns(table)}
    assert kinds == {"n": ("numeric", 3), "cls": ("categorical", 2), "word": ("categorical", 3)}
    many = pa.table({"word": [f"w{i}" for i in range(51)]})
    assert describe_columns(many)[0].kind == "text"


# Cells that survive TSV: no tabs, no line breaks, not blank-only (blank lines are skipped).
cell = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs",),
        blacklist_characters="\t\n\r",
    ),
    min_size=1,
    max_size=8,
).filter(lambda s: s.strip() != "")


@settings(max_examples=150, deadline=None)
@given(
    header=st.lists(cell, min_size=2, max_size=4, unique=True),
    data=st.data(),
)
def test_multi_column_round_trip(
    tmp_path_factory: pytest.TempPathFactory, header: list[str], data: st.DataObject
) -> None:
    rows = data.draw(
        st.lists(st.lists(cell, min_size=len(header), max_size=len(header)), max_size=6)
    )
    path = tmp_path_factory.mktemp("tsv") / "m.tsv"
    path.write_text("\n".join("\t".join(r) for r in [header, *rows]) + "\n", encoding="utf-8")
    table = read_metadata_tsv(path)
    assert table.column_names == header
    assert table.num_rows == len(rows)
    for i, name in enumerate(header):
        column = [r[i] for r in rows]
        # repr() so that NaN equals NaN
        assert repr(table.column(name).to_pylist()) == repr(typed_column(column).to_pylist())


@settings(max_examples=150, deadline=None)
@given(labels=st.lists(cell, min_size=1, max_size=20))
def test_single_column_round_trip(
    tmp_path_factory: pytest.TempPathFactory, labels: list[str]
) -> None:
    path = tmp_path_factory.mktemp("tsv") / "m.tsv"
    path.write_text("\n".join(labels) + "\n", encoding="utf-8")
    table = read_metadata_tsv(path)
    assert table.num_rows == len(labels)
    assert repr(table.column("label").to_pylist()) == repr(typed_column(labels).to_pylist())


# Pieces of TSV text that reach every rule: tabs and line ends (\r\n, lone \r), blank
# lines made of whitespace str.strip removes, numbers (signs, exponents, inf/nan, huge
# integers past int64), near-numbers, and a non-ASCII letter (the line-by-line route).
_PIECES = st.sampled_from(
    ["\t", "\t", "\n", "\n", "\r\n", "\r", " ", "\x0b", "\x1c", "", "0", "7", "-3", "+12",
     "1.5", ".5", "1.", "2e3", "1E-2", "inf", "-Infinity", "NaN", "9223372036854775807",
     "9223372036854775808", "1" * 30, "1_0", "0x1", "a", "w", "é", "e", "+", "."]
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(_PIECES, max_size=60), st.integers(1, 4), st.integers(0, 6))
def test_both_routes_read_the_same_table(pieces: list[str], columns: int, rows: int) -> None:
    """The Arrow route (ASCII, regular rows) and the line-by-line route give one table:
    the same columns, types, values (NaN equal to NaN) on any text; a regular header and
    rows too, so that the Arrow route is taken often."""
    from embedding_projector.formats.metadata_tsv import _table_at_once, _table_of_lines

    regular = "\t".join(f"c{i}" for i in range(columns)) + "\n"
    cells = iter(pieces * columns * rows)
    regular += "".join(
        "\t".join(next(cells, "") for _ in range(columns)) + "\n" for _ in range(rows)
    )
    for text in ("".join(pieces), regular):
        if not text.isascii():
            continue  # read line by line only
        try:
            expected = _table_of_lines(text, Path("m.tsv"))
        except FormatError as error:  # the same name twice: refused alike
            with pytest.raises(FormatError) as raised:
                _table_at_once(text, Path("m.tsv"))
            assert str(raised.value) == str(error)
            continue
        found = _table_at_once(text, Path("m.tsv"))
        if found is not None:
            assert found.schema == expected.schema, (text, found.schema, expected.schema)
            assert repr(found.to_pylist()) == repr(expected.to_pylist()), text


def test_the_arrow_route_is_taken_for_regular_ascii_files() -> None:
    from embedding_projector.formats.metadata_tsv import _table_at_once

    table = _table_at_once("word\tn\tx\r\nw0\t1\t1.5\n\n w1 \t-2\t\n", Path("m.tsv"))
    assert table is not None
    assert table.to_pylist() == [
        {"word": "w0", "n": 1, "x": 1.5},
        {"word": " w1 ", "n": -2, "x": None},
    ]
    assert _table_at_once("a\tb\nx\n", Path("m.tsv")) is None  # a short row

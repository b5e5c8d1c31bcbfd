"""Pairing the rows of two embeddings: by a shared column of unique labels, else by position."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from embedding_projector.dataset.alignment import RowsDifferError, align_rows, label_columns


def test_rows_are_paired_by_unique_labels_in_any_order() -> None:
    words = [f"w{i}" for i in range(50)]
    order = np.random.default_rng(0).permutation(50)
    a = pa.table({"word": words, "count": np.ones(50)})
    b = pa.table({"word": [words[i] for i in order], "pos": ["n"] * 50})
    alignment = align_rows(a, b)
    assert alignment.column == "word" and not alignment.identity
    paired = [b.column("word")[int(j)].as_py() for j in alignment.order]
    assert paired == words


def test_labels_are_compared_as_text() -> None:
    a = pa.table({"id": [3, 1, 2]})
    b = pa.table({"id": ["1", "2", "3"]})
    assert align_rows(a, b).order.tolist() == [2, 0, 1]


def test_without_labels_rows_pair_by_position() -> None:
    a = pa.table({"index": np.arange(4)})
    b = pa.table({"label": ["x", "x", "y", "y"]})  # repeated: not labels
    alignment = align_rows(a, b)
    assert alignment.column is None and alignment.identity
    assert alignment.order.tolist() == [0, 1, 2, 3]


def test_different_counts_without_labels_say_so() -> None:
    a = pa.table({"index": np.arange(1000)})
    b = pa.table({"index": np.arange(900)})
    with pytest.raises(RowsDifferError) as error:
        align_rows(a, b, ("run1/emb", "run2/emb"))
    assert str(error.value) == (
        "run1/emb has 1000 rows and run2/emb has 900: they are not the same items, and no "
        "metadata column of unique labels is in both to pair them by"
    )
    assert error.value.status == 400 and error.value.code == "rows_differ"


def test_different_labels_are_not_paired_even_with_the_same_count() -> None:
    a = pa.table({"word": ["cat", "dog", "emu"]})
    b = pa.table({"word": ["cat", "dog", "yak"]})
    with pytest.raises(
        RowsDifferError,
        match=r"1 of a's 3 are not in b \(e.g. 'emu'\) and 1 of b's 3 are not in a \(e.g. 'yak'\)",
    ):
        align_rows(a, b)


def test_label_columns_skip_repeats_gaps_floats_and_row_numbers() -> None:
    table = pa.table(
        {
            "index": np.arange(3),
            "word": ["a", "b", "c"],
            "tag": ["x", "x", "y"],
            "gap": ["a", None, "c"],
            "score": [0.1, 0.2, 0.3],
            "id": [7, 8, 9],
        }
    )
    assert label_columns(table) == ["word", "id"]

"""The neighbours two k-NN sets share, counted once for drift, overlap and faithfulness."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from embedding_projector.compute import neighbour_sets
from embedding_projector.compute.neighbour_sets import (
    NeighbourParams,
    jaccard,
    kept_share,
    neighbour_params,
    shared_neighbours,
)
from embedding_projector.errors import InvalidParameterError


def test_known_sets() -> None:
    ours = np.array([[1, 2, 3], [1, 2, 3], [4, 5, 6]], np.int32)
    theirs = np.array([[3, 2, 1], [3, 9, 8], [7, 8, 9]], np.int32)
    np.testing.assert_array_equal(shared_neighbours(ours, theirs), [3, 1, 0])
    np.testing.assert_allclose(jaccard(ours, theirs), [1.0, 1 / 5, 0.0])
    np.testing.assert_allclose(kept_share(ours, theirs), [1.0, 1 / 3, 0.0])


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 12), st.integers(1, 40), st.randoms(use_true_random=False))
def test_counts_equal_python_sets(k: int, n: int, random: object) -> None:
    rng = np.random.default_rng(random.randrange(2**32))  # type: ignore[attr-defined]
    pool = 2 * k + 3  # small: many rows share some neighbours
    ours = np.array([rng.choice(pool, k, replace=False) for _ in range(n)], np.int32)
    theirs = np.array([rng.choice(pool, k, replace=False) for _ in range(n)], np.int32)
    expected = [len(set(a) & set(b)) for a, b in zip(ours.tolist(), theirs.tolist(), strict=True)]
    assert shared_neighbours(ours, theirs).tolist() == expected


def test_blocks_cover_every_row(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(neighbour_sets, "_BLOCK_ROWS", 7)
    rng = np.random.default_rng(1)
    ours = np.argsort(rng.random((50, 9)), axis=1)[:, :4].astype(np.int32)
    theirs = np.argsort(rng.random((50, 9)), axis=1)[:, :4].astype(np.int32)
    expected = [len(set(a) & set(b)) for a, b in zip(ours.tolist(), theirs.tolist(), strict=True)]
    assert shared_neighbours(ours, theirs).tolist() == expected


def test_bad_parameters_name_the_field() -> None:
    with pytest.raises(InvalidParameterError, match="`k`"):
        neighbour_params({"k": 100}, 100)
    with pytest.raises(InvalidParameterError, match="metric"):
        neighbour_params({"metric": "manhattan"}, 100)
    with pytest.raises(InvalidParameterError, match="unknown parameter `K`"):
        neighbour_params({"K": 3}, 100)
    with pytest.raises(InvalidParameterError, match="must be an object"):
        neighbour_params([3], 100)
    with pytest.raises(InvalidParameterError, match="at least 2 points"):
        neighbour_params({}, 1)
    assert neighbour_params({}, 100) == NeighbourParams(10, "cosine")
    widest = neighbour_params({"k": 99, "metric": "euclidean"}, 100)
    assert widest == NeighbourParams(99, "euclidean")

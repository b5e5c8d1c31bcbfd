"""The overlap of two embeddings' k-NN sets equals a brute-force computation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from embedding_projector.compute import overlap
from embedding_projector.compute.progress import Progress, Stopped
from embedding_projector.errors import InvalidParameterError

from .knn_data import brute_force, clustered, datasets


def brute_force_overlap(A: np.ndarray, B: np.ndarray, k: int, metric: str) -> np.ndarray:
    """Python sets of every row's brute-force neighbours, and their Jaccard index."""
    result = []
    for i in range(len(A)):
        ours = set(brute_force(A, A[i], metric, k, [i])[0].tolist())
        theirs = set(brute_force(B, B[i], metric, k, [i])[0].tolist())
        result.append(len(ours & theirs) / len(ours | theirs))
    return np.array(result)


@settings(max_examples=60, deadline=None)
@given(A=st.one_of(datasets(), clustered()), data=st.data())
def test_overlap_equals_brute_force(A: np.ndarray, data: st.DataObject) -> None:
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    # The other space: the same rows moved a little, a lot, or in another dimension.
    B = data.draw(
        st.sampled_from(
            [
                A + rng.normal(scale=0.05, size=A.shape).astype(np.float32),
                rng.normal(size=A.shape).astype(np.float32),
                np.concatenate([A, rng.normal(size=(len(A), 3)).astype(np.float32)], axis=1),
            ]
        )
    )
    k = data.draw(st.integers(1, len(A) - 1))
    metric = data.draw(st.sampled_from(["cosine", "euclidean"]))
    found = overlap.overlap(A, B, k=k, metric=metric)
    assert found.dtype == np.float32 and found.shape == (len(A),)
    np.testing.assert_allclose(found, brute_force_overlap(A, B, k, metric), rtol=1e-6)


def test_same_space_overlaps_fully_and_a_shuffled_one_barely() -> None:
    rng = np.random.default_rng(1)
    A = rng.normal(size=(500, 8)).astype(np.float32)
    assert np.all(overlap.overlap(A, A.copy(), k=10) == 1.0)
    shuffled = overlap.overlap(A, A[rng.permutation(500)], k=10)
    assert shuffled.mean() < 0.05


def test_progress_covers_both_spaces_and_stops_when_asked() -> None:
    rng = np.random.default_rng(2)
    A = rng.normal(size=(300, 4)).astype(np.float32)
    seen: list[float] = []

    def follow(progress: Progress) -> bool:
        seen.append(progress.fraction)
        return False

    overlap.overlap(A, A + 1, k=5, callback=follow)
    assert min(seen) == 0.0 and max(seen) == 1.0 and any(0.5 <= f < 1 for f in seen)
    with pytest.raises(Stopped):
        overlap.overlap(A, A + 1, k=5, callback=lambda progress: progress.fraction >= 0.5)


def test_rows_that_differ_are_refused() -> None:
    with pytest.raises(InvalidParameterError, match="100 and 99 rows"):
        overlap.overlap(np.ones((100, 2), np.float32), np.ones((99, 2), np.float32))

from __future__ import annotations

import numpy as np
import pytest

from embedding_projector.compute import preprocess
from embedding_projector.compute.hashing import content_hash
from embedding_projector.errors import InvalidParameterError


def test_spherize_centres_and_normalises(small_dataset: np.ndarray) -> None:
    X = small_dataset + 5
    out = preprocess.spherize(X)
    expected = X - X.mean(axis=0)
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, expected, atol=1e-6)


def test_spherize_keeps_a_vector_at_the_centroid_zero() -> None:
    X = np.array([[1, 1], [3, 3], [2, 2]], dtype=np.float32)  # the last is the centroid
    out = preprocess.spherize(X)
    assert not np.isnan(out).any()
    np.testing.assert_array_equal(out[2], [0, 0])
    np.testing.assert_allclose(np.linalg.norm(out[:2], axis=1), 1, atol=1e-6)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (np.zeros(3), "2-D"),
        (np.full((2, 2), np.nan), "NaN"),
        (np.array([["a", "b"]]), "real numbers"),
        (np.zeros((0, 3)), "at least 1 rows"),
    ],
)
def test_invalid_vectors_are_rejected(value: np.ndarray, message: str) -> None:
    with pytest.raises(InvalidParameterError, match=message):
        preprocess.spherize(value)


def test_content_hash_depends_on_values_and_shape_only(small_dataset: np.ndarray) -> None:
    fortran = np.asfortranarray(small_dataset)
    assert content_hash(small_dataset) == content_hash(fortran)
    assert content_hash(small_dataset) == content_hash(small_dataset.astype(np.float64))
    changed = small_dataset.copy()
    changed[5, 3] += 1e-3
    assert content_hash(changed) != content_hash(small_dataset)
    assert content_hash(small_dataset.reshape(400, 8)) != content_hash(small_dataset)

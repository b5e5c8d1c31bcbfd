from __future__ import annotations

import numpy as np
import pytest

from embedding_projector.compute import custom
from embedding_projector.compute.preprocess import spherize
from embedding_projector.errors import InvalidParameterError


def test_matches_a_hand_computation() -> None:
    X = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1]], dtype=np.float32)
    left = np.array([True, False, False, False])
    out = custom.run(X, left=left, right=[1], up=[2, 3], down=[0])
    x_axis = X[1] - X[0]
    y_axis = (X[2] + X[3]) / 2 - X[0]
    np.testing.assert_allclose(out, np.stack([X @ x_axis, X @ y_axis], axis=1))


def test_spherize_uses_spherized_vectors(small_dataset: np.ndarray) -> None:
    out = custom.run(small_dataset, left=[0, 1], right=[2], up=[3], down=[4, 5], spherize=True)
    S = spherize(small_dataset).astype(np.float64)
    x_axis = S[2] - S[[0, 1]].mean(axis=0)
    y_axis = S[3] - S[[4, 5]].mean(axis=0)
    np.testing.assert_allclose(out[:, 0], S @ x_axis, atol=1e-5)
    np.testing.assert_allclose(out[:, 1], S @ y_axis, atol=1e-5)


def test_a_query_without_matches_is_an_error(small_dataset: np.ndarray) -> None:
    empty = np.zeros(200, dtype=bool)
    with pytest.raises(InvalidParameterError, match="`up` query matches no point"):
        custom.run(small_dataset, left=[0], right=[1], up=empty, down=[2])


def test_a_mask_of_the_wrong_length_is_an_error(small_dataset: np.ndarray) -> None:
    with pytest.raises(InvalidParameterError, match="`left` mask must have 200 values"):
        custom.run(small_dataset, left=[True], right=[1], up=[2], down=[3])

from __future__ import annotations

import numpy as np
import pytest
from sklearn.decomposition import PCA

from embedding_projector.compute import pca
from embedding_projector.compute.progress import Stopped
from embedding_projector.errors import InvalidParameterError


def test_matches_scikit_learn_including_signs(digits: tuple[np.ndarray, np.ndarray]) -> None:
    X, _ = digits
    found = pca.run(X)
    reference = PCA(10, svd_solver="full").fit(X.astype(np.float64))
    np.testing.assert_allclose(
        found.explained_variance_ratio, reference.explained_variance_ratio_, rtol=1e-6
    )
    np.testing.assert_allclose(found.coordinates, reference.transform(X), atol=1e-3)
    assert found.coordinates.dtype == np.float32


@pytest.mark.parametrize("features", [pca.FULL_EIGH_FEATURES, pca.FULL_EIGH_FEATURES + 1])
def test_both_eigensolvers_match_scikit_learn(features: int) -> None:
    # Whole decomposition (numpy) up to FULL_EIGH_FEATURES, top eigenpairs (scipy) above.
    rng = np.random.default_rng(3)
    X = (rng.standard_normal((2_000, features)) * np.geomspace(3, 1, features)).astype(np.float32)
    found = pca.run(X)
    reference = PCA(10, svd_solver="full").fit(X.astype(np.float64))
    np.testing.assert_allclose(
        found.explained_variance_ratio, reference.explained_variance_ratio_, rtol=1e-5
    )
    np.testing.assert_allclose(found.coordinates, reference.transform(X), atol=1e-3)


def test_blocked_accumulation_equals_one_block(
    small_dataset: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = pca.run(small_dataset + 100)
    monkeypatch.setattr(pca, "BLOCK_ROWS", 7)
    blocked = pca.run(small_dataset + 100)
    np.testing.assert_allclose(blocked.coordinates, whole.coordinates, atol=1e-5)
    # Each block's product is float32: sums of other blocks agree to float32 precision.
    np.testing.assert_allclose(
        blocked.explained_variance_ratio, whole.explained_variance_ratio, rtol=1e-6
    )


def test_float32_products_keep_float64_precision_despite_an_offset() -> None:
    # Centring in float64 before the float32 products keeps small variances exact
    # even on top of a large common offset (float32 spacing at 1e4 is 1e-3).
    rng = np.random.default_rng(2)
    X = (rng.standard_normal((20_000, 24)) * np.geomspace(1, 1e-2, 24) + 1e4).astype(np.float32)
    found = pca.run(X)
    Z = X.astype(np.float64) - X.astype(np.float64).mean(axis=0)
    eigenvalues, eigenvectors = np.linalg.eigh(Z.T @ Z)
    ratio = eigenvalues[::-1][:10] / eigenvalues.sum()
    np.testing.assert_allclose(found.explained_variance_ratio, ratio, rtol=1e-5)
    reference = np.abs(Z @ eigenvectors[:, ::-1][:, :10])
    scale = np.abs(reference).max(axis=0)
    np.testing.assert_allclose(np.abs(found.coordinates) / scale, reference / scale, atol=1e-5)


def test_reads_a_memory_map(small_dataset: np.ndarray, tmp_path: object) -> None:
    path = f"{tmp_path}/x.npy"
    np.save(path, small_dataset)
    mapped = pca.run(np.load(path, mmap_mode="r"), n_components=3)
    np.testing.assert_allclose(
        mapped.coordinates, pca.run(small_dataset, n_components=3).coordinates
    )


def test_few_features_cap_the_components() -> None:
    X = np.random.default_rng(1).standard_normal((50, 4)).astype(np.float32)
    found = pca.run(X)
    assert found.coordinates.shape == (50, 4)
    assert found.explained_variance_ratio.sum() == pytest.approx(1.0)


def test_callback_can_stop(small_dataset: np.ndarray) -> None:
    with pytest.raises(Stopped):
        pca.run(small_dataset, callback=lambda progress: True)


def test_invalid_n_components(small_dataset: np.ndarray) -> None:
    with pytest.raises(InvalidParameterError, match="`n_components` must be between 1 and 10"):
        pca.run(small_dataset, n_components=11)

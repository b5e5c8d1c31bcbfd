"""Aligned PCA of a training timeline, against numpy and scikit-learn on the real timelines."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.decomposition import PCA

import embedding_projector
from embedding_projector.compute import pca
from embedding_projector.compute.progress import Progress, Stopped
from embedding_projector.compute.timeline import aligned_pca
from embedding_projector.errors import InvalidParameterError
from tests.test_steps import TIMELINE


def timeline(fixture: str, name: str) -> list[np.ndarray]:
    """The vectors of every step of an embedding, as the data layer reads them."""
    (emb,) = [e for e in embedding_projector.open(TIMELINE / fixture) if e.name == name]
    return [step.vectors for step in emb.steps]


TIMELINES = [("tf2_checkpoint_manager", "embedding"), ("torch_add_embedding_steps", "words")]


@pytest.mark.parametrize(("fixture", "name"), TIMELINES)
def test_equals_a_numpy_reference_up_to_one_sign_per_axis(fixture: str, name: str) -> None:
    steps = timeline(fixture, name)
    found = aligned_pca(steps, n_components=5)

    stacked = np.vstack(steps).astype(np.float64)
    mean = stacked.mean(axis=0)
    eigenvalues, eigenvectors = np.linalg.eigh((stacked - mean).T @ (stacked - mean))
    axes = eigenvectors[:, ::-1][:, :5]
    reference = np.stack([(X.astype(np.float64) - mean) @ axes for X in steps])

    assert found.coordinates.shape == (len(steps), steps[0].shape[0], 5)
    assert found.coordinates.dtype == np.float32
    np.testing.assert_allclose(found.mean, mean, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(
        found.explained_variance_ratio, eigenvalues[::-1][:5] / eigenvalues.sum(), rtol=1e-5
    )
    for axis in range(5):
        # One sign per axis, the same for every step: the steps share their axes. (float32
        # products: within 1e-4 of each axis' extent, where a wrong basis is off by ~1.)
        sign = np.sign(np.vdot(found.coordinates[..., axis], reference[..., axis]))
        scale = np.abs(reference[..., axis]).max()
        np.testing.assert_allclose(
            found.coordinates[..., axis] / scale, sign * reference[..., axis] / scale, atol=1e-4
        )


def test_equals_scikit_learn_on_the_stacked_steps() -> None:
    steps = timeline("tensorboardx_add_embedding_steps", "words")
    found = aligned_pca(steps)
    reference = PCA(10, svd_solver="full").fit(np.vstack(steps).astype(np.float64))
    for X, coordinates in zip(steps, found.coordinates, strict=True):
        np.testing.assert_allclose(coordinates, reference.transform(X), atol=2e-5)


def test_shows_motion_that_separate_pcas_hide() -> None:
    # Step 1 is step 0 turned a quarter in the plane of its two main axes: each step alone
    # has the same PCA picture, one basis shows every point turned.
    rng = np.random.default_rng(0)
    first = np.zeros((500, 6), np.float32)  # in a plane of 6 dimensions, centred
    first[:, :2] = rng.standard_normal((500, 2)) * [5, 3]
    first -= first.mean(axis=0)
    turned = first[:, [1, 0, 2, 3, 4, 5]] * np.float32([-1, 1, 1, 1, 1, 1])
    alone = [np.abs(pca.run(X, n_components=2).coordinates) for X in (first, turned)]
    np.testing.assert_allclose(alone[0], alone[1], atol=1e-4)
    together = aligned_pca([first, turned], n_components=2).coordinates
    radius = np.hypot(together[..., 0], together[..., 1])
    np.testing.assert_allclose(radius[0], radius[1], atol=1e-4)  # points keep their place...
    angles = np.arctan2(together[..., 1], together[..., 0])
    turn = np.abs(np.angle(np.exp(1j * (angles[1] - angles[0]))))
    assert np.median(turn) == pytest.approx(np.pi / 2, abs=1e-3)  # ...turned a quarter


def test_memory_mapped_steps(tmp_path: Path) -> None:
    steps = timeline("tf2_checkpoint_manager", "embedding")
    mapped = []
    for i, X in enumerate(steps):
        np.save(tmp_path / f"{i}.npy", X)
        mapped.append(np.load(tmp_path / f"{i}.npy", mmap_mode="r"))
    np.testing.assert_array_equal(
        aligned_pca(mapped).coordinates, aligned_pca([np.array(X) for X in steps]).coordinates
    )


def test_blocks_across_steps_equal_one_block(monkeypatch: pytest.MonkeyPatch) -> None:
    steps = timeline("torch_add_embedding_steps", "words")
    whole = aligned_pca(steps)
    monkeypatch.setattr(pca, "BLOCK_ROWS", 7)
    blocked = aligned_pca(steps)
    np.testing.assert_allclose(blocked.coordinates, whole.coordinates, atol=1e-5)


def test_progress_runs_to_the_end_and_can_stop() -> None:
    steps = timeline("tf2_checkpoint_manager", "embedding")
    reports: list[Progress] = []
    aligned_pca(steps, callback=reports.append)
    fractions = [p.fraction for p in reports]
    assert fractions == sorted(fractions) and fractions[-1] == pytest.approx(1.0)
    assert {p.message for p in reports} == {"accumulating covariance", "projecting"}
    with pytest.raises(Stopped):
        aligned_pca(steps, callback=lambda p: p.message == "projecting")


def test_steps_of_another_shape_are_refused() -> None:
    steps = timeline("tf2_resized", "embedding")
    with pytest.raises(InvalidParameterError) as info:
        aligned_pca(steps)
    assert str(info.value) == (
        "step 1 is 60 × 4 but step 0 is 50 × 8: aligned steps must have the same points "
        "(rows) and dimensions"
    )
    with pytest.raises(InvalidParameterError, match="at least one step"):
        aligned_pca([])


def test_fit_on_several_arrays_equals_fit_on_their_rows(small_dataset: np.ndarray) -> None:
    parts = [small_dataset[:50], small_dataset[50:]]
    basis = pca.fit(parts, n_components=4)
    whole = pca.run(small_dataset, n_components=4)
    np.testing.assert_allclose(basis.components, whole.components, atol=1e-6)
    np.testing.assert_allclose(pca.project(small_dataset, basis), whole.coordinates, atol=1e-5)
    with pytest.raises(InvalidParameterError, match="same width D, got \\[3, 16\\]"):
        pca.fit([small_dataset, small_dataset[:, :3]])
    with pytest.raises(InvalidParameterError, match="`X` has 3 dimensions, the basis 16"):
        pca.project(small_dataset[:, :3], basis)

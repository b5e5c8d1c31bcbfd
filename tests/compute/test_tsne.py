from __future__ import annotations

import numpy as np
import pytest

from embedding_projector.compute import tsne
from embedding_projector.compute.progress import Progress, Stopped
from embedding_projector.errors import InvalidParameterError

from .conftest import knn_accuracy


def test_digits_layout_separates_the_classes(digits: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = digits
    reports: list[Progress] = []
    layout = tsne.run(X, n_iter=250, random_state=0, callback=reports.append)
    assert layout.shape == (1797, 2)
    assert layout.dtype == np.float32
    assert knn_accuracy(layout, y) >= 0.9
    iterations = [r.iteration for r in reports if r.iteration is not None]
    assert iterations == sorted(iterations) and iterations[-1] == 250
    assert all(r.embedding is not None and r.error is not None for r in reports[3:-1])
    assert reports[-1].fraction == 1.0


def test_supervision_improves_label_separation(digits: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = digits[0][:600], digits[1][:600]
    labels: list[object] = [int(v) for v in y]
    labels[::10] = [None] * len(labels[::10])  # unlabelled points are allowed
    plain = tsne.run(X, n_iter=150, perplexity=20, random_state=0)
    supervised = tsne.run(
        X, n_iter=150, perplexity=20, random_state=0, labels=labels, supervise=1.0
    )
    assert knn_accuracy(supervised, y) > knn_accuracy(plain, y)


def test_a_first_layout_comes_before_the_neighbours(small_dataset: np.ndarray) -> None:
    reports: list[Progress] = []
    tsne.run(small_dataset, n_iter=20, random_state=0, callback=reports.append)
    first = next(p for p in reports if p.embedding is not None)
    assert first.message == "finding nearest neighbours" and first.iteration is None
    assert first.embedding.shape == (len(small_dataset), 2)
    assert np.ptp(first.embedding, axis=0).min() > 0  # the PCA layout, not zeros


def test_three_dimensions_use_barnes_hut(small_dataset: np.ndarray) -> None:
    layout = tsne.run(small_dataset, n_components=3, n_iter=60, perplexity=10, random_state=0)
    assert layout.shape == (200, 3)
    assert np.isfinite(layout).all()


def test_stop_keeps_the_partial_layout(small_dataset: np.ndarray) -> None:
    def stop_at_20(progress: Progress) -> bool:
        return progress.iteration is not None and progress.iteration >= 20

    with pytest.raises(Stopped) as stopped:
        tsne.run(small_dataset, n_iter=500, perplexity=10, callback=stop_at_20)
    assert stopped.value.partial is not None
    assert stopped.value.partial.shape == (200, 2)


def test_perturb_moves_points_within_the_radius() -> None:
    layout = np.random.default_rng(0).standard_normal((500, 2))
    radius = np.linalg.norm(layout, axis=1).max()
    before = layout.copy()
    tsne.perturb(layout, random_state=1)
    assert not np.array_equal(layout, before)
    assert np.abs(layout - before).max() < 0.2 * radius
    np.testing.assert_allclose(layout.mean(axis=0), 0, atol=1e-12)


def test_convergence_needs_a_small_decrease() -> None:
    window = tsne._WINDOW // tsne.REPORT_EVERY
    assert not tsne._has_converged([1.0] * window)
    assert tsne._has_converged([1.0] + [0.9995] * window)
    assert not tsne._has_converged([1.0] + [0.9] * window)
    assert not tsne._has_converged([1.0] + [1.2] * window)  # rose after a perturbation


def test_supervised_affinities_follow_tensorboard() -> None:
    from scipy.sparse import csr_matrix

    P = csr_matrix(np.full((4, 4), 1 / 12) - np.eye(4) / 12)
    classes = np.array([0, 0, 1, -1])
    weighted = tsne.supervised_affinities(P, classes, 1.0).toarray()
    assert weighted.sum() == pytest.approx(1.0)
    assert weighted[0, 1] > weighted[0, 3] > weighted[0, 2]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"perplexity": 100}, r"`perplexity` must be < \(n_samples - 1\) / 3 = 66.33, got 100"),
        ({"perplexity": 1}, "`perplexity` must be >= 2"),
        ({"learning_rate": -1}, "`learning_rate` must be > 0"),
        ({"n_components": 4}, "`n_components` must be one of 2, 3"),
        ({"supervise": 2}, "`supervise` must be >= 0"),
        ({"labels": [1, 2], "supervise": 0.5}, "`labels` must have 200 values"),
    ],
)
def test_invalid_parameters(
    small_dataset: np.ndarray, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidParameterError, match=message):
        tsne.run(small_dataset, **kwargs)  # type: ignore[arg-type]


def test_a_given_start_is_continued_and_a_bad_one_is_refused() -> None:
    from scipy.spatial import procrustes

    from tests.test_steps import TIMELINE

    folder = TIMELINE / "expected" / "torch_add_embedding_steps"
    before, after = (np.load(folder / f"words_{n:05d}.npy") for n in (200, 300))
    previous = tsne.run(before, perplexity=10, n_iter=200)
    continued = tsne.run(after, perplexity=10, n_iter=200, init=previous)
    assert procrustes(previous, continued)[2] < 0.2  # measured 0.05; a fresh start's 0.72
    with pytest.raises(InvalidParameterError, match=r"`init` must be 200 × 2 finite numbers"):
        tsne.run(after, init=np.full((200, 2), np.nan))

from __future__ import annotations

import numpy as np
import pytest

from embedding_projector.compute import umap
from embedding_projector.compute.progress import Progress, Stopped
from embedding_projector.errors import InvalidParameterError

from .conftest import knn_accuracy


def test_digits_layout_separates_the_classes(digits: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = digits
    reports: list[Progress] = []
    layout = umap.run(X, n_epochs=100, random_state=0, callback=reports.append)
    assert layout.shape == (1797, 2)
    assert knn_accuracy(layout, y) >= 0.9
    epochs = [r.iteration for r in reports if r.iteration is not None]
    assert epochs[-1] == 100
    assert reports[-1].fraction == 1.0
    assert all(r.embedding is not None for r in reports if r.iteration is not None)


def test_cosine_three_dimensions_and_stop(small_dataset: np.ndarray) -> None:
    def stop_at_10(progress: Progress) -> bool:
        return progress.iteration is not None and progress.iteration >= 10

    with pytest.raises(Stopped) as stopped:
        umap.run(small_dataset, n_components=3, metric="cosine", n_epochs=50, callback=stop_at_10)
    assert stopped.value.partial is not None
    assert stopped.value.partial.shape == (200, 3)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_neighbors": 4}, "`n_neighbors` must be between 5 and 50"),
        ({"min_dist": 1.0}, "`min_dist` must be >= 0"),
        ({"metric": "manhattan"}, "`metric` must be one of"),
    ],
)
def test_invalid_parameters(
    small_dataset: np.ndarray, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidParameterError, match=message):
        umap.run(small_dataset, **kwargs)  # type: ignore[arg-type]


def test_n_neighbors_must_be_below_the_number_of_points() -> None:
    with pytest.raises(InvalidParameterError, match="`n_neighbors` must be < n_samples = 10"):
        umap.run(np.eye(10, dtype=np.float32), n_neighbors=10)


def test_a_given_start_is_kept_and_refined() -> None:
    from scipy.spatial import procrustes

    from tests.test_steps import TIMELINE

    folder = TIMELINE / "expected" / "torch_add_embedding_steps"
    before, after = (np.load(folder / f"words_{n:05d}.npy") for n in (200, 300))
    previous = umap.run(before, random_state=0, n_epochs=100)
    continued = umap.run(after, random_state=0, n_epochs=100, init=previous)
    fresh = umap.run(after, random_state=1, n_epochs=100)
    assert procrustes(previous, continued)[2] < 0.5 * procrustes(previous, fresh)[2]


def test_a_bad_start_is_refused(small_dataset: np.ndarray) -> None:
    with pytest.raises(InvalidParameterError, match=r"`init` must be 200 × 2 finite numbers"):
        umap.run(small_dataset[:200], init=np.zeros((10, 2)))

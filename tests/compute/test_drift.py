"""Drift of every point across steps, against a brute-force computation."""

from __future__ import annotations

import numpy as np
import pytest

from embedding_projector.compute import drift as drift_module
from embedding_projector.compute.drift import drift
from tests.test_steps import TIMELINE

WORDS = TIMELINE / "expected" / "torch_add_embedding_steps"


def brute_neighbours(X: np.ndarray, k: int, metric: str) -> list[set[int]]:
    """Every row's k nearest other rows, in float64, ties by the lower index."""
    Y = X.astype(np.float64)
    if metric == "cosine":
        norms = np.linalg.norm(Y, axis=1, keepdims=True)
        Y = np.divide(Y, norms, out=np.zeros_like(Y), where=norms > 0)
        distances = 1 - Y @ Y.T
    else:
        distances = ((Y[:, None, :] - Y[None, :, :]) ** 2).sum(axis=2)
    np.fill_diagonal(distances, np.inf)
    return [set(np.lexsort((np.arange(len(row)), row))[:k].tolist()) for row in distances]


def brute_drift(steps: list[np.ndarray], k: int, metric: str) -> np.ndarray:
    sets = [brute_neighbours(X, k, metric) for X in steps]
    out = np.empty((len(steps), len(steps[0]), 2), np.float32)
    for s, mine in enumerate(sets):
        for i, neighbours in enumerate(mine):
            out[s, i, 0] = np.nan if s == 0 else len(neighbours & sets[s - 1][i]) / k
            out[s, i, 1] = len(neighbours & sets[-1][i]) / k
    return out


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
@pytest.mark.parametrize("k", [1, 10, 30])
def test_drift_of_the_pytorch_timeline_equals_brute_force(metric: str, k: int) -> None:
    steps = [np.load(WORDS / f"words_{n:05d}.npy") for n in (0, 100, 200, 300)]
    found = drift(steps, k=k, metric=metric)
    assert found.shape == (4, 200, 2) and found.dtype == np.float32
    np.testing.assert_array_equal(found, brute_drift(steps, k, metric))
    # Training moved the words: early steps kept fewer of their last neighbours.
    assert found[0, :, 1].mean() < found[2, :, 1].mean() < 1.0


def test_drift_of_random_steps_equals_brute_force() -> None:
    rng = np.random.default_rng(3)
    first = rng.standard_normal((300, 6)).astype(np.float32)
    steps = [first + np.float32(0.3 * s) * rng.standard_normal(first.shape, dtype=np.float32)
             for s in range(5)]  # fmt: skip
    np.testing.assert_array_equal(drift(steps, k=7), brute_drift(steps, 7, "cosine"))


def test_each_step_graph_is_built_once(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[int] = []
    real = drift_module.neighbour_sets

    def counting(X: np.ndarray, **kwargs: object) -> np.ndarray:
        built.append(int(X[0, 0]))
        return real(X, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(drift_module, "neighbour_sets", counting)
    rng = np.random.default_rng(0)
    steps = [rng.standard_normal((40, 3)).astype(np.float32) for _ in range(6)]
    for s, X in enumerate(steps):
        X[0, 0] = s  # names the step in the count
    drift(steps, k=3)
    assert sorted(built) == list(range(6))

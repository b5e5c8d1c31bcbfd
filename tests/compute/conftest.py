"""Fixtures of the compute tests: small seeded data and an isolated cache directory."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

# numba's compiled code is expensive (tens of seconds): share the persistent cache
# the Makefile uses instead of recompiling into every temporary directory.
os.environ.setdefault(
    "NUMBA_CACHE_DIR", str(Path.home() / ".cache" / "embedding-projector" / "numba")
)


@pytest.fixture(autouse=True)
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own cache directory."""
    path = tmp_path / "cache"
    monkeypatch.setenv("EMBEDDING_PROJECTOR_CACHE_DIR", str(path))
    return path


@pytest.fixture(scope="session")
def digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 1,797 handwritten digits (8 x 8 pixels) and their labels."""
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return X.astype(np.float32), y


@pytest.fixture
def small_dataset() -> np.ndarray:
    """200 x 16 seeded vectors."""
    return np.random.default_rng(0).standard_normal((200, 16)).astype(np.float32)


def knn_accuracy(layout: np.ndarray, labels: np.ndarray) -> float:
    """Cross-validated 10-NN label accuracy of a layout (openTSNE's quality test)."""
    from sklearn.model_selection import cross_val_score
    from sklearn.neighbors import KNeighborsClassifier

    return float(cross_val_score(KNeighborsClassifier(10), layout, labels, cv=5).mean())

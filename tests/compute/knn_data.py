"""What the exact neighbour tests share: the definition of "nearest" and data that tests it."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp


def brute_force(
    Y: np.ndarray, q: np.ndarray, metric: str, k: int, exclude: list[int]
) -> tuple[np.ndarray, np.ndarray]:
    """The definition: float64 distances to every row, ties broken by index."""
    Y, q = Y.astype(np.float64), q.astype(np.float64)
    if metric == "euclidean":
        d = np.sqrt(((Y - q) ** 2).sum(axis=1))
    else:
        norms, q_norm = np.sqrt((Y * Y).sum(axis=1)), np.sqrt((q * q).sum())
        valid = (norms > 0) & (q_norm > 0)
        d = np.where(valid, 1 - (Y * q).sum(axis=1) / np.where(valid, norms * q_norm, 1), 1.0)
    d[exclude] = np.inf
    order = np.lexsort((np.arange(d.size), d))[:k]
    return order, d[order]


@st.composite
def datasets(draw: st.DrawFn) -> np.ndarray:
    """Small matrices with duplicates, zero rows, ties and wide value ranges."""
    n = draw(st.integers(2, 60))
    d = draw(st.integers(1, 8))
    if draw(st.booleans()):  # small integers: many exact ties and duplicates
        X = draw(hnp.arrays(np.float32, (n, d), elements=st.integers(-2, 2).map(float)))
    else:
        finite = st.floats(-1e3, 1e3, allow_nan=False, width=32)
        X = draw(hnp.arrays(np.float32, (n, d), elements=finite))
    X = X * np.float32(draw(st.sampled_from([1e-3, 1.0, 50.0]))) + np.float32(
        draw(st.sampled_from([0.0, 10.0]))
    )
    for row in draw(st.lists(st.integers(0, n - 1), max_size=3)):
        X[row] = 0
    return X


@st.composite
def clustered(draw: st.DrawFn) -> np.ndarray:
    """Tight clusters far from the origin: distances within a cluster are near-ties."""
    n = draw(st.integers(20, 150))
    d = draw(st.integers(2, 16))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    centres = rng.standard_normal((draw(st.integers(1, 4)), d)) * draw(st.sampled_from([1, 100]))
    noise = rng.standard_normal((n, d)) * draw(st.sampled_from([1e-5, 1e-2, 1.0]))
    if draw(st.booleans()):  # coarse noise: exact duplicates and equal distances
        noise = np.round(noise, 2)
    X: np.ndarray = (centres[rng.integers(0, len(centres), n)] + noise).astype(np.float32)
    return X

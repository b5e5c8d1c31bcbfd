"""Drift of every point across the steps of a timeline: how much of its neighbourhood it kept.

For step ``s`` and point ``i``, with ``N_k(s, i)`` its exact k nearest neighbours in the
original space at that step (:func:`.neighbour_sets.neighbour_sets`, ties by the lower
index):

- **kept from the previous step**: ``|N_k(s, i) ∩ N_k(s - 1, i)| / k`` (NaN at step 0,
  which has no previous step);
- **kept from the last step**: ``|N_k(s, i) ∩ N_k(S - 1, i)| / k`` (1 at the last step).

1 means the point's neighbourhood did not change, 0 that none of its neighbours stayed.
Each step's graph is built once: the last step's is kept for all, the previous step's
for the next.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from embedding_projector.compute.neighbour_sets import DEFAULT_K, kept_share, neighbour_sets
from embedding_projector.compute.progress import Callback, within


def drift_step(graph: Callable[[int], np.ndarray], step: int, count: int) -> np.ndarray:
    """``(N, 2)`` float32 of one step: kept from the previous step, kept from the last.

    ``graph(s)`` returns step ``s``'s neighbour sets (the caller keeps those it reuses).
    """
    current = graph(step)
    previous = (
        np.full(len(current), np.nan, np.float32)
        if step == 0
        else kept_share(current, graph(step - 1))
    )
    last = (
        np.ones(len(current), np.float32)
        if step == count - 1
        else kept_share(current, graph(count - 1))
    )
    return np.stack([previous, last], axis=1)


def drift(
    steps: Sequence[np.ndarray],
    *,
    k: int = DEFAULT_K,
    metric: str = "cosine",
    callback: Callback | None = None,
) -> np.ndarray:
    """Drift of every point at every step: ``(S, N, 2)`` float32 (see the module).

    Parameters
    ----------
    steps
        ``S`` arrays ``(N, D)`` of the same points, oldest first (may be memory-mapped).
    k, metric
        Neighbours per point and their distance (``"cosine"`` or ``"euclidean"``).
    callback
        Receives :class:`~.progress.Progress`; returning True stops with
        :class:`~.progress.Stopped`.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).standard_normal((50, 4)).astype(np.float32)
    >>> drift([X, X], k=5)[1, :3].tolist()
    [[1.0, 1.0], [1.0, 1.0], [1.0, 1.0]]
    """
    graphs = GraphMemo(steps, k=k, metric=metric)
    count = len(steps)
    out = []
    for s in range(count):
        graphs.callback = within(callback, s / count, (s + 1) / count)
        out.append(graphs.drift(s))
    return np.stack(out)


class GraphMemo:
    """``graph(s)`` for :func:`drift_step`, steps asked for in order: each built once, and
    kept while it can still be asked for (the last step's always, another until the step
    after it has used it). ``callback`` receives the progress of the builds."""

    def __init__(self, steps: Sequence[np.ndarray], *, k: int, metric: str) -> None:
        self._steps = steps
        self._k, self._metric = k, metric
        self.callback: Callback | None = None
        self._built: dict[int, np.ndarray] = {}

    def drift(self, step: int) -> np.ndarray:
        """Step ``step``'s drift (:func:`drift_step` with these graphs)."""
        return drift_step(self, step, len(self._steps))

    def __call__(self, step: int) -> np.ndarray:
        if step not in self._built:
            X = self._steps[step]
            self._built[step] = neighbour_sets(
                X, k=self._k, metric=self._metric, callback=self.callback
            )
            # Steps before the previous one are not asked for again (but the last step is).
            if step != len(self._steps) - 1:
                for old in [s for s in self._built if s < step - 1]:
                    del self._built[old]
        return self._built[step]

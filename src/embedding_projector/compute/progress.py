"""How a long computation reports progress and is asked to stop.

Every compute function takes ``callback=None``: a callable that receives a
:class:`Progress` now and then and returns ``True`` to ask for a stop (the
openTSNE convention, see ``openTSNE/callbacks.py``). The function then raises
:class:`Stopped`, carrying the partial layout when there is one, so that a
cancelled t-SNE still shows where it got to.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Progress:
    """One progress report.

    Attributes
    ----------
    fraction
        Share of the work done, 0..1.
    message
        What is being done, for people ("computing affinities", "iteration 250").
    iteration
        Optimisation iteration (t-SNE) or epoch (UMAP), when there is one.
    embedding
        The current layout, ``(N, n_components)``. For t-SNE this is the live
        array being optimised: a callback may edit it in place (that is how
        "perturb" works) but must copy it to keep it.
    error
        The objective (t-SNE's KL divergence) when it was evaluated.
    """

    fraction: float
    message: str
    iteration: int | None = None
    embedding: np.ndarray | None = None
    error: float | None = None


Callback = Callable[[Progress], bool | None]


class Stopped(Exception):
    """The callback asked to stop; ``partial`` is the layout so far, if any."""

    def __init__(self, partial: np.ndarray | None = None) -> None:
        super().__init__("stopped by callback")
        self.partial = partial


def report(callback: Callback | None, progress: Progress) -> None:
    """Send ``progress`` to ``callback`` and raise :class:`Stopped` if it asks to stop."""
    if callback is not None and callback(progress):
        partial = None if progress.embedding is None else progress.embedding.copy()
        raise Stopped(partial)


def within(callback: Callback | None, start: float, stop: float) -> Callback | None:
    """``callback`` for one part of a longer computation: its fractions 0..1 become ``start..stop``.

    So that a function reporting its own 0..1 can be called as one stage of another.
    """
    if callback is None:
        return None
    outer = callback
    return lambda progress: outer(
        dataclasses.replace(progress, fraction=start + (stop - start) * progress.fraction)
    )

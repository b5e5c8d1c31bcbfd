"""Parameter checks shared by the compute functions; each raises :class:`InvalidParameterError`."""

from __future__ import annotations

from typing import Any

import numpy as np

from embedding_projector.errors import InvalidParameterError


def check_vectors(X: Any, *, name: str = "X", min_samples: int = 1) -> np.ndarray:
    """Return ``X`` as a 2-D float32 array (no copy when it already is one), or raise."""
    array = np.asarray(X)
    if array.ndim != 2:
        raise InvalidParameterError(f"`{name}` must be a 2-D array, got {array.ndim} dimensions")
    if array.shape[0] < min_samples:
        raise InvalidParameterError(
            f"`{name}` must have at least {min_samples} rows, got {array.shape[0]}"
        )
    if array.shape[1] < 1:
        raise InvalidParameterError(f"`{name}` must have at least one column")
    if not np.issubdtype(array.dtype, np.number) or np.issubdtype(array.dtype, np.complexfloating):
        raise InvalidParameterError(f"`{name}` must hold real numbers, got dtype {array.dtype}")
    array = array.astype(np.float32, copy=False)
    if not _all_finite(array):
        raise InvalidParameterError(f"`{name}` contains NaN or infinite values")
    return array


def _all_finite(array: np.ndarray, *, block_rows: int = 65_536) -> bool:
    """``np.isfinite(array).all()`` in row blocks, so a memory-mapped array is not copied whole."""
    return all(
        bool(np.isfinite(array[start : start + block_rows]).all())
        for start in range(0, array.shape[0], block_rows)
    )


def check_int(name: str, value: Any, *, low: int, high: int | None = None) -> int:
    """Return ``value`` as an int in ``[low, high]``, or raise naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise InvalidParameterError(f"`{name}` must be an integer, got {value!r}")
    number = int(value)
    if number < low or (high is not None and number > high):
        bounds = f"between {low} and {high}" if high is not None else f">= {low}"
        raise InvalidParameterError(f"`{name}` must be {bounds}, got {number}")
    return number


def check_float(
    name: str,
    value: Any,
    *,
    low: float,
    high: float | None = None,
    low_inclusive: bool = True,
) -> float:
    """Return ``value`` as a finite float in the given range, or raise naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise InvalidParameterError(f"`{name}` must be a number, got {value!r}")
    number = float(value)
    below = number < low if low_inclusive else number <= low
    if not np.isfinite(number) or below or (high is not None and number > high):
        op = ">=" if low_inclusive else ">"
        bounds = f"{op} {low}" + (f" and <= {high}" if high is not None else "")
        raise InvalidParameterError(f"`{name}` must be {bounds}, got {value!r}")
    return number


def check_choice(name: str, value: Any, choices: tuple[Any, ...]) -> Any:
    """Return ``value`` if it is one of ``choices``, or raise listing them."""
    if value not in choices:
        listed = ", ".join(repr(choice) for choice in choices)
        raise InvalidParameterError(f"`{name}` must be one of {listed}, got {value!r}")
    return value


def check_seed(value: Any) -> int | None:
    """A ``random_state``: None or a non-negative integer below 2**32."""
    if value is None:
        return None
    return check_int("random_state", value, low=0, high=2**32 - 1)


def check_start(layout: Any, n_samples: int, n_components: int) -> np.ndarray:
    """A layout to start an optimisation from (``init``): ``(N, n_components)`` finite float64."""
    start = np.asarray(layout, dtype=np.float64)
    if start.shape != (n_samples, n_components) or not np.isfinite(start).all():
        raise InvalidParameterError(
            f"`init` must be {n_samples} × {n_components} finite numbers, got shape {start.shape}"
        )
    return start

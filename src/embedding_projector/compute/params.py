"""Parameters of the projection methods: one record per parameter, read by everything else.

Each method's parameters are a frozen dataclass (``tsne.TsneParams``, ...) whose fields are
declared with :func:`param`: default, range, the step a slider offers and, where the
number of points bounds it, how. :func:`resolve` validates a request against it, the
server describes it to the page (``GET /api/config``), and the docs list it, so a default
or a range is written once.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from embedding_projector.compute.validation import check_choice, check_float, check_int
from embedding_projector.errors import InvalidParameterError

P = TypeVar("P")
_KEY = "projector_param"


@dataclass(frozen=True)
class BelowN:
    """An upper bound that depends on the number of points N: ``value < (N + offset) / divisor``.

    A parameter with such a bound that is not given defaults to its usual default, or to the
    largest whole number below the bound when N is small.
    """

    offset: int
    divisor: int

    def limit(self, n_samples: int) -> float:
        """The (exclusive) bound for ``n_samples`` points."""
        return (n_samples + self.offset) / self.divisor

    def formula(self) -> str:
        """The bound as text, for messages: ``(n_samples - 1) / 3``."""
        sign = "+" if self.offset > 0 else "-"
        n = f"(n_samples {sign} {abs(self.offset)})" if self.offset else "n_samples"
        return n if self.divisor == 1 else f"{n} / {self.divisor}"


@dataclass(frozen=True)
class Param:
    """What a parameter accepts and defaults to.

    Attributes
    ----------
    default
        The value when it is not given (before :attr:`below_n` lowers it for small N).
    doc
        One sentence for the docs and the page.
    low, high
        The range; None for no bound. ``low`` is exclusive when ``low_inclusive`` is False.
    integer
        Whole numbers only.
    step
        The step the page's slider or input offers (any value in range is accepted).
    choices
        The values allowed, for a parameter that is one of a few names.
    auto
        The string ``"auto"`` is accepted too (the library chooses).
    below_n
        The upper bound that depends on the number of points.
    """

    default: Any
    doc: str
    low: float | None = None
    high: float | None = None
    low_inclusive: bool = True
    integer: bool = False
    step: float | None = None
    choices: tuple[str, ...] = ()
    auto: bool = False
    below_n: BelowN | None = None

    def check(self, name: str, value: Any, n_samples: int) -> Any:
        """``value`` normalised, or :class:`InvalidParameterError` naming ``name``."""
        if value is None and self.default is None:
            return None
        if self.choices:
            return check_choice(name, value, self.choices)
        if self.auto and value == "auto":
            return value
        if self.integer:
            number: float = check_int(name, value, low=int(self.low or 0), high=_int(self.high))
        else:
            low = -math.inf if self.low is None else self.low
            inclusive = self.low_inclusive
            number = check_float(name, value, low=low, high=self.high, low_inclusive=inclusive)
        if self.below_n is not None and number >= self.below_n.limit(n_samples):
            raise InvalidParameterError(
                f"`{name}` must be < {self.below_n.formula()} = "
                f"{self.below_n.limit(n_samples):.4g}, got {number:g}"
            )
        return number

    def default_for(self, n_samples: int) -> Any:
        """The default for ``n_samples`` points, lowered to fit :attr:`below_n` if need be."""
        if self.below_n is None:
            return self.default
        largest = math.ceil(self.below_n.limit(n_samples)) - 1
        return max(self.low or 0, min(self.default, largest))


def param(default: Any, doc: str, **spec: Any) -> Any:
    """A dataclass field of a parameters class, with its :class:`Param`."""
    return dataclasses.field(default=default, metadata={_KEY: Param(default, doc, **spec)})


def params_of(cls: type) -> dict[str, Param]:
    """The :class:`Param` of every field of a parameters dataclass, in declaration order."""
    return {f.name: f.metadata[_KEY] for f in dataclasses.fields(cls) if _KEY in f.metadata}


def resolve(cls: type[P], given: Mapping[str, Any], n_samples: int) -> P:
    """Validate ``given`` against ``cls`` for ``n_samples`` points; absent ones get their default.

    Raises
    ------
    InvalidParameterError
        For an unknown name or a value out of range, naming it.
    """
    known = params_of(cls)
    for name in given:
        if name not in known:
            allowed = ", ".join(f"`{p}`" for p in known)
            raise InvalidParameterError(f"unknown parameter `{name}`: use {allowed}")
    values = {}
    for name, spec in known.items():
        value = given[name] if name in given else spec.default_for(n_samples)
        values[name] = spec.check(name, value, n_samples)
    return cls(**values)


def _int(value: float | None) -> int | None:
    return None if value is None else int(value)

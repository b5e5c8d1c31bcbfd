"""Run one benchmark case in a fresh process and report its wall time and peak memory."""

from __future__ import annotations

import importlib
import multiprocessing
import resource
from multiprocessing.connection import Connection
from typing import Any


def measure(module: str, function: str, **kwargs: Any) -> tuple[float, float, Any]:
    """``(seconds, peak_mb, extra)`` of ``module.function(**kwargs)`` in a spawned process.

    The function times its own work (imports and data generation excluded) and
    returns ``(seconds, extra)``. Peak memory is the child's maximum RSS, so it
    includes the input data.
    """
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(send, module, function, kwargs))
    process.start()
    send.close()
    try:
        outcome = receive.recv()
    finally:
        process.join()
    if isinstance(outcome, BaseException):
        raise outcome
    return outcome  # type: ignore[no-any-return]


def _child(send: Connection, module: str, function: str, kwargs: dict[str, Any]) -> None:
    try:
        seconds, extra = getattr(importlib.import_module(module), function)(**kwargs)
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        send.send((seconds, peak_mb, extra))
    except Exception as error:
        send.send(error)

"""Friendly names for checkpoint keys."""

from __future__ import annotations

_ATTRIBUTES = ".ATTRIBUTES"
_VARIABLE_VALUE = "VARIABLE_VALUE"


def display_name(key: str) -> str:
    """``embedding`` for ``embedding/.ATTRIBUTES/VARIABLE_VALUE``.

    TF2 object-based checkpoints escape ``.`` as ``..`` and ``/`` as ``.S`` inside each
    local name; the friendly name unescapes them. Other keys are returned unchanged.
    """
    parts = key.split("/")
    if len(parts) < 3 or parts[-2:] != [_ATTRIBUTES, _VARIABLE_VALUE]:
        return key
    return "/".join(_unescape(part) for part in parts[:-2])


def _unescape(local_name: str) -> str:
    out: list[str] = []
    chars = iter(local_name)
    for c in chars:
        if c == ".":
            nxt = next(chars, "")
            out.append({".": ".", "S": "/"}.get(nxt, "." + nxt))
        else:
            out.append(c)
    return "".join(out)


def canonical_tensor_name(name: str) -> str:
    """The name config entries and checkpoint keys are matched by: a trailing ``:0`` dropped."""
    return name.removesuffix(":0")

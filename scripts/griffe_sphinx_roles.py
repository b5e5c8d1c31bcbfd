"""A griffe extension for the docs build: Sphinx roles in docstrings become inline code.

The docstrings use numpydoc with roles such as ``:func:`show``` (read by IDEs and by
``help()``); mkdocstrings would print the role as text. Loaded by ``mkdocs.yml``.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:func|class|meth|attr|data|mod|exc|obj):`~?([^`]+)`")


class SphinxRoles(griffe.Extension):
    """``:func:`x``` → ```x``` in every docstring."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = _ROLE.sub(r"`\1`", obj.docstring.value)

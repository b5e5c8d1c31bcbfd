"""The user cache dir: computed results, shared vectors, demos, numba's compiled code."""

from __future__ import annotations

import os
from pathlib import Path

ENV_CACHE_DIR = "EMBEDDING_PROJECTOR_CACHE_DIR"


def default_cache_dir() -> Path:
    """``$EMBEDDING_PROJECTOR_CACHE_DIR`` if set, else the user cache dir of the app."""
    override = os.environ.get(ENV_CACHE_DIR)
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("embedding-projector"))

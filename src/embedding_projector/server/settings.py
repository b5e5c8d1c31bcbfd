"""Server settings, decided once at start-up."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from embedding_projector.user_cache import default_cache_dir

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 6006
#: Layouts of more points reach the page as tiles (level of detail; docs/decisions.md).
DEFAULT_LOD_THRESHOLD = 2_000_000
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


@dataclass(frozen=True)
class Settings:
    """How the server runs."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    token: str | None = None
    """Required on every request when set (always set beyond loopback); on loopback, set for a
    proxy, only on requests addressed to other host names (see ``security``)."""
    judge_host: bool = True
    """On loopback, refuse requests addressed to other host names (DNS rebinding). Off only
    where no browser runs on this machine and a proxy forwards requests (Google Colab)."""
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    """Compute worker processes."""
    cache_dir: Path = field(default_factory=default_cache_dir)
    static_dir: Path = STATIC_DIR
    projection: str | None = None
    """The projection the page shows first (``pca``, ``tsne``, ``umap``, ``custom``)."""
    cluster: Any = None
    """A connected Dask cluster (:class:`.distributed.cluster.Cluster`) for the work that
    grows with N, or None for this machine only; the server closes it when it stops."""
    lod_threshold: int = DEFAULT_LOD_THRESHOLD
    """Layouts of more points than this are served as tiles (:mod:`.compute.tiles`)."""

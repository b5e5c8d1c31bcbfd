"""Layouts the page shows, by id, with their tiles (level of detail) built once.

A layout is registered when the page asks for a job's (or a custom projection's) layout;
its id is a hash of its coordinates and of how it is tiled, so an id always names the same
tiles and the page's browser may cache them for good. Above the server's threshold the
page loads the tiles (:mod:`.compute.tiles`) instead of all coordinates; the tiles are
built in a thread the first time and kept in the result cache with the layout's id, so
reopening the same layout finds them on disk. The store keeps the few layouts shown last:
its memory does not grow with requests.
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from embedding_projector.compute import tiles
from embedding_projector.compute.cache import ResultCache, result_key
from embedding_projector.compute.hashing import content_hash
from embedding_projector.compute.tiles import TileTree
from embedding_projector.errors import NotFoundError

#: Layouts kept in memory (each with its tiles): ten million 2-D points take 120 MB.
KEPT_LAYOUTS = 3
#: Changes whenever the tiles of a layout would change (the tiler's rules, its seed).
TILES_VERSION = 2


class StaleLayoutError(NotFoundError):
    """A layout the server no longer holds: a newer one replaced it, or it restarted."""

    code = "stale_layout"


@dataclass(frozen=True)
class Layout:
    """A registered layout: ``(N, dims)`` float32 coordinates."""

    id: str
    positions: np.ndarray
    low: np.ndarray
    """float64 ``(dims,)``: the smallest finite coordinate on each axis (0 if none)."""
    high: np.ndarray

    @property
    def dims(self) -> int:
        """2 or 3."""
        return int(self.positions.shape[1])

    @property
    def n(self) -> int:
        """Rows, finite or not."""
        return int(self.positions.shape[0])


class LayoutStore:
    """The layouts shown last, by id, and their tiles."""

    def __init__(self, cache_dir: Path, *, threshold: int) -> None:
        self.threshold = threshold
        self.capacity = tiles.capacity_for(threshold)
        self._cache_dir = cache_dir
        self._layouts: OrderedDict[str, Layout] = OrderedDict()
        self._tiles: dict[str, TileTree] = {}
        self._lock = threading.Lock()
        self._building: dict[str, asyncio.Lock] = {}

    def add(self, positions: np.ndarray) -> Layout:
        """Register a layout (blocking: hashes it); the same coordinates give the same id."""
        digest = content_hash(positions)
        layout_id = result_key(
            {"layout": digest, "capacity": self.capacity, "tiles": TILES_VERSION}
        )[:32]
        with self._lock:
            known = self._layouts.get(layout_id)
        layout = known or Layout(layout_id, positions, *_bounds(positions))
        with self._lock:
            self._layouts[layout_id] = layout
            self._layouts.move_to_end(layout_id)
            while len(self._layouts) > KEPT_LAYOUTS:
                dropped, _ = self._layouts.popitem(last=False)
                self._tiles.pop(dropped, None)
                self._building.pop(dropped, None)
        return layout

    def get(self, layout_id: str) -> Layout:
        """The layout with this id, or a 404 ``stale_layout``."""
        with self._lock:
            layout = self._layouts.get(layout_id)
        if layout is None:
            raise StaleLayoutError(
                f"no layout {layout_id!r}: a newer layout replaced it (or the server restarted); "
                "ask for the projection's layout again"
            )
        return layout

    def tiled(self, layout: Layout) -> bool:
        """Whether the page gets this layout as tiles."""
        return layout.n > self.threshold

    async def tiles(self, layout: Layout) -> TileTree:
        """The layout's tiles: from memory, from the cache on disk, or built (in a thread)."""
        with self._lock:
            lock = self._building.setdefault(layout.id, asyncio.Lock())
        async with lock:
            tree = self._tiles.get(layout.id)
            if tree is None:
                tree = await asyncio.to_thread(self._load_or_build, layout)
                with self._lock:
                    if layout.id in self._layouts:
                        self._tiles[layout.id] = tree
            return tree

    def _load_or_build(self, layout: Layout) -> TileTree:
        cache = ResultCache(self._cache_dir)
        key = result_key({"tiles_of": layout.id})
        cached = cache.get(key)
        if cached is not None:
            return TileTree.from_parts(*cached)
        tree = tiles.build_tiles(layout.positions, self.capacity)
        cache.put(key, *tree.to_parts())
        return tree


def _bounds(positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The smallest and largest finite coordinates on each axis (zeros when none is)."""
    finite = positions
    if not np.isfinite(positions).all():  # the usual case skips this copy
        finite = positions[np.isfinite(positions).all(axis=1)]
    if len(finite) == 0:
        zeros = np.zeros(positions.shape[1])
        return zeros, zeros
    # Column by column: numpy's min(axis=0) of ten million rows of 2 is 80x slower (0.3 s).
    low = [float(column.min()) for column in finite.T]
    return np.array(low), np.array([float(column.max()) for column in finite.T])

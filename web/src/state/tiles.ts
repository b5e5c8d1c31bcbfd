// The tiles of a layout on the server, as the plot loads them (render/tile_set.ts).

import type { TileIndex } from '../api/types';
import type { TileSource, TileTree } from '../render';
import { api } from './api_instance';
import { app } from './app.svelte';

/**
 * Points drawn in view at most: half the threshold in 2D (zooming in raises the level of
 * detail), the threshold in 3D (a sample of the layout, which turns as a whole).
 */
export function lodBudget(dims: 2 | 3): number {
  const threshold = app.config?.lod_threshold ?? 0;
  return dims === 2 ? Math.floor(threshold / 2) : threshold;
}

/** The plot's description of a layout's tiles, from the server's. */
export function tileTree(index: TileIndex): TileTree {
  const { tiles } = index;
  return {
    dims: index.dims,
    low: index.low,
    size: index.size,
    levels: index.levels,
    depth: tiles.depth,
    cell: tiles.cell,
    parent: tiles.parent,
    count: tiles.count,
    total: tiles.total,
    levelCounts: tiles.level_counts,
  };
}

/** Where the plot gets the tiles of a layout on the server. */
export function tileSource(layout: string, index: TileIndex): TileSource {
  return {
    tree: tileTree(index),
    fetchTile: (depth, cell) => api.tile(layout, depth, cell),
    budget: lodBudget(index.dims),
    // A tile of a layout replaced meanwhile (404), or one past the deepest: the plot draws
    // on with the tiles it has, and a newer layout brings its own. Not worth a banner.
    onError: (error) => console.warn('a tile could not be loaded', error),
  };
}

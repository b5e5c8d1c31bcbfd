// Level of detail: which tiles of a big layout to draw, and how many of each tile's points.
//
// Above the server's threshold a layout arrives as tiles (a quadtree in 2D, an octree in 3D;
// src/embedding_projector/compute/tiles.py). Level l is a uniform random sample of
// levels[l] rows (the last level is every row), and in every tile the rows of level l come
// first. The view draws one level everywhere: the densest whose points in view stay within
// a budget. So the density on screen is the true density times one factor, zooming in
// raises the level until every point is drawn, and a tile is only fetched when the view
// needs its points. Pure functions: the renderer calls them when the camera moves.

/** How a layout is cut into tiles, as the server describes it (raw layout coordinates). */
export interface TileTree {
  dims: 2 | 3;
  /** The root cell: the square (cube) of edge `size` from `low`. */
  low: readonly number[];
  size: number;
  levels: readonly number[];
  depth: readonly number[];
  cell: readonly (readonly number[])[];
  parent: readonly number[];
  count: readonly number[];
  /** Rows in a tile and in every tile below it. */
  total: readonly number[];
  levelCounts: readonly (readonly number[])[];
}

/** An axis-aligned box in raw layout coordinates (2 or 3 entries per corner). */
export interface Box {
  min: readonly number[];
  max: readonly number[];
}

export interface TileChoice {
  /** The level drawn. */
  level: number;
  /** Tiles to draw, parents before children, and how many of each one's rows. */
  tiles: { tile: number; count: number }[];
}

/** The children of every tile (the server lists parents only). */
export function childrenOf(tree: TileTree): number[][] {
  const children: number[][] = tree.depth.map(() => []);
  tree.parent.forEach((p, k) => {
    if (p >= 0) children[p]!.push(k);
  });
  return children;
}

/** The cell of tile k, in layout coordinates. */
export function cellBox(tree: TileTree, k: number): Box {
  const edge = tree.size / 2 ** tree.depth[k]!;
  const min = tree.cell[k]!.map((c, axis) => tree.low[axis]! + c * edge);
  return { min, max: min.map((v) => v + edge) };
}

/** The share of `box`'s volume inside `view` (0 to 1), over the view's axes. */
export function overlap(box: Box, view: Box): number {
  let share = 1;
  for (let axis = 0; axis < view.min.length; axis++) {
    const lo = Math.max(box.min[axis]!, view.min[axis]!);
    const hi = Math.min(box.max[axis]!, view.max[axis]!);
    const edge = box.max[axis]! - box.min[axis]!;
    if (hi < lo) return 0;
    share *= edge > 0 ? (hi - lo) / edge : 1;
  }
  return share;
}

/**
 * Rows of the layout in view, estimated from the tiles: a cell wholly in view counts all the
 * rows under it; a cell partly in view, its share of them (the finer the tiles, the closer).
 */
export function rowsInView(tree: TileTree, children: number[][], view: Box | null): number {
  if (!view) return tree.total[0] ?? 0;
  const estimate = (k: number): number => {
    const share = overlap(cellBox(tree, k), view);
    if (share === 0) return 0;
    if (share === 1 || children[k]!.length === 0) return tree.total[k]! * share;
    return tree.count[k]! * share + children[k]!.reduce((sum, c) => sum + estimate(c), 0);
  };
  return tree.depth.length === 0 ? 0 : estimate(0);
}

/**
 * The tiles to draw for a view (null: everything, as the 3D view, which turns), and the level:
 * the densest whose rows in view stay within `budget` (level 0 at least).
 */
export function chooseTiles(tree: TileTree, children: number[][], view: Box | null, budget: number): TileChoice {
  const all = tree.levels[tree.levels.length - 1] ?? 0;
  const inView = rowsInView(tree, children, view);
  let level = 0;
  while (level + 1 < tree.levels.length && (tree.levels[level + 1]! * inView) / Math.max(all, 1) <= budget) level++;
  const tiles: TileChoice['tiles'] = [];
  // Breadth-first: a parent (drawn and fetched first) before its children.
  const queue = tree.depth.length > 0 ? [0] : [];
  for (let q = 0; q < queue.length; q++) {
    const k = queue[q]!;
    if (view && overlap(cellBox(tree, k), view) === 0) continue;
    const count = tree.levelCounts[k]![level]!;
    if (count > 0) tiles.push({ tile: k, count });
    // Rows of this level below a tile only when the tile holds nothing but rows of it.
    if (count === tree.count[k]) queue.push(...children[k]!);
  }
  return { level, tiles };
}

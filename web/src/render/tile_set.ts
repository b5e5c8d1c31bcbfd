// The tiles of a big layout in the page: fetched as the view needs them, kept while they are
// used, dropped when the memory they hold passes a bound (level_of_detail.ts chooses them).

import { childrenOf, chooseTiles } from './level_of_detail';
import type { Box, TileChoice, TileTree } from './level_of_detail';

/** Rows of one tile as fetched: coordinates (count × dims, raw) and row indices. */
export interface TileRows {
  positions: Float32Array;
  rows: Int32Array;
}

/** Where the plot gets a big layout's tiles from (the page's API client). */
export interface TileSource {
  tree: TileTree;
  fetchTile: (depth: number, cell: readonly number[]) => Promise<TileRows>;
  /** Points to draw in view, at most (the 3D view, which draws everything, too). */
  budget: number;
  /** A tile that could not be fetched: the plot draws on without it. */
  onError?: (error: unknown) => void;
}

/** A set of points drawn together: a tile, or a sample of a layout. */
export interface PointSet {
  key: string;
  /** Normalised count × 3 coordinates (render/bounds.ts). */
  positions: Float32Array;
  /** The row of each point. */
  rows: Int32Array;
}

/** Tiles fetched at once, at most: the server answers each in milliseconds. */
const MAX_IN_FLIGHT = 6;
/** Points kept in memory, in budgets: what the view draws, and what it drew just before. */
const KEPT_BUDGETS = 3;

export class TileSet {
  readonly children: number[][];
  private readonly loaded = new Map<number, PointSet>();
  private readonly pending = new Set<number>();
  private readonly failed = new Set<number>();
  private choice: TileChoice = { level: 0, tiles: [] };
  private destroyed = false;

  constructor(
    readonly source: TileSource,
    /** Raw count × dims coordinates to the plot's normalised count × 3. */
    private readonly normalize: (positions: Float32Array) => Float32Array,
    /** A tile arrived: draw again. */
    private readonly onLoad: () => void,
  ) {
    this.children = childrenOf(source.tree);
  }

  get level(): number {
    return this.choice.level;
  }

  /** Choose the tiles for a view (null: all of the layout) and fetch those missing. */
  update(view: Box | null): void {
    this.choice = chooseTiles(this.source.tree, this.children, view, this.source.budget);
    this.fetchMissing();
    this.evict();
  }

  /** The chosen tiles that have arrived, and how many of each one's points to draw. */
  drawn(): { set: PointSet; count: number }[] {
    const out: { set: PointSet; count: number }[] = [];
    for (const { tile, count } of this.choice.tiles) {
      const set = this.loaded.get(tile);
      if (set) out.push({ set, count });
    }
    return out;
  }

  /** Every chosen tile has arrived (or failed). */
  get complete(): boolean {
    return this.choice.tiles.every(({ tile }) => this.loaded.has(tile) || this.failed.has(tile));
  }

  destroy(): void {
    this.destroyed = true;
    this.loaded.clear();
  }

  private fetchMissing(): void {
    const { tree } = this.source;
    for (const { tile } of this.choice.tiles) {
      if (this.pending.size >= MAX_IN_FLIGHT) return;
      if (this.loaded.has(tile) || this.pending.has(tile) || this.failed.has(tile)) continue;
      this.pending.add(tile);
      this.source
        .fetchTile(tree.depth[tile]!, tree.cell[tile]!)
        .then(({ positions, rows }) => {
          if (this.destroyed) return;
          this.loaded.set(tile, { key: `tile-${tile}`, positions: this.normalize(positions), rows });
        })
        .catch((error: unknown) => {
          // A 4xx (a layout replaced meanwhile, say) is not retried: the plot draws on.
          this.failed.add(tile);
          this.source.onError?.(error);
        })
        .finally(() => {
          this.pending.delete(tile);
          if (this.destroyed) return;
          this.fetchMissing();
          this.onLoad();
        });
    }
  }

  /** Drop tiles not drawn now, least useful first, while more points than allowed are kept. */
  private evict(): void {
    const limit = this.source.budget * KEPT_BUDGETS;
    let kept = 0;
    for (const set of this.loaded.values()) kept += set.rows.length;
    if (kept <= limit) return;
    const drawn = new Set(this.choice.tiles.map(({ tile }) => tile));
    // Deepest first: they hold the fewest points of the coarse views one returns to.
    const candidates = [...this.loaded.keys()].filter((k) => !drawn.has(k));
    candidates.sort((a, b) => this.source.tree.depth[b]! - this.source.tree.depth[a]!);
    for (const k of candidates) {
      if (kept <= limit) break;
      kept -= this.loaded.get(k)!.rows.length;
      this.loaded.delete(k);
    }
  }
}

// A layout too big to draw whole, as the plot holds it: its tiles (loaded as the view needs
// them, tile_set.ts) or a sample of its rows while it streams, and the rows the page gave the
// positions of (the selection, its neighbours, labelled or isolated rows), which are drawn
// wherever their tile is, on the overlay (issue 12). Points are named by their row in the whole
// layout; a shape drawn on it is sent as a `ShapeQuery` to be decided over every row.

import { DEFAULT_POINT_COLOR, uniformColors } from './colors';
import { applyNormalization, computeBounds, normalizationOf, normalizeBounds } from './bounds';
import type { Bounds, Dims, Normalization, Vec3 } from './bounds';
import type { Box } from './level_of_detail';
import type { PointsData } from './points_layer';
import type { SelectionShape } from './selection_overlay';
import { TileSet } from './tile_set';
import type { PointSet, TileSource } from './tile_set';

/** A layout too big to draw whole: its tiles, or a sample of its rows (a layout streaming). */
export interface PartialLayout {
  /** Rows of the whole layout. */
  n: number;
  dims: Dims;
  /** Its smallest and largest finite coordinates per axis (default: the sample's). */
  low?: readonly number[];
  high?: readonly number[];
  tiles?: TileSource;
  /** Raw count × dims coordinates of some rows, and those rows. */
  sample?: { positions: Float32Array; rows: Int32Array };
}

/** A rectangle or lasso in CSS pixels, and the camera: raw coordinates to pixels. */
export interface ShapeQuery {
  /** 4 × 4, column-major. */
  matrix: number[];
  rectangle?: [number, number, number, number];
  polygon?: number[];
}

/** A set of points and how many of it are drawn. */
export interface DrawnSet {
  set: PointSet;
  count: number;
}

/** The deck.gl data of a set of points, rebuilt when its count, colours or mask change. */
interface SetData {
  count: number;
  colors: Uint8Array | null;
  visible: Uint8Array | null;
  data: PointsData;
}

export class PartialPoints {
  readonly normalization: Normalization;
  /** The layout's box, normalised, and the sphere around it (its farthest point is not known). */
  readonly bounds: Bounds;
  readonly radius: number;
  readonly tiles: TileSet | null;
  readonly sample: PointSet | null;
  /** Positions (normalised) of rows the page gave (`setKnown`). */
  private known: PointSet | null = null;
  private readonly setData = new Map<string, SetData>();

  /** `onTilesLoaded`: a tile arrived, draw again. */
  constructor(
    layout: PartialLayout,
    private readonly dims: Dims,
    onTilesLoaded: () => void,
  ) {
    const { sample } = layout;
    const raw: Bounds =
      layout.low && layout.high
        ? { min: toVec3(layout.low), max: toVec3(layout.high), count: layout.n }
        : computeBounds(sample?.positions ?? new Float32Array(0), dims);
    this.normalization = normalizationOf(raw);
    this.bounds = normalizeBounds(raw, this.normalization);
    this.radius = Math.hypot(...[0, 1, 2].map((k) => Math.max(-this.bounds.min[k]!, this.bounds.max[k]!)));
    const normalize = (positions: Float32Array): Float32Array => this.normalize(positions);
    this.tiles = layout.tiles ? new TileSet(layout.tiles, normalize, onTilesLoaded) : null;
    this.sample = sample ? { key: 'sample', positions: normalize(sample.positions), rows: sample.rows } : null;
  }

  /** Raw count × dims coordinates to the plot's normalised count × 3. */
  normalize(positions: Float32Array): Float32Array {
    return applyNormalization(positions, this.dims, this.normalization).positions;
  }

  /** Rows whose raw positions the page gave (none: an empty `rows`). */
  setKnown(rows: Int32Array, positions: Float32Array): void {
    this.known = rows.length > 0 ? { key: 'known', positions: this.normalize(positions), rows } : null;
  }

  /** The sets the points deck draws (tiles or the sample), and how many of each. */
  loadedSets(): DrawnSet[] {
    const sets = this.tiles?.drawn() ?? [];
    if (this.sample) sets.push({ set: this.sample, count: this.sample.rows.length });
    return sets;
  }

  /** Every set drawn, in drawing order: those loaded, then the rows given by position (on the
   * overlay, over them). */
  drawnSets(): DrawnSet[] {
    const sets = this.loadedSets();
    if (this.known) sets.push({ set: this.known, count: this.known.rows.length });
    return sets;
  }

  /** The deck.gl data of the rows given by position, or null when there are none. */
  knownData(colors: Uint8Array | null, visible: Uint8Array | null): PointsData | null {
    return this.known && this.dataOfSet({ set: this.known, count: this.known.rows.length }, colors, visible);
  }

  /** A set's deck.gl data: its colours and mask gathered from the per-row ones, once. */
  dataOfSet({ set, count }: DrawnSet, colors: Uint8Array | null, visible: Uint8Array | null): PointsData {
    const cached = this.setData.get(set.key);
    if (cached && cached.count === count && cached.colors === colors && cached.visible === visible && cached.data.attributes.getPosition.value === set.positions) {
      return cached.data;
    }
    const gather = (source: Uint8Array, size: number): Uint8Array => {
      const out = new Uint8Array(set.rows.length * size);
      set.rows.forEach((row, k) => out.set(source.subarray(row * size, row * size + size), k * size));
      return out;
    };
    const data: PointsData = {
      length: count,
      attributes: {
        getPosition: { value: set.positions, size: 3 },
        getColor: { value: colors ? gather(colors, 4) : uniformColors(set.rows.length, DEFAULT_POINT_COLOR), size: 4, normalized: true },
        ...(visible && { getVisible: { value: gather(visible, 1), size: 1, normalized: true } }),
      },
    };
    this.setData.set(set.key, { count, colors, visible, data });
    return data;
  }

  /** Where the `wanted` rows are drawn, among the sets drawn. */
  findRows(wanted: ReadonlySet<number>, found: Map<number, Float32Array>): void {
    if (wanted.size === 0) return;
    for (const { set, count } of this.drawnSets()) {
      for (let k = 0; k < count; k++) {
        const row = set.rows[k]!;
        if (wanted.has(row)) found.set(row, set.positions.subarray(k * 3, k * 3 + 3));
      }
    }
  }

  /** Choose the tiles for a view (null: all of the layout); whether those drawn changed. */
  updateTiles(view: Box | null): boolean {
    const tiles = this.tiles;
    if (!tiles) return false;
    const level = tiles.level;
    const before = tiles.drawn();
    tiles.update(view);
    const after = tiles.drawn();
    return level !== tiles.level || before.length !== after.length || before.some((d, k) => d.set !== after[k]!.set);
  }

  /** The number of points the default size and opacity suit: the budget in view (at most n). */
  styleCount(n: number): number {
    return Math.min(n, this.tiles?.source.budget ?? this.sample?.rows.length ?? n);
  }

  /** The rows drawn inside a shape, `inside` giving the indices of a set's positions in it;
   * hidden rows left out. */
  rowsInside(inside: (positions: Float32Array) => Int32Array, visible: Uint8Array | null): Int32Array {
    const rows = new Set<number>();
    for (const { set, count } of this.drawnSets()) {
      for (const k of inside(set.positions.subarray(0, count * 3))) {
        const row = set.rows[k]!;
        if (!visible || visible[row] !== 0) rows.add(row);
      }
    }
    return Int32Array.from(rows);
  }

  destroy(): void {
    this.tiles?.destroy();
  }
}

/** A 3-vector from 2 or 3 coordinates (z = 0 for 2D). */
function toVec3(values: readonly number[]): Vec3 {
  return [values[0] ?? 0, values[1] ?? 0, values[2] ?? 0];
}

/**
 * The query for a shape drawn on a partial layout: the viewport's matrix (normalised
 * coordinates to pixels) after the layout's normalisation (raw to normalised).
 */
export function shapeQuery(shape: SelectionShape, pixelMatrix: ArrayLike<number>, { center, scale }: Normalization): ShapeQuery {
  const p = Array.from(pixelMatrix);
  // normalised = raw × scale − center × scale: the columns of x, y, z scale, the last shifts.
  const matrix = new Array<number>(16);
  for (let row = 0; row < 4; row++) {
    for (let col = 0; col < 3; col++) matrix[col * 4 + row] = p[col * 4 + row]! * scale;
    matrix[12 + row] = p[12 + row]! - scale * (center[0] * p[row]! + center[1] * p[4 + row]! + center[2] * p[8 + row]!);
  }
  if (shape.kind === 'rectangle') return { matrix, rectangle: [shape.x0, shape.y0, shape.x1, shape.y1] };
  return { matrix, polygon: Array.from(shape.polygon) };
}

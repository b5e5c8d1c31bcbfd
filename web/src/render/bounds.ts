// Bounds of a layout and its normalisation into the cube [-1, 1]³.
//
// Every layout is centred and scaled uniformly before it reaches the GPU, as TensorBoard's
// projector does: PCA coordinates of ±3 and t-SNE coordinates of ±60 then share one camera, so
// switching projections animates in place instead of flying off screen, and point sizes, zoom
// limits and bookmarked cameras mean the same thing for every projection.

import { ERROR_DIMS, ERROR_POSITIONS_LENGTH } from '../constants';

export type Dims = 2 | 3;
export type Vec3 = [number, number, number];

export interface Bounds {
  min: Vec3;
  max: Vec3;
  /** Number of points with finite coordinates (the others are not drawn). */
  count: number;
}

/** Number of points in `positions`, checking that it holds whole rows of `dims` values. */
export function countPoints(positions: Float32Array, dims: number): number {
  if (dims !== 2 && dims !== 3) throw new Error(ERROR_DIMS);
  if (positions.length % dims !== 0) throw new Error(ERROR_POSITIONS_LENGTH);
  return positions.length / dims;
}

/** Axis-aligned bounds of the finite rows of an N × dims array (z = 0 for 2D). */
export function computeBounds(positions: Float32Array, dims: Dims): Bounds {
  const n = countPoints(positions, dims);
  const min: Vec3 = [Infinity, Infinity, dims === 2 ? 0 : Infinity];
  const max: Vec3 = [-Infinity, -Infinity, dims === 2 ? 0 : -Infinity];
  let count = 0;
  for (let i = 0; i < n; i++) {
    const o = i * dims;
    const x = positions[o]!;
    const y = positions[o + 1]!;
    const z = dims === 3 ? positions[o + 2]! : 0;
    // One NaN or Infinity (a diverged t-SNE point) must not blow up the view of all others.
    if (!Number.isFinite(x) || !Number.isFinite(y) || !Number.isFinite(z)) continue;
    count++;
    if (x < min[0]) min[0] = x;
    if (x > max[0]) max[0] = x;
    if (y < min[1]) min[1] = y;
    if (y > max[1]) max[1] = y;
    if (z < min[2]) min[2] = z;
    if (z > max[2]) max[2] = z;
  }
  if (count === 0) return { min: [0, 0, 0], max: [0, 0, 0], count };
  return { min, max, count };
}

export interface NormalizedLayout {
  /** N × 3 float32, centred on the origin, largest half-extent 1 (z = 0 for 2D input). */
  positions: Float32Array;
  /** Bounds of the normalised positions. */
  bounds: Bounds;
  /** Largest distance of a point from the origin: the 3D view fits this sphere, which is
   * tighter than the sphere around the bounding box (clusters rarely fill the box's corners). */
  radius: number;
  normalization: Normalization;
}

/** normalised = (raw − center) × scale, on every axis. */
export interface Normalization {
  center: Vec3;
  scale: number;
}

/** The normalisation that centres raw bounds on the origin with a largest half-extent of 1. */
export function normalizationOf(raw: Bounds): Normalization {
  const center: Vec3 = [0, 1, 2].map((k) => (raw.min[k]! + raw.max[k]!) / 2) as Vec3;
  const halfExtent = Math.max(...[0, 1, 2].map((k) => (raw.max[k]! - raw.min[k]!) / 2));
  // A single point, or all points equal, has no extent: keep it at the origin at scale 1.
  return { center, scale: halfExtent > 0 ? 1 / halfExtent : 1 };
}

/** Raw bounds, normalised. */
export function normalizeBounds(raw: Bounds, { center, scale }: Normalization): Bounds {
  return {
    min: [0, 1, 2].map((k) => (raw.min[k]! - center[k]!) * scale) as Vec3,
    max: [0, 1, 2].map((k) => (raw.max[k]! - center[k]!) * scale) as Vec3,
    count: raw.count,
  };
}

/**
 * N × dims raw coordinates as normalised N × 3 float32 (z = 0 for 2D), and the largest
 * distance of a point from the origin. Non-finite rows become NaN, which the renderer and
 * selection skip.
 */
export function applyNormalization(
  positions: Float32Array,
  dims: Dims,
  { center, scale }: Normalization,
): { positions: Float32Array; radius: number } {
  const n = countPoints(positions, dims);
  const result = new Float32Array(n * 3);
  let radius2 = 0;
  for (let i = 0; i < n; i++) {
    const o = i * dims;
    const x = positions[o]!;
    const y = positions[o + 1]!;
    const z = dims === 3 ? positions[o + 2]! : 0;
    const p = i * 3;
    if (Number.isFinite(x) && Number.isFinite(y) && Number.isFinite(z)) {
      const nx = (result[p] = (x - center[0]) * scale);
      const ny = (result[p + 1] = (y - center[1]) * scale);
      const nz = (result[p + 2] = (z - center[2]) * scale);
      radius2 = Math.max(radius2, nx * nx + ny * ny + nz * nz);
    } else {
      result[p] = result[p + 1] = result[p + 2] = NaN;
    }
  }
  return { positions: result, radius: Math.sqrt(radius2) };
}

/**
 * Centre a layout on the origin and scale it uniformly so its largest half-extent is 1.
 *
 * The result always has three columns: the GPU attribute keeps one shape, so a 2D layout can
 * animate into a 3D one. A new array every time: deck.gl notices a new layout by the array's
 * identity. `frame`, when given, is centred and scaled instead of the layout's own bounds: the
 * steps of a timeline share one frame, so a cloud that grows is drawn growing.
 */
export function normalizePositions(positions: Float32Array, dims: Dims, frame?: Bounds): NormalizedLayout {
  const raw = frame ?? computeBounds(positions, dims);
  const normalization = normalizationOf(raw);
  const { positions: result, radius } = applyNormalization(positions, dims, normalization);
  return { positions: result, bounds: normalizeBounds(raw, normalization), radius, normalization };
}

/**
 * The layout with every axis stretched to the extent of the widest: for axes that measure
 * different things (the custom projection's two directions), where one would otherwise be a
 * flat line. Non-finite rows stay as they are.
 */
export function equalizeAxes(positions: Float32Array, dims: Dims): Float32Array {
  const { min, max } = computeBounds(positions, dims);
  const spans = [0, 1, 2].slice(0, dims).map((k) => max[k]! - min[k]!);
  const widest = Math.max(...spans);
  const out = new Float32Array(positions.length);
  for (let i = 0; i < positions.length; i++) {
    const k = i % dims;
    out[i] = spans[k]! > 0 ? min[k]! + ((positions[i]! - min[k]!) * widest) / spans[k]! : positions[i]!;
  }
  return out;
}

// The density layer under the points of a 2-D layout: a kernel density estimate on a fixed grid
// over the layout (counts per cell, then three box blurs, which approach a Gaussian kernel of
// Scott's bandwidth: wide for a few points, narrow for many),
// drawn as one image under the points. It is computed once per layout (and per visible set),
// never per frame: panning and zooming move a texture, so the frame costs what it did without.
// Overplotted regions then read as dense even where a million dots cover one another.

import type { Layer } from '@deck.gl/core';
import { BitmapLayer } from '@deck.gl/layers';

import type { Rgb } from './colors';

/** Above this many points the page shows the density layer unless the user turns it off. */
export const DENSITY_DEFAULT_FROM = 200_000;
/** Cells per side of the grid (over the normalised layout, [-EXTENT, EXTENT]²). */
export const DENSITY_GRID = 512;
/** The normalised layout lies in [-1, 1]²; the margin leaves room for the kernel's tails. */
const EXTENT = 1.1;
/** Passes of the box blur (three ≈ a Gaussian whose σ is about the box's half-width). */
const PASSES = 3;
/** The spread of a normalised layout, for Scott's rule h = σ n^(-1/6). */
const SPREAD = 0.4;
/** Opacity of the densest cell; lighter cells scale with log(1 + count). */
const MAX_ALPHA = 0.5;

export interface DensityImage {
  image: ImageData;
  /** left, bottom, right, top in the normalised layout's coordinates. */
  bounds: [number, number, number, number];
}

/**
 * The smoothed count of points per cell of a `grid` × `grid` raster over [-EXTENT, EXTENT]²,
 * row 0 at the top. `positions` are N × 3 normalised coordinates (z ignored); NaN and hidden
 * points (`visible[i] === 0`) are left out.
 */
export function densityGrid(positions: Float32Array, visible: Uint8Array | null, grid = DENSITY_GRID): Float32Array {
  const counts = new Float32Array(grid * grid);
  const scale = grid / (2 * EXTENT);
  const n = positions.length / 3;
  for (let i = 0; i < n; i++) {
    if (visible && visible[i] === 0) continue;
    const col = Math.floor((positions[3 * i]! + EXTENT) * scale);
    const row = Math.floor((EXTENT - positions[3 * i + 1]!) * scale);
    if (col >= 0 && col < grid && row >= 0 && row < grid) counts[row * grid + col]!++;
  }
  let shown = 0;
  for (const c of counts) shown += c;
  const radius = Math.max(1, Math.round((SPREAD * Math.max(shown, 1) ** (-1 / 6) * grid) / (2 * EXTENT)));
  const scratch = new Float32Array(grid * grid);
  for (let pass = 0; pass < PASSES; pass++) {
    boxBlur(counts, scratch, grid, 1, grid, radius); // along rows
    boxBlur(scratch, counts, grid, grid, 1, radius); // along columns
  }
  return counts;
}

/** One box blur of width 2 radius + 1 along lines of `grid` cells `step` apart, lines `stride` apart. */
function boxBlur(from: Float32Array, to: Float32Array, grid: number, step: number, stride: number, radius: number): void {
  const width = 2 * radius + 1;
  for (let line = 0; line < grid; line++) {
    const base = line * stride;
    let sum = 0;
    for (let k = 0; k < radius; k++) sum += from[base + k * step]!;
    for (let k = 0; k < grid; k++) {
      if (k + radius < grid) sum += from[base + (k + radius) * step]!;
      if (k - radius - 1 >= 0) sum -= from[base + (k - radius - 1) * step]!;
      to[base + k * step] = sum / width;
    }
  }
}

/** The density as an image in one colour, its opacity growing with log(1 + density). */
export function densityImage(density: Float32Array, grid: number, color: Rgb): DensityImage {
  let max = 0;
  for (const v of density) if (v > max) max = v;
  const image = new ImageData(grid, grid);
  const norm = max > 0 ? 1 / Math.log1p(max) : 0;
  for (let i = 0; i < density.length; i++) {
    const alpha = Math.log1p(density[i]!) * norm * MAX_ALPHA;
    image.data[4 * i] = color[0];
    image.data[4 * i + 1] = color[1];
    image.data[4 * i + 2] = color[2];
    image.data[4 * i + 3] = Math.round(alpha * 255);
  }
  return { image, bounds: [-EXTENT, -EXTENT, EXTENT, EXTENT] };
}

/** The deck.gl layer drawing `density` (none when there is none), to go under the points. */
export function densityLayers(density: DensityImage | null): Layer[] {
  if (!density) return [];
  return [
    new BitmapLayer({
      id: 'density',
      image: density.image,
      bounds: density.bounds,
      parameters: { depthWriteEnabled: false, depthCompare: 'always' },
    }),
  ];
}

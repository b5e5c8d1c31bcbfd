// The density layer under the points of a 2-D layout: a kernel density estimate on a fixed grid
// over the layout (counts per cell, then three box blurs, which approach a Gaussian kernel of
// Scott's bandwidth: wide for a few points, narrow for many),
// drawn as one image under the points. It is computed once per layout (and per visible set),
// never per frame. It is not a WebGL layer but a canvas under the plot's WebGL canvas, placed by
// a CSS transform: on pan and zoom the browser's compositor moves one bitmap, and the WebGL frame
// draws no more than without it (as a deck.gl BitmapLayer, software WebGL paid a viewport of
// blended texture samples every frame: docs/decisions.md).
// Overplotted regions then read as dense even where a million dots cover one another.

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

/** A CSS `matrix(a, 0, 0, d, e, f)` that puts an image of `width` × `height` pixels on the
 * rectangle `bounds` (left, bottom, right, top in the layout), where `project` takes layout
 * coordinates to CSS pixels of the plot. */
export function placement(
  bounds: DensityImage['bounds'],
  width: number,
  height: number,
  project: (xy: [number, number]) => number[],
): [number, number, number, number] {
  const [left, bottom, right, top] = bounds;
  const [x0 = 0, y0 = 0] = project([left, top]);
  const [x1 = 0, y1 = 0] = project([right, bottom]);
  return [(x1 - x0) / width, (y1 - y0) / height, x0, y0];
}

/** The density image under the plot: a canvas behind the WebGL canvas of `container`. */
export class DensityBackdrop {
  private readonly canvas: HTMLCanvasElement;
  private shown: DensityImage | null = null;
  private matrix: [number, number, number, number] = [1, 1, 0, 0];

  constructor(container: HTMLElement) {
    this.canvas = document.createElement('canvas');
    Object.assign(this.canvas.style, {
      position: 'absolute',
      left: '0',
      top: '0',
      transformOrigin: '0 0',
      // Its own compositor layer: a pan changes a transform, never repaints the bitmap.
      willChange: 'transform',
      pointerEvents: 'none',
      display: 'none',
    });
    // First in the container: the WebGL canvas and the overlays come after it, so above it.
    container.prepend(this.canvas);
  }

  /** Whether an image is shown (the WebGL canvas must then clear to transparent). */
  get visible(): boolean {
    return this.shown !== null;
  }

  /** Show `density` (or nothing). */
  show(density: DensityImage | null): void {
    if (density === this.shown) return;
    this.shown = density;
    this.canvas.style.display = density ? 'block' : 'none';
    if (!density) return;
    this.canvas.width = density.image.width;
    this.canvas.height = density.image.height;
    this.canvas.getContext('2d')?.putImageData(density.image, 0, 0);
  }

  /** Move the image to where the camera (`project`: layout → CSS pixels) puts its bounds. */
  place(project: (xy: [number, number]) => number[]): void {
    if (!this.shown) return;
    this.matrix = placement(this.shown.bounds, this.canvas.width, this.canvas.height, project);
    const [a, d, e, f] = this.matrix;
    this.canvas.style.transform = `matrix(${a}, 0, 0, ${d}, ${e}, ${f})`;
  }

  /** Draw the image as placed into `context`, whose pixels are `scale` CSS pixels (for a PNG). */
  drawInto(context: CanvasRenderingContext2D, scale: number): void {
    if (!this.shown) return;
    const [a, d, e, f] = this.matrix;
    context.setTransform(a * scale, 0, 0, d * scale, e * scale, f * scale);
    context.drawImage(this.canvas, 0, 0);
    context.setTransform(1, 0, 0, 1, 0, 0);
  }

  destroy(): void {
    this.canvas.remove();
  }
}

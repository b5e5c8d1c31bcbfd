// Default point sizes and opacity, adapted to the number of points and to the zoom.
//
// A thousand points want big, opaque dots; a million want 2 px translucent dots, or the plot is
// a solid blob and density is invisible. Zooming in spreads points apart, so dots grow a little
// (√2 per doubling of the zoom) to stay visible without merging again.

const clamp = (x: number, lo: number, hi: number): number => Math.min(Math.max(x, lo), hi);

/** Dot diameter in CSS pixels at the fitted zoom: 8 px for ≤ 200 points, 2 px at 1M. */
export function defaultPointSize(n: number): number {
  return clamp(28 / Math.pow(Math.max(n, 1), 0.2), 2, 8);
}

/** Dot opacity: 0.9 for small sets, 0.4 at a million. */
export function defaultOpacity(n: number): number {
  return clamp(1.6 / Math.pow(Math.max(n, 1), 0.1), 0.35, 0.9);
}

/** Thumbnail edge in CSS pixels at the fitted zoom: 28 px for 1k points, 8 px for 100k. */
export function defaultSpriteSize(n: number): number {
  return clamp(220 / Math.pow(Math.max(n, 1), 0.3), 8, 48);
}

/**
 * Dot diameter at a zoom level: grows by √2 per zoom step beyond the fitted zoom, up to 4×,
 * and never shrinks below the base size when zoomed out.
 */
export function pointSizeAtZoom(base: number, zoom: number, fitZoom: number): number {
  return base * Math.pow(2, clamp(zoom - fitZoom, 0, 4) / 2);
}

/** Thumbnails scale with the data (×2 per zoom step), as pictures do when one zooms in. */
export function spriteSizeAtZoom(base: number, zoom: number, fitZoom: number): number {
  return base * Math.pow(2, clamp(zoom - fitZoom, -2, 5));
}

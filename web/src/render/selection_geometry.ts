// Rectangle and lasso selection on the CPU, once per gesture.
//
// GPU picking of a rectangle (deck.gl `pickObjects`) returns only the points visible on top,
// but a user who draws around a dense cluster expects all of its points, hidden ones included.
// Projecting N points with one 4×4 matrix costs a few milliseconds per million, and it happens
// once when the gesture ends, never per mouse move.

/**
 * Screen coordinates (CSS pixels, origin top left) of N × 3 positions under a column-major
 * matrix from world to pixels (deck.gl `viewport.pixelProjectionMatrix`). Points that are
 * hidden (`visible[i] === 0`), not finite, or behind the camera get NaN.
 */
export function projectToScreen(
  positions: Float32Array,
  matrix: ArrayLike<number>,
  visible: Uint8Array | null,
): Float32Array {
  const n = positions.length / 3;
  const out = new Float32Array(n * 2);
  // Only the x, y and w rows are needed; depth is irrelevant to a 2D hit test.
  const [m0 = 0, m1 = 0, , m3 = 0, m4 = 0, m5 = 0, , m7 = 0, m8 = 0, m9 = 0, , m11 = 0, m12 = 0,
    m13 = 0, , m15 = 1] = Array.from(matrix);
  for (let i = 0; i < n; i++) {
    const x = positions[i * 3]!;
    const y = positions[i * 3 + 1]!;
    const z = positions[i * 3 + 2]!;
    const w = m3 * x + m7 * y + m11 * z + m15;
    if ((visible && visible[i] === 0) || !(w > 0)) {
      out[i * 2] = out[i * 2 + 1] = NaN;
      continue;
    }
    out[i * 2] = (m0 * x + m4 * y + m8 * z + m12) / w;
    out[i * 2 + 1] = (m1 * x + m5 * y + m9 * z + m13) / w;
  }
  return out;
}

/** Indices of the points whose screen position lies in the rectangle spanned by two corners. */
export function selectInRect(
  screen: Float32Array,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
): Int32Array {
  const [left, right] = x0 < x1 ? [x0, x1] : [x1, x0];
  const [top, bottom] = y0 < y1 ? [y0, y1] : [y1, y0];
  const hits: number[] = [];
  const n = screen.length / 2;
  for (let i = 0; i < n; i++) {
    const x = screen[i * 2]!;
    const y = screen[i * 2 + 1]!;
    // NaN fails every comparison, so hidden points never match.
    if (x >= left && x <= right && y >= top && y <= bottom) hits.push(i);
  }
  return Int32Array.from(hits);
}

/** Even-odd rule: is (x, y) inside the polygon given as a flat [x0, y0, x1, y1, ...] list? */
export function pointInPolygon(x: number, y: number, polygon: ArrayLike<number>): boolean {
  let inside = false;
  const n = polygon.length / 2;
  for (let i = 0, j = n - 1; i < n; j = i++) {
    const xi = polygon[i * 2]!;
    const yi = polygon[i * 2 + 1]!;
    const xj = polygon[j * 2]!;
    const yj = polygon[j * 2 + 1]!;
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** Indices of the points whose screen position lies inside a lasso polygon. */
export function selectInPolygon(screen: Float32Array, polygon: ArrayLike<number>): Int32Array {
  if (polygon.length < 6) return new Int32Array(0);
  let left = Infinity;
  let right = -Infinity;
  let top = Infinity;
  let bottom = -Infinity;
  for (let k = 0; k < polygon.length; k += 2) {
    left = Math.min(left, polygon[k]!);
    right = Math.max(right, polygon[k]!);
    top = Math.min(top, polygon[k + 1]!);
    bottom = Math.max(bottom, polygon[k + 1]!);
  }
  const hits: number[] = [];
  const n = screen.length / 2;
  for (let i = 0; i < n; i++) {
    const x = screen[i * 2]!;
    const y = screen[i * 2 + 1]!;
    // The bounding box rejects most points before the per-edge test.
    if (x >= left && x <= right && y >= top && y <= bottom && pointInPolygon(x, y, polygon)) {
      hits.push(i);
    }
  }
  return Int32Array.from(hits);
}

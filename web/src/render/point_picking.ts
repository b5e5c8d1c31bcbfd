// Hover and click picking on the CPU: the point drawn nearest the pointer, from the positions
// the page already holds.
//
// deck.gl's GPU picking draws every pickable point again into an offscreen buffer and reads it
// back. In software WebGL (SwiftShader, headless Chromium) that re-runs the vertex shader over
// every drawn point (~0.4 s at 524k points) and, on first use, links the picking programs
// (1.6–2.9 s): a first click took 1.72 s at ten million points as tiles (issue 12). Projecting
// the drawn points with one 4×4 matrix costs milliseconds per million, in 2-D and 3-D alike.

/** A set of points drawn together: the whole layout, a tile, or a sample of rows. */
export interface PickablePoints {
  /** Count × 3 coordinates as drawn (normalised; the layout's end during a change). */
  positions: Float32Array;
  /** How many of them are drawn (a tile may draw a prefix of its rows). */
  count: number;
  /** The row of each point in the whole layout; null: the point's index is its row. */
  rows?: Int32Array | null;
  /** During a layout change: where each point starts (NaN: it just appeared), and how far
   * it has moved (the eased progress the layer draws with). */
  previous?: Float32Array | null;
  progress?: number;
  /** Mask byte per row (0: hidden, never picked); null: all shown. */
  visible?: Uint8Array | null;
  /** Size multiplier per row (the dot's diameter is `pointSize` times it); null: all 1. */
  sizes?: Float32Array | null;
}

export interface PickOptions {
  /** The pointer in CSS px from the plot's top left. */
  x: number;
  y: number;
  /** Column-major 4 × 4 from drawn coordinates to CSS px (deck.gl `pixelProjectionMatrix`). */
  matrix: ArrayLike<number>;
  /** Dot diameter (thumbnail edge) in CSS px before the per-row size. */
  pointSize: number;
  /** How far outside a dot the pointer still picks it, in CSS px (deck.gl `pickingRadius`). */
  pickingRadius: number;
}

export interface Pick {
  /** Which of the sets, and which point of it. */
  set: number;
  index: number;
  /** From the pointer to the point's centre, CSS px. */
  distance: number;
}

/**
 * The point whose dot is nearest the pointer, among those whose dot lies within
 * `pickingRadius` of it; null if none. Of points equally near, the one drawn last wins (it is
 * drawn on top): later sets, and later points within a set.
 */
export function pickPoint(sets: readonly PickablePoints[], options: PickOptions): Pick | null {
  const { x: px, y: py, pointSize, pickingRadius } = options;
  const m = options.matrix;
  // Only the x, y and w rows: depth plays no part in what is under the pointer (dots are
  // drawn without a depth test, in order).
  const [m0, m1, m3, m4, m5, m7, m8, m9, m11, m12, m13, m15] = [0, 1, 3, 4, 5, 7, 8, 9, 11, 12, 13, 15].map(
    (k) => m[k] ?? 0,
  ) as [number, number, number, number, number, number, number, number, number, number, number, number];
  let best: Pick | null = null;
  // Distances are compared on the pointer's distance to the dot's edge: a big dot under the
  // pointer beats a small one whose centre is nearer but whose edge is not.
  let bestGap = Infinity;
  for (let s = 0; s < sets.length; s++) {
    const { positions, count, rows = null, previous = null, progress = 1, visible = null, sizes = null } = sets[s]!;
    const moving = previous !== null && progress < 1;
    const n = Math.min(count, Math.floor(positions.length / 3));
    for (let i = 0; i < n; i++) {
      const row = rows ? rows[i]! : i;
      if (visible && visible[row] === 0) continue;
      let x = positions[i * 3]!;
      let y = positions[i * 3 + 1]!;
      let z = positions[i * 3 + 2]!;
      if (moving) {
        const x0 = previous[i * 3]!;
        const y0 = previous[i * 3 + 1]!;
        const z0 = previous[i * 3 + 2]!;
        // As the vertex shader: a point without a start position is drawn at its end.
        if (x0 === x0 && y0 === y0 && z0 === z0) {
          x = x0 + (x - x0) * progress;
          y = y0 + (y - y0) * progress;
          z = z0 + (z - z0) * progress;
        }
      }
      const w = m3 * x + m7 * y + m11 * z + m15;
      // Behind the camera, or not finite (NaN fails the comparison).
      if (!(w > 0)) continue;
      const radius = (pointSize * (sizes ? sizes[row]! : 1)) / 2;
      const reach = radius + pickingRadius;
      const dx = (m0 * x + m4 * y + m8 * z + m12) / w - px;
      if (!(Math.abs(dx) <= reach)) continue;
      const dy = (m1 * x + m5 * y + m9 * z + m13) / w - py;
      if (!(Math.abs(dy) <= reach)) continue;
      const distance = Math.hypot(dx, dy);
      const gap = Math.max(distance - radius, 0);
      if (distance <= reach && gap <= bestGap) {
        bestGap = gap;
        best = { set: s, index: i, distance };
      }
    }
  }
  return best;
}

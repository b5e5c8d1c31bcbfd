// Animated layout changes. The points layer mixes the previous and the new positions on the GPU
// by one uniform (progress); the few highlighted, labelled and linked points are mixed on the CPU
// with the same progress, so rings and labels travel with their points.
//
// deck.gl's own attribute transitions were not used: they animate from the state left by the
// previous *animated* change only (the first real change would jump), they run a transform pass
// over all N points every frame, and small layers could not follow them exactly.

export type Easing = (t: number) => number;

export const linear: Easing = (t) => t;
export const easeInOutCubic: Easing = (t) => (t < 0.5 ? 4 * t * t * t : 1 - (-2 * t + 2) ** 3 / 2);

export interface Motion {
  /** Where the points were drawn when the new layout arrived (N × 3, normalised). */
  from: Float32Array;
  /** performance.now() at the start, and the length, in milliseconds. */
  start: number;
  duration: number;
  easing: Easing;
}

/** Eased progress of a motion at time `now`: 0 at the start, 1 from its end on. */
export function motionProgress(motion: Motion, now: number): number {
  const t = Math.min(Math.max((now - motion.start) / motion.duration, 0), 1);
  return t >= 1 ? 1 : motion.easing(t);
}

/**
 * from + (to − from) × t, element by element, into `out` (a new array of to's type by default).
 * A non-finite start value takes the end value: a point that had no position appears there.
 */
export function lerpArray<T extends Float32Array | Float64Array>(from: ArrayLike<number>, to: T, t: number, out?: T): T {
  const result = out ?? (new (to.constructor as new (length: number) => T)(to.length));
  for (let k = 0; k < to.length; k++) {
    const a = from[k]!;
    const b = to[k]!;
    result[k] = Number.isFinite(a) ? a + (b - a) * t : b;
  }
  return result;
}

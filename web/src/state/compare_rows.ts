// The per-point arrays of a comparison (state/compare.svelte.ts): b's rows put in a's order, and
// the points ranked by overlap.

/** Rows sorted by their overlap, ascending (or descending), ties by the lower row. */
export function rankByOverlap(overlap: Float32Array | null, ascending: boolean): Int32Array {
  if (!overlap) return new Int32Array(0);
  const sign = ascending ? 1 : -1;
  return Int32Array.from(overlap.keys()).sort((i, j) => sign * (overlap[i]! - overlap[j]!) || i - j);
}

/** Positions of b (N × dims, b's rows) put in a's row order: row i is b's row order[i]. */
export function inOrder(positions: Float32Array, dims: number, order: Int32Array): Float32Array {
  const out = new Float32Array(order.length * dims);
  for (let i = 0; i < order.length; i++) {
    for (let d = 0; d < dims; d++) out[i * dims + d] = positions[order[i]! * dims + d]!;
  }
  return out;
}

/** For each row of b, the row of a that is the same item (the inverse of `order`). */
export function inverseOrder(order: Int32Array): Int32Array {
  const inverse = new Int32Array(order.length);
  for (let i = 0; i < order.length; i++) inverse[order[i]!] = i;
  return inverse;
}


import { describe, expect, it } from 'vitest';

import { inOrder, inverseOrder, rankByOverlap } from '../src/state/compare_rows';

describe('compare rows', () => {
  it('puts b positions in the order of a', () => {
    // b's rows 0, 1, 2 at x = 10, 11, 12; a's row 0 is b's row 2, and so on.
    const positions = Float32Array.from([10, 0, 11, 1, 12, 2]);
    const order = Int32Array.from([2, 0, 1]);
    expect(Array.from(inOrder(positions, 2, order))).toEqual([12, 2, 10, 0, 11, 1]);
    expect(Array.from(inverseOrder(order))).toEqual([1, 2, 0]);
  });

  it('ranks points by overlap either way, ties by row', () => {
    const overlap = Float32Array.from([0.5, 0.1, 1, 0.1]);
    expect(Array.from(rankByOverlap(overlap, true))).toEqual([1, 3, 0, 2]);
    expect(Array.from(rankByOverlap(overlap, false))).toEqual([2, 0, 1, 3]);
    expect(rankByOverlap(null, true).length).toBe(0);
  });
});

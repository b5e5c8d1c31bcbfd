import { describe, expect, it } from 'vitest';

import { clusterMembers, faithfulnessLine, missingIn } from '../src/state/map_reading';

describe('missingIn', () => {
  // Five points on a line at x = 0, 1, 2, 10, 11 (2-D, y = 0).
  const positions = Float32Array.from([0, 0, 1, 0, 2, 0, 10, 0, 11, 0]);

  it('lists the true neighbours outside the k nearest in the layout, farthest first', () => {
    // Point 0's true neighbours are 3 and 1 (k = 2): in the layout its 2 nearest are 1 and 2.
    expect(Array.from(missingIn(positions, 2, 0, Int32Array.from([3, 1])))).toEqual([3]);
    expect(Array.from(missingIn(positions, 2, 0, Int32Array.from([4, 3])))).toEqual([4, 3]);
    expect(Array.from(missingIn(positions, 2, 0, Int32Array.from([2, 1])))).toEqual([]);
  });

  it('breaks equal distances by index, as the server does', () => {
    // Point 1 is at distance 1 from points 0 and 2: with k = 1 its nearest is 0.
    expect(Array.from(missingIn(positions, 2, 1, Int32Array.from([2])))).toEqual([2]);
    expect(Array.from(missingIn(positions, 2, 1, Int32Array.from([0])))).toEqual([]);
  });
});

describe('map reading', () => {
  it('selects a cluster by its label', () => {
    expect(Array.from(clusterMembers(Int32Array.from([0, -1, 1, 0]), 0))).toEqual([0, 3]);
  });

  it('says the summary in one line', () => {
    expect(faithfulnessLine({ k: 10, mean: 0.712, below: 0.121 })).toBe(
      "keeps 71 % of each point's 10 nearest neighbours; 12 % of points keep fewer than 30 %",
    );
  });
});

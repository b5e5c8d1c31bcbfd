import { describe, expect, it } from 'vitest';

import { DEMO_CLUSTERS, demoSequences, generateDemo, nearestInLayout } from '../src/demo/demo_data';

describe('generateDemo', () => {
  it('is deterministic for a seed', () => {
    expect(generateDemo(500, 3, 'clusters', 7).positions).toEqual(generateDemo(500, 3, 'clusters', 7).positions);
  });

  it('lays the grid out row by row', () => {
    const { positions } = generateDemo(10, 2, 'grid');
    // side = ceil(sqrt(10)) = 4: point 5 is at column 1 of row 1.
    expect(Array.from(positions.subarray(10, 12))).toEqual([1, 1]);
  });

  it('assigns every point a valid cluster', () => {
    const { cluster } = generateDemo(1000, 2, 'spiral');
    expect(cluster.every((c) => c >= 0 && c < DEMO_CLUSTERS)).toBe(true);
  });
});

describe('nearestInLayout', () => {
  it('matches a brute-force sort', () => {
    const data = generateDemo(300, 3, 'clusters');
    const d = (i: number) =>
      Math.hypot(...[0, 1, 2].map((k) => data.positions[i * 3 + k]! - data.positions[k]!));
    const expected = Array.from({ length: 299 }, (_, i) => i + 1)
      .sort((a, b) => d(a) - d(b))
      .slice(0, 10);
    expect(Array.from(nearestInLayout(data, 0, 10))).toEqual(expected);
  });
});

describe('demoSequences', () => {
  it('links consecutive points of the same cluster', () => {
    const data = generateDemo(200, 2, 'clusters');
    const pairs = demoSequences(data, 200);
    for (let k = 0; k < pairs.length; k += 2) {
      expect(data.cluster[pairs[k]!]).toBe(data.cluster[pairs[k + 1]!]);
      expect(pairs[k]!).toBeLessThan(pairs[k + 1]!);
    }
  });
});

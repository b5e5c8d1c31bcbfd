import { describe, expect, it } from 'vitest';

import { customProjection, nearest, neighborsOfRows, pca, spherize } from '../src/data/local_compute';

// Points along a line in 3D with a little noise off it: one dominant component.
const line = {
  n: 5,
  d: 3,
  vectors: Float32Array.from([0, 0, 0.1, 1, 2, 0, 2, 4, -0.1, 3, 6, 0.1, 4, 8, 0]),
};

describe('in-page compute', () => {
  it('finds the main direction with PCA', () => {
    const result = pca(line, 2);
    expect(result.explainedVarianceRatio[0]).toBeGreaterThan(0.99);
    const xs = Array.from({ length: 5 }, (_, i) => result.scores[i * 2]!);
    // Evenly spaced along the first component (up to its sign).
    const steps = xs.slice(1).map((x, i) => x - xs[i]!);
    for (const step of steps) expect(Math.abs(step)).toBeCloseTo(Math.sqrt(5), 2);
  });

  it('spherizes to unit vectors around the centroid', () => {
    const s = spherize(line);
    for (let i = 0; i < 5; i++) {
      const norm = Math.hypot(...s.vectors.subarray(i * 3, i * 3 + 3));
      if (i !== 2) expect(norm).toBeCloseTo(1, 5);
    }
  });

  it('lists exact neighbours, nearest first, the query row excluded', () => {
    const result = neighborsOfRows(line, [2], 2, 'euclidean');
    expect(result.indices.sort()).toEqual([1, 3]);
    const cosine = nearest(line, [1, 2, 0], 1, 'cosine', new Set());
    expect(cosine.indices[0]).not.toBe(0);
    expect(cosine.distances[0]).toBeCloseTo(0, 2);
  });

  it('projects on the axes between query centroids', () => {
    const out = customProjection(line, { left: Int32Array.of(0), right: Int32Array.of(4), up: Int32Array.of(0), down: Int32Array.of(4) });
    expect(out[8]! - out[0]!).toBeGreaterThan(0);
    expect(out[9]! - out[1]!).toBeLessThan(0);
  });
});

import { describe, expect, it } from 'vitest';

import { ERROR_DIMS, ERROR_POSITIONS_LENGTH } from '../src/constants';
import { computeBounds, countPoints, normalizePositions } from '../src/render/bounds';

describe('countPoints', () => {
  it('checks that the array holds whole rows', () => {
    expect(countPoints(new Float32Array(6), 3)).toBe(2);
    expect(() => countPoints(new Float32Array(5), 2)).toThrow(ERROR_POSITIONS_LENGTH);
    expect(() => countPoints(new Float32Array(4), 4)).toThrow(ERROR_DIMS);
  });
});

describe('computeBounds', () => {
  it('skips rows with non-finite coordinates', () => {
    const b = computeBounds(new Float32Array([0, 1, NaN, 5, 2, -3, Infinity, 0]), 2);
    expect(b).toEqual({ min: [0, -3, 0], max: [2, 1, 0], count: 2 });
  });

  it('is empty-safe', () => {
    expect(computeBounds(new Float32Array(0), 3)).toEqual({ min: [0, 0, 0], max: [0, 0, 0], count: 0 });
  });
});

describe('normalizePositions', () => {
  it('centres the layout and scales its largest half-extent to 1', () => {
    const { positions, bounds } = normalizePositions(new Float32Array([10, 0, 0, 30, 4, 2]), 3);
    const expected = [-1, -0.2, -0.1, 1, 0.2, 0.1];
    positions.forEach((x, k) => expect(x).toBeCloseTo(expected[k]!, 6));
    expect(bounds.min).toEqual([-1, -0.2, -0.1]);
    expect(bounds.max).toEqual([1, 0.2, 0.1]);
  });

  it('measures the radius of the layout around the origin', () => {
    const { radius } = normalizePositions(new Float32Array([0, 0, 0, 4, 4, 4, 2, 2, 2]), 3);
    expect(radius).toBeCloseTo(Math.sqrt(3), 6);
  });

  it('pads 2D layouts with z = 0 so they can animate into 3D', () => {
    const { positions } = normalizePositions(new Float32Array([0, 0, 2, 2]), 2);
    expect(Array.from(positions)).toEqual([-1, -1, 0, 1, 1, 0]);
  });

  it('turns non-finite rows into NaN and ignores them for the scale', () => {
    const { positions } = normalizePositions(new Float32Array([0, 0, NaN, 1, 4, 0]), 2);
    expect(Array.from(positions.subarray(0, 3))).toEqual([-1, 0, 0]);
    expect(positions.subarray(3, 6).every(Number.isNaN)).toBe(true);
  });

  it('keeps a single point at the origin', () => {
    expect(Array.from(normalizePositions(new Float32Array([5, 5, 5]), 3).positions)).toEqual([0, 0, 0]);
  });

  it('returns a new array every time (deck.gl detects changes by identity)', () => {
    const input = new Float32Array([0, 0, 1, 1]);
    expect(normalizePositions(input, 2).positions).not.toBe(normalizePositions(input, 2).positions);
  });
});

describe('equalizeAxes', () => {
  it('stretches a flat axis to the extent of the widest', async () => {
    const { equalizeAxes } = await import('../src/render/bounds');
    const out = equalizeAxes(Float32Array.from([0, 0, 10, 1, 5, NaN]), 2);
    expect(Array.from(out.subarray(0, 4))).toEqual([0, 0, 10, 10]);
    expect(out[4]).toBe(5);
    expect(Number.isNaN(out[5])).toBe(true);
  });
});

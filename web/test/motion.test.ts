import { describe, expect, it } from 'vitest';

import { easeInOutCubic, lerpArray, linear, motionProgress } from '../src/render/motion';

describe('motionProgress', () => {
  const motion = { from: new Float32Array(0), start: 1000, duration: 500, easing: linear };

  it('runs from 0 to 1 over the duration and stays at 1', () => {
    expect(motionProgress(motion, 900)).toBe(0);
    expect(motionProgress(motion, 1250)).toBe(0.5);
    expect(motionProgress(motion, 1500)).toBe(1);
    expect(motionProgress(motion, 9000)).toBe(1);
  });

  it('applies the easing', () => {
    expect(motionProgress({ ...motion, easing: easeInOutCubic }, 1125)).toBeCloseTo(easeInOutCubic(0.25));
    expect(easeInOutCubic(0.5)).toBe(0.5);
    expect(easeInOutCubic(0)).toBe(0);
    expect(easeInOutCubic(1)).toBe(1);
  });
});

describe('lerpArray', () => {
  it('interpolates and keeps the type of the target', () => {
    const out = lerpArray(new Float32Array([0, 10]), new Float64Array([10, 20]), 0.25);
    expect(out).toBeInstanceOf(Float64Array);
    expect(Array.from(out)).toEqual([2.5, 12.5]);
  });

  it('lets points without a start position appear at their end position', () => {
    expect(Array.from(lerpArray([NaN, 0], new Float32Array([4, 4]), 0.5))).toEqual([4, 2]);
  });
});

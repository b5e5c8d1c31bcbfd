import { describe, expect, it } from 'vitest';

import {
  defaultOpacity,
  defaultPointSize,
  defaultSpriteSize,
  pointSizeAtZoom,
  spriteSizeAtZoom,
} from '../src/render/point_style';

describe('point style', () => {
  it('shrinks dots and opacity as N grows, within readable limits', () => {
    const sizes = [10, 1e3, 1e4, 1e5, 1e6, 1e7].map(defaultPointSize);
    expect(sizes).toEqual([...sizes].sort((a, b) => b - a));
    expect(defaultPointSize(10)).toBe(8);
    expect(defaultPointSize(1e7)).toBe(2);
    expect(defaultOpacity(100)).toBe(0.9);
    expect(defaultOpacity(1e6)).toBeCloseTo(0.4, 2);
    expect(defaultOpacity(1e9)).toBe(0.35);
    expect(defaultSpriteSize(1e3)).toBeGreaterThan(defaultSpriteSize(1e5));
  });

  it('grows dots by √2 per zoom step, up to 4×, never below the base', () => {
    expect(pointSizeAtZoom(2, 5, 5)).toBe(2);
    expect(pointSizeAtZoom(2, 7, 5)).toBeCloseTo(4);
    expect(pointSizeAtZoom(2, 20, 5)).toBeCloseTo(8);
    expect(pointSizeAtZoom(2, 1, 5)).toBe(2);
  });

  it('scales thumbnails with the data', () => {
    expect(spriteSizeAtZoom(10, 6, 5)).toBe(20);
    expect(spriteSizeAtZoom(10, 4, 5)).toBe(5);
  });
});

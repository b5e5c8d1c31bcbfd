import { describe, expect, it } from 'vitest';

import { densityGrid, placement } from '../src/render/density_layer';

describe('densityGrid', () => {
  const grid = 64;
  // 1,000 points at the centre, 10 towards the top left, one hidden, one NaN.
  const positions = new Float32Array((1000 + 10 + 2) * 3);
  for (let i = 1000; i < 1010; i++) positions.set([-0.6, 0.6, 0], i * 3);
  positions.set([0.5, 0.5, 0], 1010 * 3);
  positions.set([Number.NaN, 0, 0], 1011 * 3);
  const visible = new Uint8Array(1012).fill(1);
  visible[1010] = 0;
  const density = densityGrid(positions, visible, grid);

  it('keeps the mass of the visible points (the kernel stays inside the grid)', () => {
    const total = density.reduce((a, b) => a + b, 0);
    expect(total).toBeCloseTo(1010, 1);
  });

  it('is densest where most points are, and zero where none is near', () => {
    // Row 0 is the top (y = 1.1), column 0 the left (x = -1.1).
    const index = (x: number, y: number): number =>
      Math.floor(((1.1 - y) * grid) / 2.2) * grid + Math.floor(((x + 1.1) * grid) / 2.2);
    const at = (x: number, y: number): number => density[index(x, y)]!;
    let peak = 0;
    density.forEach((v, i) => (peak = v > density[peak]! ? i : peak));
    expect(peak).toBe(index(0, 0));
    expect(at(-0.6, 0.6)).toBeGreaterThan(0);
    expect(at(-0.6, 0.6)).toBeLessThan(at(0, 0));
    expect(at(0.5, 0.5)).toBe(0); // the hidden point left out
  });
});

describe('placement', () => {
  // A camera as deck.gl's 2-D view: 100 CSS px per unit, y up, the origin at (600, 400).
  const project = ([x, y]: [number, number]): number[] => [600 + 100 * x, 400 - 100 * y];

  it("puts the image's corners on its bounds as the camera projects them", () => {
    const [a, d, e, f] = placement([-1.1, -1.1, 1.1, 1.1], 512, 512, project);
    // The image's top left pixel corner (0, 0) at (left, top), its bottom right (512, 512) at
    // (right, bottom).
    expect([e, f]).toEqual([490, 290]);
    expect(e + 512 * a).toBeCloseTo(710, 9);
    expect(f + 512 * d).toBeCloseTo(510, 9);
  });

  it('follows a pan and a zoom of the camera', () => {
    const zoomed = ([x, y]: [number, number]): number[] => [10 + 400 * (x - 0.5), 20 - 400 * (y + 0.25)];
    const [a, d, e, f] = placement([-1, -1, 1, 1], 256, 256, zoomed);
    expect([a, d]).toEqual([800 / 256, 800 / 256]);
    expect([e, f]).toEqual([10 - 600, 20 - 500]);
  });
});

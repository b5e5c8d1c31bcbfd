import { OrbitView, OrthographicView } from '@deck.gl/core';
import type { Viewport } from '@deck.gl/core';
import { describe, expect, it } from 'vitest';

import {
  pointInPolygon,
  projectToScreen,
  selectInPolygon,
  selectInRect,
} from '../src/render/selection_geometry';

function defined(viewport: Viewport | null): Viewport {
  if (!viewport) throw new Error('deck.gl made no viewport');
  return viewport;
}

const square = [0, 0, 10, 0, 10, 10, 0, 10];
// A "U": the notch between x 4..6 above y 4 is outside.
const concave = [0, 0, 10, 0, 10, 10, 6, 10, 6, 4, 4, 4, 4, 10, 0, 10];

describe('pointInPolygon', () => {
  it('tests convex and concave polygons', () => {
    expect(pointInPolygon(5, 5, square)).toBe(true);
    expect(pointInPolygon(11, 5, square)).toBe(false);
    expect(pointInPolygon(2, 8, concave)).toBe(true);
    expect(pointInPolygon(5, 8, concave)).toBe(false);
    expect(pointInPolygon(5, 2, concave)).toBe(true);
  });
});

describe('selectInRect / selectInPolygon', () => {
  const screen = new Float32Array([1, 1, 5, 8, 20, 20, NaN, NaN, 9, 9]);

  it('selects the points inside a rectangle given by any two corners', () => {
    expect(Array.from(selectInRect(screen, 10, 10, 0, 0))).toEqual([0, 1, 4]);
    expect(Array.from(selectInRect(screen, 0, 0, 6, 9))).toEqual([0, 1]);
  });

  it('selects the points inside a lasso and never hidden (NaN) ones', () => {
    expect(Array.from(selectInPolygon(screen, concave))).toEqual([0, 4]);
    expect(Array.from(selectInPolygon(screen, [0, 0, 1]))).toEqual([]);
  });
});

describe('projectToScreen', () => {
  const positions = new Float32Array([0, 0, 0, 0.5, -0.25, 0.3, -1, 1, -0.7, 0.2, 0.9, 0]);

  function expectMatches(viewport: Viewport) {
    const screen = projectToScreen(positions, viewport.pixelProjectionMatrix, null);
    for (let i = 0; i < positions.length / 3; i++) {
      const [x, y] = viewport.project(Array.from(positions.subarray(i * 3, i * 3 + 3)));
      expect(screen[i * 2]).toBeCloseTo(x!, 3);
      expect(screen[i * 2 + 1]).toBeCloseTo(y!, 3);
    }
  }

  it('agrees with deck.gl for the 3D orbit view', () => {
    const view = new OrbitView({ orbitAxis: 'Y', fovy: 50 });
    const viewState = { target: [0.1, 0, -0.1] as [number, number, number], zoom: 8, rotationOrbit: 35, rotationX: 20 };
    expectMatches(defined(view.makeViewport({ width: 900, height: 600, viewState })));
  });

  it('agrees with deck.gl for the 2D view (y up)', () => {
    const view = new OrthographicView({ flipY: false });
    expectMatches(defined(view.makeViewport({ width: 800, height: 500, viewState: { target: [0.2, -0.1, 0], zoom: 7.5 } })));
  });

  it('gives NaN for hidden points', () => {
    const view = new OrthographicView({ flipY: false });
    const viewport = defined(view.makeViewport({ width: 100, height: 100, viewState: { target: [0, 0, 0], zoom: 5 } }));
    const screen = projectToScreen(positions, viewport.pixelProjectionMatrix, new Uint8Array([1, 0, 1, 1]));
    expect(Number.isNaN(screen[2])).toBe(true);
    expect(Number.isNaN(screen[0])).toBe(false);
  });
});

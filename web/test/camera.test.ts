import { OrbitView, OrthographicView } from '@deck.gl/core';
import type { OrbitViewState, Viewport } from '@deck.gl/core';
import { describe, expect, it } from 'vitest';

import { fitCamera, fromViewState, toViewState } from '../src/render/camera';
import type { Bounds } from '../src/render/bounds';

function defined(viewport: Viewport | null): Viewport {
  if (!viewport) throw new Error('deck.gl made no viewport');
  return viewport;
}

const corners = (b: Bounds) =>
  [0, 1, 2, 3, 4, 5, 6, 7].map((k) => [
    k & 1 ? b.max[0] : b.min[0],
    k & 2 ? b.max[1] : b.min[1],
    k & 4 ? b.max[2] : b.min[2],
  ]);

describe('fitCamera', () => {
  const bounds: Bounds = { min: [-1, -0.5, -0.8], max: [1, 0.3, 0.6], count: 100 };

  it('fits a 2D layout inside the viewport with the margin, centred', () => {
    const width = 1000;
    const height = 600;
    const camera = fitCamera({ ...bounds, min: [-1, -0.5, 0], max: [1, 0.3, 0] }, 1, 2, width, height, 0.1);
    const viewport = defined(
      new OrthographicView({ flipY: false }).makeViewport({
        width,
        height,
        viewState: toViewState(camera, camera.zoom),
      }),
    );
    const xs = corners(bounds).map((c) => viewport.project([c[0]!, c[1]!, 0]));
    const left = Math.min(...xs.map((p) => p[0]!));
    const right = Math.max(...xs.map((p) => p[0]!));
    const top = Math.min(...xs.map((p) => p[1]!));
    const bottom = Math.max(...xs.map((p) => p[1]!));
    // The binding side (the width: 2 units wide, 0.8 high) touches the margin; the other is
    // inside it; the layout is centred.
    expect(left).toBeCloseTo(100, 3);
    expect(right).toBeCloseTo(900, 3);
    expect(top).toBeGreaterThanOrEqual(60);
    expect(bottom).toBeLessThanOrEqual(540);
    expect((top + bottom) / 2).toBeCloseTo(300, 3);
  });

  it('keeps a 3D layout inside the viewport from every orbit angle', () => {
    const width = 900;
    const height = 700;
    // The sphere around the origin that holds every corner of the box.
    const radius = Math.max(...corners(bounds).map((c) => Math.hypot(...c)));
    const camera = fitCamera(bounds, radius, 3, width, height, 0.05);
    if (camera.mode !== '3d') throw new Error('expected a 3D camera');
    const view = new OrbitView({ orbitAxis: 'Y', fovy: 50 });
    for (const rotationOrbit of [0, 45, 90, 135, 180, 270]) {
      for (const rotationX of [-60, 0, 30, 89]) {
        const viewState = toViewState({ ...camera, rotationOrbit, rotationX }, camera.zoom) as OrbitViewState;
        const viewport = defined(view.makeViewport({ width, height, viewState }));
        for (const c of corners(bounds)) {
          const [x, y] = viewport.project(c);
          expect(x).toBeGreaterThanOrEqual(0);
          expect(x).toBeLessThanOrEqual(width);
          expect(y).toBeGreaterThanOrEqual(0);
          expect(y).toBeLessThanOrEqual(height);
        }
      }
    }
  });

  it('handles a single point', () => {
    const camera = fitCamera({ min: [0, 0, 0], max: [0, 0, 0], count: 1 }, 0, 2, 100, 100);
    expect(Number.isFinite(camera.zoom)).toBe(true);
  });
});

describe('toViewState / fromViewState', () => {
  it('round-trips cameras and limits the zoom around the fitted zoom', () => {
    const camera = { mode: '3d' as const, target: [0.1, 0.2, 0.3] as [number, number, number], zoom: 7, rotationOrbit: 10, rotationX: 20 };
    const viewState = toViewState(camera, 8);
    expect(viewState.minZoom).toBeLessThan(8);
    expect(viewState.maxZoom).toBeGreaterThan(8);
    expect(fromViewState('3d', viewState)).toEqual(camera);
    const flat = { mode: '2d' as const, target: [1, 2] as [number, number], zoom: 3 };
    expect(fromViewState('2d', toViewState(flat, 3))).toEqual(flat);
  });
});

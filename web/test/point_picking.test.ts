import { OrbitView, OrthographicView } from '@deck.gl/core';
import type { Viewport } from '@deck.gl/core';
import { describe, expect, it } from 'vitest';

import { pickPoint } from '../src/render/point_picking';
import type { PickablePoints } from '../src/render/point_picking';

function defined(viewport: Viewport | null): Viewport {
  if (!viewport) throw new Error('deck.gl made no viewport');
  return viewport;
}

// 2-D, y up: 100 px per unit (zoom log2(100)), the origin at the middle of 400 × 300 px.
const flat = defined(
  new OrthographicView({ flipY: false }).makeViewport({
    width: 400,
    height: 300,
    viewState: { target: [0, 0, 0], zoom: Math.log2(100) },
  }),
);

function at(viewport: Viewport, point: number[]): { x: number; y: number } {
  const [x = NaN, y = NaN] = viewport.project(point);
  return { x, y };
}

function pick(sets: PickablePoints[], x: number, y: number, viewport: Viewport = flat, pointSize = 4) {
  return pickPoint(sets, { x, y, matrix: viewport.pixelProjectionMatrix, pointSize, pickingRadius: 4 });
}

// Three points 1 unit (100 px) apart on the x axis.
const line = new Float32Array([-1, 0, 0, 0, 0, 0, 1, 0, 0]);

describe('pickPoint', () => {
  it('picks the point under the pointer, and the nearest within reach beside it', () => {
    const { x, y } = at(flat, [0, 0, 0]);
    expect(pick([{ positions: line, count: 3 }], x, y)).toEqual({ set: 0, index: 1, distance: 0 });
    // Dot radius 2 + picking radius 4: 6 px away still picks, 7 px does not.
    expect(pick([{ positions: line, count: 3 }], x + 6, y)?.index).toBe(1);
    expect(pick([{ positions: line, count: 3 }], x, y + 7)).toBeNull();
    const left = at(flat, [-1, 0, 0]);
    expect(pick([{ positions: line, count: 3 }], left.x - 3, left.y)?.index).toBe(0);
  });

  it('only picks among the points drawn (a prefix of the set)', () => {
    const { x, y } = at(flat, [1, 0, 0]);
    expect(pick([{ positions: line, count: 3 }], x, y)?.index).toBe(2);
    expect(pick([{ positions: line, count: 2 }], x, y)).toBeNull();
  });

  it('skips hidden rows, with the mask read by row', () => {
    const { x, y } = at(flat, [0, 0, 0]);
    const visible = new Uint8Array(10).fill(1);
    visible[7] = 0;
    const rows = new Int32Array([3, 7, 9]);
    expect(pick([{ positions: line, count: 3, visible }], x, y)?.index).toBe(1);
    expect(pick([{ positions: line, count: 3, rows, visible }], x, y)).toBeNull();
  });

  it('reaches further for a point drawn larger', () => {
    const { x, y } = at(flat, [0, 0, 0]);
    const sizes = new Float32Array([1, 5, 1]);
    // Radius 2 × 5 = 10 px, plus 4.
    expect(pick([{ positions: line, count: 3, sizes }], x + 13, y)?.index).toBe(1);
    expect(pick([{ positions: line, count: 3 }], x + 13, y)).toBeNull();
  });

  it('prefers the dot the pointer is on, and of dots on top of each other the last drawn', () => {
    // A big dot (radius 20 px) whose centre is 15 px away, and a small one 5 px away: the
    // pointer is inside the big one only.
    const positions = new Float32Array([0.15, 0, 0, -0.05, 0, 0]);
    const sizes = new Float32Array([10, 1]);
    const { x, y } = at(flat, [0, 0, 0]);
    expect(pick([{ positions, count: 2, sizes }], x, y)?.index).toBe(0);
    const same = new Float32Array([0, 0, 0, 0, 0, 0]);
    expect(pick([{ positions: same, count: 2 }], x, y)?.index).toBe(1);
    expect(pick([{ positions: same, count: 2 }, { positions: same, count: 1 }], x, y)).toEqual({
      set: 1,
      index: 0,
      distance: 0,
    });
  });

  it('picks moving points where they are drawn at this progress', () => {
    const previous = new Float32Array([-1, 1, 0, NaN, NaN, NaN, 1, -1, 0]);
    const set = { positions: line, count: 3, previous, progress: 0.5 };
    // Point 0 is half-way from (-1, 1) to (-1, 0); point 1 had no start: drawn at its end.
    const half = at(flat, [-1, 0.5, 0]);
    expect(pick([set], half.x, half.y)?.index).toBe(0);
    const end = at(flat, [-1, 0, 0]);
    expect(pick([set], end.x, end.y)).toBeNull();
    const middle = at(flat, [0, 0, 0]);
    expect(pick([set], middle.x, middle.y)?.index).toBe(1);
    // At the end of the change, the end positions.
    expect(pick([{ ...set, progress: 1 }], end.x, end.y)?.index).toBe(0);
  });

  it('agrees with deck.gl in the 3-D orbit view and never picks points behind the camera', () => {
    const orbit = defined(
      new OrbitView({ orbitAxis: 'Y', fovy: 50 }).makeViewport({
        width: 900,
        height: 600,
        viewState: { target: [0, 0, 0], zoom: 8, rotationOrbit: 35, rotationX: 20 },
      }),
    );
    const positions = new Float32Array([0.3, -0.2, 0.4, -0.5, 0.1, -0.3, 0.05, 0.4, 0.1]);
    for (let i = 0; i < 3; i++) {
      const { x, y } = at(orbit, Array.from(positions.subarray(i * 3, i * 3 + 3)));
      expect(pick([{ positions, count: 3 }], x + 1, y - 1, orbit)?.index).toBe(i);
    }
    // The camera's position: w <= 0 for points there or behind it.
    const eye = orbit.cameraPosition;
    const behind = new Float32Array([eye[0]! * 2, eye[1]! * 2, eye[2]! * 2]);
    const middle = { x: 450, y: 300 };
    for (const [dx, dy] of [[0, 0], [200, 100], [-300, -250]] as const) {
      expect(pick([{ positions: behind, count: 1 }], middle.x + dx, middle.y + dy, orbit, 2000)).toBeNull();
    }
  });

  it('picks nothing among no points or non-finite ones', () => {
    expect(pick([], 200, 150)).toBeNull();
    expect(pick([{ positions: new Float32Array([NaN, 0, 0]), count: 1 }], 200, 150)).toBeNull();
  });
});

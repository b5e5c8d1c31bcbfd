import { describe, expect, it } from 'vitest';

import { arrayLayout, gatherHighlight, gatherLabels, gatherSequences, isShown, sparseLayout } from '../src/render/gather';
import { DEFAULT_POINT_COLOR } from '../src/render/colors';

// Four points: 0 at (0,0,0), 1 at (1,1,1), 2 hidden by the mask, 3 not finite.
const positions = new Float32Array([0, 0, 0, 1, 1, 1, 2, 2, 2, NaN, NaN, NaN]);
const layout = arrayLayout(positions, new Uint8Array([1, 1, 0, 1]));
const colors = new Uint8Array([10, 11, 12, 100, 20, 21, 22, 100, 30, 31, 32, 100, 40, 41, 42, 100]);
const style = { colors, outline: [1, 1, 1, 255], accent: [9, 9, 9, 255] };

describe('isShown', () => {
  it('skips masked and non-finite points', () => {
    expect([0, 1, 2, 3].map((i) => isShown(layout, i))).toEqual([true, true, false, false]);
    expect(isShown(arrayLayout(positions, null), 2)).toBe(true);
  });

  it('knows only the rows given to a sparse layout (a layout drawn from tiles)', () => {
    const sparse = sparseLayout(new Map([[7, Float32Array.of(1, 2, 3)], [8, Float32Array.of(4, 5, 6)]]), null);
    expect([7, 8, 9].map((i) => isShown(sparse, i))).toEqual([true, true, false]);
    const masked = sparseLayout(new Map([[1, Float32Array.of(1, 2, 3)]]), new Uint8Array([1, 0]));
    expect(isShown(masked, 1)).toBe(false);
  });
});

describe('gatherHighlight', () => {
  it('orders neighbours, selection, hovered and keeps point colours opaque', () => {
    const data = gatherHighlight(layout, Int32Array.of(1), Int32Array.of(0, 1, 2), 0, style);
    // Neighbour 1 is selected (drawn once, as selected); neighbour 2 is hidden.
    expect(data.length).toBe(3);
    expect(Array.from(data.positions)).toEqual([0, 0, 0, 1, 1, 1, 0, 0, 0]);
    expect(Array.from(data.radius)).toEqual([Math.fround(0.8), 1, 1.25]);
    expect(Array.from(data.fill.subarray(0, 4))).toEqual([10, 11, 12, 255]);
    expect(Array.from(data.line.subarray(0, 8))).toEqual([1, 1, 1, 255, 9, 9, 9, 255]);
  });

  it('gives points without colours the default colour', () => {
    const data = gatherHighlight(layout, Int32Array.of(1), new Int32Array(0), null, { ...style, colors: null });
    expect(Array.from(data.fill)).toEqual([...DEFAULT_POINT_COLOR, 255]);
  });

  it('is empty without selection or hover', () => {
    expect(gatherHighlight(layout, new Int32Array(0), new Int32Array(0), null, style).length).toBe(0);
  });
});

describe('gatherLabels', () => {
  it('keeps the order and drops points that are not shown', () => {
    const { items } = gatherLabels(layout, Int32Array.of(1, 2, 0), ['b', 'c', 'a']);
    expect(items).toEqual([
      { position: [1, 1, 1], text: 'b' },
      { position: [0, 0, 0], text: 'a' },
    ]);
  });
});

describe('gatherSequences', () => {
  it('draws the pairs whose both ends are shown', () => {
    const data = gatherSequences(layout, Int32Array.of(0, 1, 1, 2, 3, 0));
    expect(data.length).toBe(1);
    expect(Array.from(data.source)).toEqual([0, 0, 0]);
    expect(Array.from(data.target)).toEqual([1, 1, 1]);
  });
});

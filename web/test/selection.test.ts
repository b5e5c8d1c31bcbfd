import { describe, expect, it } from 'vitest';

import type { Modifiers } from '../src/render';
import { clickSelection, combineSelection, labelledPoints, maskOf } from '../src/state/selection';

const none: Modifiers = { shift: false, ctrl: false, meta: false, alt: false };
const shift = { ...none, shift: true };
const ctrl = { ...none, ctrl: true };
const alt = { ...none, alt: true };
const sel = (...i: number[]): Int32Array => Int32Array.from(i);

describe('selection', () => {
  it('replaces the selection by a shape, or adds to it with shift, or removes with alt', () => {
    expect(Array.from(combineSelection(sel(1, 2), sel(3, 4), none))).toEqual([3, 4]);
    expect(Array.from(combineSelection(sel(1, 2), sel(2, 3), shift))).toEqual([1, 2, 3]);
    expect(Array.from(combineSelection(sel(1, 2, 3), sel(2), alt))).toEqual([1, 3]);
  });

  it('selects a clicked point, toggles it with ctrl, clears on empty space', () => {
    expect(Array.from(clickSelection(sel(1), 5, none))).toEqual([5]);
    expect(Array.from(clickSelection(sel(1), 5, ctrl))).toEqual([1, 5]);
    expect(Array.from(clickSelection(sel(1, 5), 5, ctrl))).toEqual([1]);
    expect(Array.from(clickSelection(sel(1, 5), null, none))).toEqual([]);
    expect(Array.from(clickSelection(sel(1, 5), null, shift))).toEqual([1, 5]);
  });

  it('makes a mask of the listed points', () => {
    expect(Array.from(maskOf(5, [1], [3, 1]))).toEqual([0, 1, 0, 1, 0]);
  });

  it('labels the hovered point first, then the selection, then the neighbours, once each', () => {
    expect(Array.from(labelledPoints(7, sel(1, 7), sel(2, 1)))).toEqual([7, 1, 2]);
    expect(Array.from(labelledPoints(null, sel(), sel(4)))).toEqual([4]);
  });
});

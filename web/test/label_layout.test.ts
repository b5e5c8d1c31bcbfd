import { describe, expect, it } from 'vitest';

import { declutter } from '../src/render/label_layout';

const box = (x: number, y: number, width = 50, height = 14) => ({ x, y, width, height });

describe('declutter', () => {
  it('keeps every label when none overlap', () => {
    expect(declutter([box(0, 0), box(60, 0), box(0, 20)])).toEqual([0, 1, 2]);
  });

  it('hides the later of two overlapping labels', () => {
    expect(declutter([box(0, 0), box(30, 5), box(100, 0)])).toEqual([0, 2]);
  });

  it('lets a label through when the one it overlapped was itself hidden', () => {
    // 1 overlaps 0 (hidden); 2 overlaps only 1, so it stays.
    expect(declutter([box(0, 0), box(40, 0), box(85, 0)])).toEqual([0, 2]);
  });

  it('finds overlaps across grid cells and skips labels off screen', () => {
    expect(declutter([box(1000, 1000, 200), box(1150, 1005), box(Number.NaN, 0)])).toEqual([0]);
  });
});

import { describe, expect, it } from 'vitest';

import { colorByCategory, colorByCodes } from '../src/render/colors';
import { cellBox, childrenOf, chooseTiles, overlap, rowsInView } from '../src/render/level_of_detail';
import type { TileTree } from '../src/render/level_of_detail';
import { shapeQuery } from '../src/render/scatter_plot';

// A root tile over [0, 4]² of 4 rows (level 0) with two children: the lower-left cell holds
// 4 rows (all of level 1) and a grandchild of 2 (level 2); the upper-right cell holds 2.
const tree: TileTree = {
  dims: 2,
  low: [0, 0],
  size: 4,
  levels: [4, 8, 12],
  depth: [0, 1, 1, 2],
  cell: [[0, 0], [0, 0], [1, 1], [0, 0]],
  parent: [-1, 0, 0, 1],
  count: [4, 4, 2, 2],
  total: [12, 6, 2, 2],
  levelCounts: [
    [4, 4, 4],
    [0, 3, 4],
    [0, 1, 2],
    [0, 0, 2],
  ],
};
const children = childrenOf(tree);

describe('level of detail', () => {
  it('places tiles in their cells', () => {
    expect(children).toEqual([[1, 2], [3], [], []]);
    expect(cellBox(tree, 2)).toEqual({ min: [2, 2], max: [4, 4] });
    expect(cellBox(tree, 3)).toEqual({ min: [0, 0], max: [1, 1] });
    expect(overlap(cellBox(tree, 1), { min: [1, 1], max: [5, 5] })).toBeCloseTo(0.25);
  });

  it('counts the rows in view from the tiles', () => {
    expect(rowsInView(tree, children, null)).toBe(12);
    // The upper-right cell only: its 2 rows and a quarter of the root's own 4.
    expect(rowsInView(tree, children, { min: [2, 2], max: [4, 4] })).toBeCloseTo(3);
  });

  it('draws the densest level whose rows in view fit the budget, parents first', () => {
    expect(chooseTiles(tree, children, null, 4)).toEqual({ level: 0, tiles: [{ tile: 0, count: 4 }] });
    const all = chooseTiles(tree, children, null, 12);
    expect(all.level).toBe(2);
    expect(all.tiles.map((t) => t.tile)).toEqual([0, 1, 2, 3]);
    // Every row of the level, once: 4 + 4 + 2 + 2 = the last level.
    expect(all.tiles.reduce((sum, t) => sum + t.count, 0)).toBe(12);
    // Zoomed into the lower-left cell: a finer level there, nothing of the other cell.
    const zoomed = chooseTiles(tree, children, { min: [0, 0], max: [1, 1] }, 4);
    expect(zoomed.level).toBe(2);
    expect(zoomed.tiles.map((t) => t.tile)).toEqual([0, 1, 3]);
  });
});

describe('colorByCodes', () => {
  it('gives the colours and legend of colorByCategory without a string per row', () => {
    const cells = ['b', 'a', 'b', null, 'c', 'b'];
    const categories = ['b', 'a', 'c'];
    const codes = Int32Array.from(cells.map((c) => (c === null ? -1 : categories.indexOf(c))));
    expect(colorByCodes(codes, categories)).toEqual(colorByCategory(cells));
  });
});

describe('shapeQuery', () => {
  it('folds the normalisation into the matrix: raw coordinates map to the same pixels', () => {
    // Pixels = normalised × 10 + 100; normalised = (raw − 3) × 0.5 on x, (raw − 5) × 0.5 on y.
    const pixel = [10, 0, 0, 0, 0, 10, 0, 0, 0, 0, 1, 0, 100, 100, 0, 1];
    const query = shapeQuery({ kind: 'rectangle', x0: 0, y0: 0, x1: 1, y1: 1 }, pixel, { center: [3, 5, 0], scale: 0.5 });
    const [x, y] = [7, 9];
    const m = query.matrix;
    expect(m[0]! * x + m[4]! * y + m[12]!).toBeCloseTo((x - 3) * 0.5 * 10 + 100);
    expect(m[1]! * x + m[5]! * y + m[13]!).toBeCloseTo((y - 5) * 0.5 * 10 + 100);
    expect(query.rectangle).toEqual([0, 0, 1, 1]);
  });
});

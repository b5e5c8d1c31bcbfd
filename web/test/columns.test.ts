import { describe, expect, it } from 'vitest';

import { cellText, columnFromStrings, prefersCategorical, sequencePairs, tagRows, textColumn } from '../src/data/columns';

describe('columns', () => {
  it('reads numbers as numeric, with empty cells missing', () => {
    const column = columnFromStrings('count', ['3', '', '7.5']);
    expect(column.kind).toBe('numeric');
    expect(cellText(column, 1)).toBe('');
    expect(cellText(column, 2)).toBe('7.5');
  });

  it('reads any non-number as text, coded by distinct value', () => {
    const column = columnFromStrings('word', ['a', 'b', 'a', '']);
    expect(column.kind).not.toBe('numeric');
    if (column.kind === 'numeric') return;
    expect(column.categories).toEqual(['a', 'b']);
    expect(Array.from(column.codes)).toEqual([0, 1, 0, -1]);
  });

  it('calls repeated values categorical and unique ones text', () => {
    expect(textColumn('class', ['x', 'y', 'x', 'y', 'x']).kind).toBe('categorical');
    expect(textColumn('word', ['a', 'b', 'c']).kind).toBe('text');
  });

  it('colours integer columns with few values as categories by default (a digit label)', () => {
    expect(prefersCategorical(columnFromStrings('digit', ['0', '1', '2', '1', '0', '2']))).toBe(true);
    expect(prefersCategorical(columnFromStrings('score', ['0.5', '1.5']))).toBe(false);
    const many = columnFromStrings('id', Array.from({ length: 100 }, (_, i) => String(i)));
    expect(prefersCategorical(many)).toBe(false);
  });

  it('tags rows into a new column or an existing one', () => {
    const tagged = tagRows(null, 'reviewed', 4, [1, 3], 'yes');
    expect(Array.from({ length: 4 }, (_, i) => cellText(tagged, i))).toEqual(['', 'yes', '', 'yes']);
    const again = tagRows(tagged, 'reviewed', 4, [0], 'no');
    expect(Array.from({ length: 4 }, (_, i) => cellText(again, i))).toEqual(['no', 'yes', '', 'yes']);
  });

  it('links __seq_next__ rows into pairs, skipping missing and out-of-range links', () => {
    const pairs = sequencePairs([columnFromStrings('__seq_next__', ['1', '2', '', '9', '0'])]);
    expect(Array.from(pairs ?? [])).toEqual([0, 1, 1, 2, 4, 0]);
    expect(sequencePairs([columnFromStrings('label', ['a'])])).toBeNull();
  });
});

describe('default columns', () => {
  it('labels by the first text column and colours by the first with a few categories', async () => {
    const { defaultColorColumn, defaultLabelColumn } = await import('../src/data/columns');
    const columns = [
      columnFromStrings('count', ['1', '20', '300', '4']),
      columnFromStrings('word', ['a', 'b', 'c', 'd']),
      columnFromStrings('digit', ['0', '1', '0', '1']),
    ];
    expect(defaultLabelColumn(columns)).toBe('word');
    expect(defaultColorColumn(columns)).toBe('digit');
    expect(defaultColorColumn([columns[1]!])).toBeNull();
  });
});

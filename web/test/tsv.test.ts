import { describe, expect, it } from 'vitest';

import { cellText } from '../src/data/columns';
import { fitMetadata, metadataToTsv, parseMetadataTsv, parseVectorsTsv } from '../src/data/tsv';

describe('vectors TSV', () => {
  it('reads rows of floats and skips blank lines', () => {
    const { vectors, n, d } = parseVectorsTsv('1\t2\n\n3\t4.5\n');
    expect([n, d]).toEqual([2, 2]);
    expect(Array.from(vectors)).toEqual([1, 2, 3, 4.5]);
  });

  it('names the file, line and column of a bad value, and ragged rows', () => {
    expect(() => parseVectorsTsv('1\t2\n3\tx\n', 'v.tsv')).toThrow('v.tsv, line 2, column 2');
    expect(() => parseVectorsTsv('1\t2\n3\n', 'v.tsv')).toThrow('v.tsv, line 2: 1 values');
  });
});

describe('metadata TSV', () => {
  it('has a header row when the first line holds a tab', () => {
    const parsed = parseMetadataTsv('word\tcount\nw0\t4\nw1\t\n');
    expect(parsed.hasHeader).toBe(true);
    expect(parsed.columns.map((c) => [c.name, c.kind])).toEqual([
      ['word', 'text'],
      ['count', 'numeric'],
    ]);
    expect(parsed.rows).toBe(2);
  });

  it('is one column named label without a tab', () => {
    const parsed = parseMetadataTsv('tok_1\ntok_2\n');
    expect(parsed.columns.map((c) => c.name)).toEqual(['label']);
    expect(parsed.rows).toBe(2);
  });

  it('refuses a header row too many or too few, as TensorBoard', () => {
    expect(() => fitMetadata(parseMetadataTsv('label\na\nb\n'), 2)).toThrow('should not have a header row');
    expect(() => fitMetadata(parseMetadataTsv('a\tb\n1\t2\n'), 2)).toThrow('should have a header row');
  });

  it('pads a short file with missing values, with TensorBoard\'s warning', () => {
    const { columns, warning } = fitMetadata(parseMetadataTsv('a\nb\n'), 4);
    expect(warning).toBe('Number of tensors (4) do not match the number of lines in metadata (2).');
    expect(Array.from({ length: 4 }, (_, i) => cellText(columns[0]!, i))).toEqual(['a', 'b', '', '']);
  });

  it('writes TensorBoard\'s format: a header only for several columns', () => {
    const two = parseMetadataTsv('word\tclass\nw0\tx\nw1\ty\n');
    expect(metadataToTsv(two.columns, 2)).toBe('word\tclass\nw0\tx\nw1\ty\n');
    const one = parseMetadataTsv('a\nb\n');
    expect(metadataToTsv(one.columns, 2)).toBe('a\nb\n');
  });
});

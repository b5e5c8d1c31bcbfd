import { describe, expect, it } from 'vitest';

import { columnFromStrings } from '../src/data/columns';
import { ERROR_INVALID_REGEX, searchColumn } from '../src/data/search';

const words = columnFromStrings('word', ['Hitchcock', 'hitch', 'cock', 'tok_1', 'tok_10', 'tok_2', '']);

describe('searchColumn', () => {
  it('finds substrings, case-insensitively, in ascending order', () => {
    expect(Array.from(searchColumn(words, 'HITCH', false))).toEqual([0, 1]);
    expect(Array.from(searchColumn(words, 'tok_1', false))).toEqual([3, 4]);
  });

  it('matches regular expressions', () => {
    expect(Array.from(searchColumn(words, '^tok_\\d$', true))).toEqual([3, 5]);
    expect(Array.from(searchColumn(words, 'cock$', true))).toEqual([0, 2]);
  });

  it('treats regex characters literally without the regex option', () => {
    expect(Array.from(searchColumn(words, '^tok', false))).toEqual([]);
  });

  it('matches nothing for an empty query, and never a missing cell', () => {
    expect(searchColumn(words, '', false).length).toBe(0);
    expect(Array.from(searchColumn(words, '.*', true))).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('says what is wrong with an invalid regex', () => {
    expect(() => searchColumn(words, '(', true)).toThrow(ERROR_INVALID_REGEX);
  });

  it('searches numbers as their text', () => {
    const counts = columnFromStrings('count', ['12', '3', '120']);
    expect(Array.from(searchColumn(counts, '12', false))).toEqual([0, 2]);
  });
});

// Search a metadata column by substring or regular expression, case-insensitive, as the
// inspector does (and as the server's search route does).

import type { Column } from './columns';

export const ERROR_INVALID_REGEX = 'invalid regular expression';

/** Rows whose cell matches, ascending. An empty query matches nothing. */
export function searchColumn(column: Column, query: string, regex: boolean): Int32Array {
  if (query === '') return new Int32Array(0);
  const test = matcher(query, regex);
  const out: number[] = [];
  if (column.kind === 'numeric') {
    column.values.forEach((v, i) => {
      if (!Number.isNaN(v) && test(String(v))) out.push(i);
    });
    return Int32Array.from(out);
  }
  // Each distinct value is tested once: a column of a million rows and 10 classes costs 10 tests.
  const hits = Uint8Array.from(column.categories, (c) => (test(c) ? 1 : 0));
  column.codes.forEach((code, i) => {
    if (code >= 0 && hits[code]) out.push(i);
  });
  return Int32Array.from(out);
}

function matcher(query: string, regex: boolean): (text: string) => boolean {
  if (!regex) {
    const needle = query.toLowerCase();
    return (text) => text.toLowerCase().includes(needle);
  }
  let pattern: RegExp;
  try {
    pattern = new RegExp(query, 'i');
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`${ERROR_INVALID_REGEX}: ${reason}`, { cause: error });
  }
  return (text) => pattern.test(text);
}

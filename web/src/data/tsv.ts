// Files loaded from the browser: vectors TSV (SPEC §2.4) and metadata TSV (SPEC §2.5), and the
// metadata TSV written back ("Download edited metadata"), in TensorBoard's format.

import { cellText, columnFromStrings, textColumn } from './columns';
import type { Column } from './columns';

export interface ParsedVectors {
  vectors: Float32Array;
  n: number;
  d: number;
}

/** Tab-separated floats, one vector a line, blank lines skipped, no label column. */
export function parseVectorsTsv(text: string, fileName = 'the file'): ParsedVectors {
  const rows: number[][] = [];
  let d = 0;
  text.split(/\r?\n/).forEach((line, k) => {
    if (line.trim() === '') return;
    const cells = line.split('\t');
    const row = cells.map((cell, c) => {
      const x = Number(cell);
      if (cell.trim() === '' || !Number.isFinite(x)) {
        throw new Error(`${fileName}, line ${k + 1}, column ${c + 1}: "${cell.slice(0, 40)}" is not a number`);
      }
      return x;
    });
    if (rows.length === 0) d = row.length;
    else if (row.length !== d) {
      throw new Error(`${fileName}, line ${k + 1}: ${row.length} values, but the first line has ${d}`);
    }
    rows.push(row);
  });
  if (rows.length === 0) throw new Error(`${fileName} holds no vectors`);
  const vectors = new Float32Array(rows.length * d);
  rows.forEach((row, i) => vectors.set(row, i * d));
  return { vectors, n: rows.length, d };
}

export interface ParsedMetadata {
  columns: Column[];
  rows: number;
  hasHeader: boolean;
}

/** A header row when the first non-empty line holds a tab; otherwise one column, `label`. */
export function parseMetadataTsv(text: string): ParsedMetadata {
  const lines = text.split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const first = lines.find((line) => line.trim() !== '') ?? '';
  const hasHeader = first.includes('\t');
  if (!hasHeader) {
    return { columns: [columnFromStrings('label', lines)], rows: lines.length, hasHeader };
  }
  const names = lines[lines.indexOf(first)]!.split('\t');
  const body = lines.slice(lines.indexOf(first) + 1);
  const table = names.map(() => new Array<string>(body.length));
  body.forEach((line, r) => {
    const cells = line.split('\t');
    names.forEach((_, c) => (table[c]![r] = cells[c] ?? ''));
  });
  return { columns: names.map((name, c) => columnFromStrings(name, table[c]!)), rows: body.length, hasHeader };
}

/**
 * Fit parsed metadata to n points. Errors where TensorBoard's are (a header row too many or too
 * few); other mismatches pad with missing values or drop extra rows, with a warning.
 */
export function fitMetadata(parsed: ParsedMetadata, n: number): { columns: Column[]; warning: string | null } {
  const { columns, rows, hasHeader } = parsed;
  if (rows === n) return { columns, warning: null };
  if (!hasHeader && rows === n + 1) {
    throw new Error(`The metadata has ${rows} lines for ${n} points: a single column should not have a header row.`);
  }
  if (hasHeader && rows === n - 1) {
    throw new Error(`The metadata has ${rows} rows for ${n} points: with several columns it should have a header row.`);
  }
  const warning = `Number of tensors (${n}) do not match the number of lines in metadata (${rows}).`;
  const fitted = columns.map((column) => {
    const texts = Array.from({ length: n }, (_, i) => (i < rows ? cellText(column, i) : ''));
    return column.kind === 'numeric' ? columnFromStrings(column.name, texts) : textColumn(column.name, texts);
  });
  return { columns: fitted, warning };
}

/** TensorBoard's metadata TSV: a header row unless there is a single column. */
export function metadataToTsv(columns: readonly Column[], n: number): string {
  const escape = (text: string): string => text.replace(/[\t\r\n]+/g, ' ');
  const lines: string[] = [];
  if (columns.length > 1) lines.push(columns.map((c) => escape(c.name)).join('\t'));
  for (let i = 0; i < n; i++) lines.push(columns.map((c) => escape(cellText(c, i))).join('\t'));
  return lines.join('\n') + '\n';
}

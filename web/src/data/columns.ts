// Metadata columns as typed arrays: numbers as Float64Array (NaN = missing), text as
// dictionary codes into the distinct values (-1 = missing). No per-row objects, so a million
// rows cost a few megabytes, and a search tests each distinct value once.

/** A metadata value as it arrives from a table column: absent values are null/undefined/"". */
export type CellValue = string | number | bigint | boolean | null | undefined;

export interface NumericColumn {
  name: string;
  kind: 'numeric';
  values: Float64Array;
  /** Every present value is an integer (a class id, a digit, a count). */
  integer: boolean;
  distinct: number;
}

export interface TextColumn {
  name: string;
  /** 'categorical' when few values repeat (a class); 'text' otherwise (a word, a sentence). */
  kind: 'categorical' | 'text';
  codes: Int32Array;
  categories: string[];
  distinct: number;
}

export type Column = NumericColumn | TextColumn;

/** Integer columns with at most this many values are coloured as categories by default. */
export const DEFAULT_CATEGORICAL_INTEGER_LIMIT = 20;
/** A text column with at most this many distinct values (and repeats) is categorical. */
export const DEFAULT_CATEGORICAL_LIMIT = 1000;

export function numericColumn(name: string, values: Float64Array): NumericColumn {
  const seen = new Set<number>();
  let integer = true;
  for (const v of values) {
    if (Number.isNaN(v)) continue;
    if (integer && !Number.isInteger(v)) integer = false;
    if (seen.size <= DEFAULT_CATEGORICAL_LIMIT) seen.add(v);
  }
  return { name, kind: 'numeric', values, integer, distinct: seen.size };
}

/** A text column from per-row strings (empty or null = missing). */
export function textColumn(name: string, cells: ArrayLike<string | null | undefined>): TextColumn {
  const codes = new Int32Array(cells.length);
  const index = new Map<string, number>();
  const categories: string[] = [];
  for (let i = 0; i < cells.length; i++) {
    const cell = cells[i];
    if (cell === null || cell === undefined || cell === '') {
      codes[i] = -1;
      continue;
    }
    let code = index.get(cell);
    if (code === undefined) {
      code = categories.length;
      categories.push(cell);
      index.set(cell, code);
    }
    codes[i] = code;
  }
  return withTextKind({ name, kind: 'text', codes, categories, distinct: categories.length });
}

export function withTextKind(column: TextColumn): TextColumn {
  const categorical = column.distinct <= DEFAULT_CATEGORICAL_LIMIT && column.distinct < column.codes.length / 2;
  return { ...column, kind: categorical ? 'categorical' : 'text' };
}

/** A column from strings, numeric when every present value parses as a number (SPEC §2.5). */
export function columnFromStrings(name: string, cells: readonly string[]): Column {
  const values = new Float64Array(cells.length);
  let present = 0;
  for (let i = 0; i < cells.length; i++) {
    const cell = cells[i]!.trim();
    if (cell === '') {
      values[i] = NaN;
      continue;
    }
    const x = Number(cell);
    if (!Number.isFinite(x)) return textColumn(name, cells);
    values[i] = x;
    present++;
  }
  return present > 0 ? numericColumn(name, values) : textColumn(name, cells);
}

export function rowCount(column: Column): number {
  return column.kind === 'numeric' ? column.values.length : column.codes.length;
}

export function cellValue(column: Column, i: number): CellValue {
  if (column.kind === 'numeric') {
    const v = column.values[i]!;
    return Number.isNaN(v) ? null : v;
  }
  const code = column.codes[i]!;
  return code < 0 ? null : column.categories[code]!;
}

/** The text of a cell as TensorBoard shows it ('' when missing). */
export function cellText(column: Column, i: number): string {
  const v = cellValue(column, i);
  return v === null || v === undefined ? '' : String(v);
}

/** Every cell, for the colour mapping (one array of references, no copies of strings). */
export function cells(column: Column): CellValue[] {
  if (column.kind === 'numeric') return Array.from(column.values, (v) => (Number.isNaN(v) ? null : v));
  return Array.from(column.codes, (c) => (c < 0 ? null : column.categories[c]!));
}

/** Colour numbers as categories by default? Integer columns of a few repeated values are class ids. */
export function prefersCategorical(column: Column): boolean {
  return (
    column.kind === 'numeric' &&
    column.integer &&
    column.distinct <= DEFAULT_CATEGORICAL_INTEGER_LIMIT &&
    column.distinct <= column.values.length / 2
  );
}

/** Set `value` in the rows `indices` ("Tag selection as"); a new column, the old is kept. */
export function tagRows(column: Column | null, name: string, n: number, indices: ArrayLike<number>, value: string): Column {
  const texts = column ? Array.from({ length: n }, (_, i) => cellText(column, i)) : new Array<string>(n).fill('');
  for (let k = 0; k < indices.length; k++) texts[indices[k]!] = value;
  return columnFromStrings(name, texts);
}

/** The values of a __seq_next__ / __next__ column as links [from, to, ...] between rows. */
export function sequencePairs(columns: readonly Column[]): Int32Array | null {
  const column = columns.find((c) => c.name === '__seq_next__') ?? columns.find((c) => c.name === '__next__');
  if (!column) return null;
  const n = rowCount(column);
  const pairs: number[] = [];
  for (let i = 0; i < n; i++) {
    const next = Number(cellValue(column, i) ?? NaN);
    if (Number.isInteger(next) && next >= 0 && next < n && next !== i) pairs.push(i, next);
  }
  return pairs.length > 0 ? Int32Array.from(pairs) : null;
}

/** A categorical column is coloured by default when it has between 2 and this many values. */
export const DEFAULT_COLOR_CATEGORIES = 24;

/** What the default choices look at: a column loaded, or one the server describes. */
export interface ColumnSummary {
  name: string;
  kind: 'numeric' | 'categorical' | 'text';
  distinct: number;
  rows: number;
  /** Every value is an integer; null when not known (a column not loaded yet). */
  integer: boolean | null;
}

export function summaryOf(column: Column): ColumnSummary {
  const integer = column.kind === 'numeric' ? column.integer : false;
  return { name: column.name, kind: column.kind, distinct: column.distinct, rows: rowCount(column), integer };
}

/** Label by the first text column (a word, a file name), else the first column. */
export function defaultLabelColumn(columns: readonly Pick<ColumnSummary, 'name' | 'kind'>[]): string | null {
  const usable = columns.filter((c) => !c.name.startsWith('__'));
  return (usable.find((c) => c.kind === 'text') ?? usable[0])?.name ?? null;
}

/**
 * Colour by the first column of a few categories (a class, a digit), if any. A numeric column
 * qualifies when its values are integers (class ids), or may be (not loaded yet).
 */
export function defaultColorColumn(columns: readonly (Column | ColumnSummary)[]): string | null {
  const categorical = columns
    .map((c) => ('rows' in c ? c : summaryOf(c)))
    .find(
      (c) =>
        !c.name.startsWith('__') &&
        c.distinct >= 2 &&
        c.distinct <= DEFAULT_COLOR_CATEGORIES &&
        // Values that repeat: a class, not a name per point.
        c.distinct <= c.rows / 2 &&
        (c.kind === 'categorical' || (c.kind === 'numeric' && c.integer !== false && c.distinct <= DEFAULT_CATEGORICAL_INTEGER_LIMIT)),
    );
  return categorical?.name ?? null;
}

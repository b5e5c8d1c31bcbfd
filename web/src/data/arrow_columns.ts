// Columns from the server's Arrow metadata table.
//
// Read from Arrow's buffers where it can (numbers without nulls, dictionary-encoded text):
// ten million rows of a column take milliseconds instead of ten million `get` calls.

import { DataType } from 'apache-arrow';
import type { Dictionary, Table, Vector } from 'apache-arrow';

import type { ColumnInfo } from '../api/types';
import { numericColumn, textColumn, withTextKind } from './columns';
import type { Column, TextColumn } from './columns';

/** One Column per field; `infos` (from the embedding listing) give the server's kind. */
export function columnsFromArrow(table: Table, infos: readonly ColumnInfo[] = []): Column[] {
  return table.schema.fields.map((field, k) => {
    const vector = table.getChildAt<DataType>(k)!;
    const info = infos.find((c) => c.name === field.name);
    const type = field.type as DataType;
    if (DataType.isInt(type) || DataType.isFloat(type) || DataType.isDecimal(type)) {
      return numericColumn(field.name, numbersOf(vector));
    }
    const column = DataType.isDictionary(type)
      ? codedColumn(field.name, vector as Vector<Dictionary>)
      : textColumn(field.name, stringsOf(vector));
    return info && info.kind !== 'numeric' ? { ...column, kind: info.kind } : column;
  });
}

function numbersOf(vector: Vector): Float64Array {
  if (vector.nullCount === 0 && !DataType.isDecimal(vector.type)) {
    const values = vector.toArray() as ArrayLike<number | bigint>;
    // 64-bit integers arrive as BigInt64Array: numbers one by one (exact up to 2**53).
    return values instanceof Float64Array ? values : Float64Array.from(values as ArrayLike<number>, Number);
  }
  const values = new Float64Array(vector.length);
  for (let i = 0; i < vector.length; i++) {
    const v: unknown = vector.get(i);
    values[i] = v === null || v === undefined ? NaN : Number(v);
  }
  return values;
}

/** A dictionary-encoded text column: its codes and its values, as they are. */
function codedColumn(name: string, vector: Vector<Dictionary>): TextColumn {
  const codes = new Int32Array(vector.length);
  let offset = 0;
  let categories: string[] = [];
  for (const data of vector.data) {
    const dictionary = data.dictionary;
    categories = dictionary ? Array.from({ length: dictionary.length }, (_, i) => String(dictionary.get(i))) : [];
    const values = data.values as ArrayLike<number>;
    for (let i = 0; i < data.length; i++) codes[offset + i] = data.getValid(i) ? Number(values[i]) : -1;
    offset += data.length;
  }
  // One dictionary for the whole column (the server writes one batch); empty strings are missing.
  const empty = categories.indexOf('');
  if (empty >= 0) for (let i = 0; i < codes.length; i++) if (codes[i] === empty) codes[i] = -1;
  return withTextKind({ name, kind: 'text', codes, categories, distinct: categories.length - (empty >= 0 ? 1 : 0) });
}

function stringsOf(vector: Vector): (string | null)[] {
  const out = new Array<string | null>(vector.length);
  for (let i = 0; i < vector.length; i++) {
    const v = vector.get(i) as string | number | bigint | boolean | null | undefined;
    out[i] = v === null || v === undefined ? null : String(v);
  }
  return out;
}

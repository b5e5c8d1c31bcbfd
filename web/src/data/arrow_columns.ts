// Columns from the server's Arrow metadata table.

import { DataType } from 'apache-arrow';
import type { Table, Vector } from 'apache-arrow';

import type { ColumnInfo } from '../api/types';
import { numericColumn, textColumn } from './columns';
import type { Column } from './columns';

/** One Column per field; `infos` (from the embedding listing) give the server's kind. */
export function columnsFromArrow(table: Table, infos: readonly ColumnInfo[] = []): Column[] {
  return table.schema.fields.map((field, k) => {
    const vector = table.getChildAt<DataType>(k)!;
    const info = infos.find((c) => c.name === field.name);
    const type = field.type as DataType;
    if (DataType.isInt(type) || DataType.isFloat(type) || DataType.isDecimal(type)) {
      return numericColumn(field.name, numbersOf(vector));
    }
    const column = textColumn(field.name, stringsOf(vector));
    return info && info.kind !== 'numeric' ? { ...column, kind: info.kind } : column;
  });
}

function numbersOf(vector: Vector): Float64Array {
  const values = new Float64Array(vector.length);
  for (let i = 0; i < vector.length; i++) {
    const v: unknown = vector.get(i);
    values[i] = v === null || v === undefined ? NaN : Number(v);
  }
  return values;
}

function stringsOf(vector: Vector): (string | null)[] {
  const out = new Array<string | null>(vector.length);
  for (let i = 0; i < vector.length; i++) {
    const v = vector.get(i) as string | number | bigint | boolean | null | undefined;
    out[i] = v === null || v === undefined ? null : String(v);
  }
  return out;
}

// Exports: the coordinates of the current projection (CSV or Parquet, with the metadata), and
// the selection (indices and metadata, CSV). Built in the page from what it already holds.

import { cellText, cellValue } from '../data/columns';
import type { Column } from '../data/columns';

const AXES = ['x', 'y', 'z'];

function csvCell(text: string): string {
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Rows of CSV in pieces (a Blob joins them without one huge string). */
function csvRows(header: string[], count: number, row: (k: number) => string[]): string[] {
  const parts = [header.map(csvCell).join(',') + '\n'];
  for (let k = 0; k < count; k++) parts.push(row(k).map(csvCell).join(',') + '\n');
  return parts;
}

/** index, x, y(, z), then every metadata column; one line per point. */
export function coordinatesCsv(layout: Float32Array, dims: number, columns: readonly Column[]): string[] {
  const n = layout.length / dims;
  const header = ['index', ...AXES.slice(0, dims), ...columns.map((c) => c.name)];
  return csvRows(header, n, (i) => [
    String(i),
    ...Array.from(layout.subarray(i * dims, i * dims + dims), (v) => (Number.isFinite(v) ? String(v) : '')),
    ...columns.map((c) => cellText(c, i)),
  ]);
}

/** index and every metadata column of the selected points. */
export function selectionCsv(indices: ArrayLike<number>, columns: readonly Column[]): string[] {
  const header = ['index', ...columns.map((c) => c.name)];
  return csvRows(header, indices.length, (k) => {
    const i = indices[k]!;
    return [String(i), ...columns.map((c) => cellText(c, i))];
  });
}

/** The same table as coordinatesCsv, as Parquet (float32 axes, typed metadata columns). */
export async function coordinatesParquet(layout: Float32Array, dims: number, columns: readonly Column[]): Promise<ArrayBuffer> {
  // Loaded on first use: the writer is not needed to open the page.
  const { parquetWriteBuffer } = await import('hyparquet-writer');
  const n = layout.length / dims;
  const axes = AXES.slice(0, dims).map((name, k) => ({
    name,
    data: Float32Array.from({ length: n }, (_, i) => layout[i * dims + k]!),
    type: 'FLOAT' as const,
  }));
  const metadata = columns.map((column) =>
    column.kind === 'numeric'
      ? { name: column.name, data: Array.from({ length: n }, (_, i) => cellValue(column, i) as number | null), type: 'DOUBLE' as const }
      : { name: column.name, data: Array.from({ length: n }, (_, i) => cellValue(column, i) as string | null), type: 'STRING' as const },
  );
  const index = { name: 'index', data: Int32Array.from({ length: n }, (_, i) => i), type: 'INT32' as const };
  return parquetWriteBuffer({ columnData: [index, ...axes, ...metadata] });
}

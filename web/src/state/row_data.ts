// What the page fetches of single rows above the level-of-detail threshold, where it does not
// hold everything: the cells of the columns the server serves (labels, the hover card, the
// metadata card, lists), and the positions of the rows it highlights, labels or isolates.

import { api } from './api_instance';
import { app } from './app.svelte';

/** Rows whose cells are kept (oldest dropped first): labels and lists show a few at a time. */
export const ROW_CELLS_KEPT = 20_000;
/** Rows asked for in one request. */
const ROWS_PER_REQUEST = 5_000;
/** Rows of a partial layout whose positions are fetched: beyond it, a selection is ringed
 * only where its tiles are drawn. */
export const ROW_POSITIONS_LIMIT = 50_000;

const wanted = new Set<number>();
let flushing = false;

/** Fetch the cells of the served columns for these rows soon (labels wait for them). */
export function wantCells(rows: Iterable<number>): void {
  if (app.servedColumns.length === 0) return;
  for (const row of rows) if (!app.rowCells.has(row)) wanted.add(row);
  if (wanted.size > 0 && !flushing) {
    flushing = true;
    setTimeout(() => void flushCells(), 0);
  }
}

async function flushCells(): Promise<void> {
  const embedding = app.embedding;
  try {
    while (wanted.size > 0 && embedding === app.embedding && embedding) {
      const rows = Int32Array.from([...wanted].slice(0, ROWS_PER_REQUEST));
      for (const row of rows) wanted.delete(row);
      const table = await api.rows(embedding.id, rows);
      if (embedding !== app.embedding) break;
      const cells = new Map(app.rowCells);
      const columns = app.servedColumns.map((c) => ({ name: c.name, vector: table.getChild(c.name) }));
      rows.forEach((row, k) => {
        const record: Record<string, string> = {};
        for (const { name, vector } of columns) {
          const value = vector?.get(k) as string | number | bigint | boolean | null | undefined;
          record[name] = value === null || value === undefined ? '' : String(value);
        }
        cells.delete(row); // re-inserted last: the most recent
        cells.set(row, record);
      });
      for (const row of cells.keys()) {
        if (cells.size <= ROW_CELLS_KEPT) break;
        cells.delete(row);
      }
      app.rowCells = cells;
    }
  } catch (error) {
    app.fail('Could not load the metadata of the points shown', error);
  } finally {
    wanted.clear();
    flushing = false;
  }
}

let positionsSerial = 0;

/** Fetch the positions of the rows a partial layout highlights, labels or isolates. */
export async function updateRowPositions(extra: Iterable<number> = []): Promise<void> {
  const serial = ++positionsSerial;
  const server = app.layout?.server;
  if (!server) {
    app.rowPositions = null;
    return;
  }
  const rows = new Set<number>(extra);
  const add = (list: ArrayLike<number> | null | undefined): void => {
    for (let k = 0; list && k < list.length && rows.size < ROW_POSITIONS_LIMIT; k++) rows.add(list[k]!);
  };
  add(app.neighbors?.indices);
  if (app.isolated && app.isolated.length <= ROW_POSITIONS_LIMIT) add(app.isolated);
  add(app.selection);
  const list = Int32Array.from(rows).sort();
  if (list.length === 0) {
    app.rowPositions = null;
    return;
  }
  try {
    const positions = await api.layoutPositions(server.info.id, list);
    if (serial === positionsSerial && app.layout?.server === server) {
      app.rowPositions = { layout: server.info.id, rows: list, positions };
    }
  } catch {
    // A layout replaced meanwhile (404): the next one asks again; no banner.
  }
}

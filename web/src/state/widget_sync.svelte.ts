// The notebook widget's traits (src/embedding_projector/widget.py) and the app state, kept equal
// both ways: selection, colour and label columns, projection and its dimensions; the layout
// shown goes to Python (read-only there), in pieces, once it stops changing.

import { untrack } from 'svelte';

import { sendLayout } from '../api/comm_transport';
import { select } from './actions';
import { app } from './app.svelte';
import { debounce } from './debounce';
import { runProjection } from './projection_runner.svelte';
import { DEFAULT_SELECTION_REPORT_DELAY_MS } from './selection_report';
import { isProjectionKind } from './view_state';
import { rowsOf } from './widget_view';
import type { WidgetModel, WidgetTraits } from './widget_view';

/** The layout goes to Python this long after its last change (t-SNE frames come faster). */
export const DEFAULT_LAYOUT_REPORT_DELAY_MS = 600;

/** Whether two selections hold the same rows (in any order). */
export function sameRows(a: Int32Array, b: Int32Array): boolean {
  if (a.length !== b.length) return false;
  const x = a.slice().sort();
  const y = b.slice().sort();
  return x.every((v, i) => v === y[i]);
}

function put<K extends keyof WidgetTraits>(model: WidgetModel, key: K, value: WidgetTraits[K]): void {
  if (model.get(key) === value) return;
  model.set(key, value);
  model.save_changes();
}

/**
 * Python → page: a trait set in Python changes the app. Called once the app has opened its
 * embedding; what Python set while it loaded is applied at once (but a None there is a trait
 * not set yet: the app's own choice of columns stays).
 */
export function followModel(model: WidgetModel): void {
  const onSelection = (): void => {
    const rows = rowsOf(model.get('selection'));
    if (!sameRows(rows, app.selection)) select(rows.filter((i) => i < app.n));
  };
  const column = (trait: 'color_by' | 'label_by', set: (name: string | null) => void, initial: boolean): void => {
    const name = model.get(trait);
    if (name === null ? !initial : app.column(name)) set(name);
  };
  const onColor = (initial = false): void => column('color_by', (name) => (app.colorBy = name), initial);
  const onLabel = (initial = false): void => column('label_by', (name) => (app.labelBy = name), initial);
  const onProjection = (): void => {
    const kind = model.get('projection');
    const dims = model.get('dims');
    if (!isProjectionKind(kind)) return;
    const changedKind = app.projection.kind !== kind;
    app.projection.kind = kind;
    const changedDims = kind !== 'custom' && (dims === 2 || dims === 3) && app.projection[kind].dims !== dims;
    if (changedDims) app.projection[kind].dims = dims;
    if (changedKind || changedDims) void runProjection();
  };
  const handlers = { selection: onSelection, color_by: onColor, label_by: onLabel, projection: onProjection, dims: onProjection };
  for (const [trait, handler] of Object.entries(handlers)) {
    model.on(`change:${trait}`, () => handler());
    handler(true);
  }
}

/** Page → Python: the app's changes set the traits. Returns the function that stops it. */
export function reportToModel(model: WidgetModel): () => void {
  const reportSelection = debounce(() => {
    const rows = app.selection;
    if (sameRows(rows, rowsOf(model.get('selection')))) return;
    const sorted = rows.slice().sort();
    model.set('selection', new DataView(sorted.buffer));
    model.save_changes();
  }, DEFAULT_SELECTION_REPORT_DELAY_MS);
  let uploads = 0;
  let sent: Float32Array | null = null;
  const reportLayout = debounce(() => {
    const layout = app.layout;
    if (!layout || layout.positions === sent) return;
    sent = layout.positions;
    sendLayout(model, layout.positions, layout.dims, ++uploads);
  }, DEFAULT_LAYOUT_REPORT_DELAY_MS);

  return $effect.root(() => {
    $effect(() => {
      void app.selection;
      untrack(reportSelection);
    });
    $effect(() => put(model, 'color_by', app.colorBy));
    $effect(() => put(model, 'label_by', app.labelBy));
    $effect(() => {
      const kind = app.projection.kind;
      put(model, 'projection', kind);
      put(model, 'dims', kind === 'custom' ? 2 : app.projection[kind].dims);
    });
    $effect(() => put(model, '_rows', app.n));
    $effect(() => {
      void app.layout;
      untrack(reportLayout);
    });
  });
}

// The notebook widget's traits (src/embedding_projector/widget.py) and the view they ask for
// first. Pure: no app state (widget_sync.svelte.ts keeps the traits and the app equal).

import type { AnyModel } from '@anywidget/types';

import { defaultView, isProjectionKind } from './view_state';
import type { ProjectionKind, ViewState } from './view_state';

export interface WidgetTraits {
  height: number;
  /** int32 row indices (a DataView, as binary traits arrive), ascending. */
  selection: DataView | null;
  color_by: string | null;
  label_by: string | null;
  projection: ProjectionKind | null;
  dims: 2 | 3 | null;
  /** The id of the embedding compared with the first one (`compare()` in Python). */
  _compare: string | null;
  _rows: number;
}

export type WidgetModel = AnyModel<WidgetTraits>;

export function rowsOf(value: DataView | null | undefined): Int32Array {
  if (!value || value.byteLength === 0) return new Int32Array(0);
  return new Int32Array(value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength));
}

/** What the widget shows first: the traits set in Python before it was displayed. */
export function initialView(model: WidgetModel): ViewState {
  const view = defaultView();
  const kind = model.get('projection');
  if (isProjectionKind(kind)) view.projection.kind = kind;
  const dims = model.get('dims');
  // Whether Python chose the dimensions: the notebook has no URL hash to say so.
  if (dims === 2 || dims === 3) {
    view.dimsChosen = true;
    if (view.projection.kind !== 'custom') view.projection[view.projection.kind].dims = dims;
  }
  view.colorBy = model.get('color_by');
  view.labelBy = model.get('label_by');
  view.selection = Array.from(rowsOf(model.get('selection')));
  view.compare = model.get('_compare');
  return view;
}

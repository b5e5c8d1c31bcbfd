// Bookmarks: TensorBoard's state (so a bookmark file opens in TensorBoard too) plus a
// `projector` field with our view in our own terms (exact camera, every projection parameter).
// TensorBoard's files have no such field and are read from their own fields.

import { fromTensorBoard, toTensorBoard } from './tensorboard_state';
import type { RestoredState, TbState, ToTensorBoardInput } from './tensorboard_state';
import { decodeView, encodeView } from './url_state';

export interface Bookmark extends TbState {
  projector?: {
    version: 1;
    /** The view, encoded as the URL hash is (the whole selection is in selectedPoints). */
    view: string;
    isolated: number[] | null;
  };
}

/** Per-point coordinates are saved for data sets up to this size (JSON grows ~40 bytes/point). */
export const DEFAULT_BOOKMARK_LAYOUT_LIMIT = 50_000;

export const ERROR_NOT_BOOKMARKS = 'not a bookmarks file: expected a JSON array of saved states';

export function makeBookmark(input: ToTensorBoardInput): Bookmark {
  const layout = input.shape[0] <= DEFAULT_BOOKMARK_LAYOUT_LIMIT ? input.layout : null;
  return {
    ...toTensorBoard({ ...input, layout }),
    projector: {
      version: 1,
      view: encodeView({ ...input.view, selection: [] }),
      isolated: input.isolated,
    },
  };
}

/** What a bookmark restores, for a data set of n points. */
export function restoreBookmark(bookmark: Bookmark, n: number, plotHeight: number): RestoredState {
  const restored = fromTensorBoard(bookmark, n, plotHeight);
  const ours = bookmark.projector;
  if (ours?.version !== 1 || typeof ours.view !== 'string') return restored;
  // The TensorBoard fields were written from the same view: the saved coordinates match it.
  const view = decodeView(ours.view);
  view.selection = restored.view.selection;
  return {
    ...restored,
    view,
    isolated: Array.isArray(ours.isolated) ? ours.isolated.filter((i) => i >= 0 && i < n) : null,
  };
}

/** Bookmarks from a file's text (ours or TensorBoard's); throws ERROR_NOT_BOOKMARKS. */
export function parseBookmarks(text: string): Bookmark[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new Error(ERROR_NOT_BOOKMARKS);
  }
  if (!Array.isArray(data) || !data.every((b) => typeof b === 'object' && b !== null && !Array.isArray(b))) {
    throw new Error(ERROR_NOT_BOOKMARKS);
  }
  return (data as Bookmark[]).map((b, k) => ({ ...b, label: typeof b.label === 'string' ? b.label : `State ${k}`, isSelected: false }));
}

/** The label of a new bookmark: "State 3" as TensorBoard, unless taken. */
export function nextBookmarkLabel(bookmarks: readonly Bookmark[]): string {
  const taken = new Set(bookmarks.map((b) => b.label));
  let k = bookmarks.length;
  while (taken.has(`State ${k}`)) k++;
  return `State ${k}`;
}

// Selection rules: what a click or a drawn shape does to the selection, with its modifiers
// (shift / ctrl / ⌘ add, alt removes), and the few points that get a label.

import type { Modifiers } from '../render';

const EMPTY = new Int32Array(0);

/** The selection after picking `picked` (a clicked point, or the points inside a shape). */
export function combineSelection(current: Int32Array, picked: Int32Array, modifiers: Modifiers): Int32Array {
  if (modifiers.alt) {
    const removed = new Set(picked);
    return current.filter((i) => !removed.has(i));
  }
  if (modifiers.shift || modifiers.ctrl || modifiers.meta) {
    const merged = new Set(current);
    for (const i of picked) merged.add(i);
    return Int32Array.from(merged);
  }
  return Int32Array.from(new Set(picked));
}

/** A click: on a point selects it (with ctrl/⌘ toggles it); on empty space clears. */
export function clickSelection(current: Int32Array, index: number | null, modifiers: Modifiers): Int32Array {
  if (index === null) return modifiers.shift || modifiers.ctrl || modifiers.meta ? current : EMPTY;
  if ((modifiers.ctrl || modifiers.meta) && current.includes(index)) {
    return current.filter((i) => i !== index);
  }
  return combineSelection(current, Int32Array.of(index), modifiers);
}

/** The rows in both ascending lists. */
export function intersectSorted(a: Int32Array, b: Int32Array): Int32Array {
  const out: number[] = [];
  for (let i = 0, j = 0; i < a.length && j < b.length; ) {
    if (a[i]! < b[j]!) i++;
    else if (a[i]! > b[j]!) j++;
    else {
      out.push(a[i]!);
      i++;
      j++;
    }
  }
  return Int32Array.from(out);
}

/** One byte per point, 1 for the listed points (the mask of "Isolate selection"). */
export function maskOf(n: number, ...lists: ArrayLike<number>[]): Uint8Array {
  const mask = new Uint8Array(n);
  for (const list of lists) for (let k = 0; k < list.length; k++) mask[list[k]!] = 1;
  return mask;
}

/** At most this many selected points are labelled (beyond, labels would only overlap). */
export const DEFAULT_SELECTED_LABEL_LIMIT = 50;

/**
 * Points to label, most important first (the renderer drops later ones where they overlap):
 * the hovered point, then the selection, then the neighbours.
 */
export function labelledPoints(hovered: number | null, selected: Int32Array, neighbors: Int32Array): Int32Array {
  const shown = new Set<number>();
  if (hovered !== null) shown.add(hovered);
  for (let k = 0; k < Math.min(selected.length, DEFAULT_SELECTED_LABEL_LIMIT); k++) shown.add(selected[k]!);
  for (const i of neighbors) shown.add(i);
  return Int32Array.from(shown);
}

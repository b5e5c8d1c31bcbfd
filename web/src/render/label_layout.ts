// Decluttering of labels: when the labels of nearby points overlap, keep the most important
// (earliest) one of each overlapping group and hide the others; zooming in reveals them.
// Runs on the CPU for the few labelled points, once per camera change.

export interface LabelBox {
  /** Left, top, width, height in CSS pixels; NaN coordinates mean "not on screen". */
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Grid cell size for the overlap search, in CSS pixels (about one label high and wide). */
const CELL = 48;

/** Indices of the boxes to show, in priority order (index 0 first), none overlapping another. */
export function declutter(boxes: readonly LabelBox[]): number[] {
  const kept: number[] = [];
  // Each grid cell lists the kept boxes that touch it, so a test looks at neighbours only.
  const grid = new Map<string, number[]>();
  const cells = (b: LabelBox): string[] => {
    const keys: string[] = [];
    for (let cx = Math.floor(b.x / CELL); cx <= Math.floor((b.x + b.width) / CELL); cx++) {
      for (let cy = Math.floor(b.y / CELL); cy <= Math.floor((b.y + b.height) / CELL); cy++) {
        keys.push(`${cx},${cy}`);
      }
    }
    return keys;
  };
  boxes.forEach((box, i) => {
    if (!Number.isFinite(box.x) || !Number.isFinite(box.y)) return;
    const keys = cells(box);
    const overlaps = keys.some((key) =>
      (grid.get(key) ?? []).some((j) => {
        const other = boxes[j]!;
        return (
          box.x < other.x + other.width &&
          other.x < box.x + box.width &&
          box.y < other.y + other.height &&
          other.y < box.y + box.height
        );
      }),
    );
    if (overlaps) return;
    kept.push(i);
    for (const key of keys) {
      const list = grid.get(key);
      if (list) list.push(i);
      else grid.set(key, [i]);
    }
  });
  return kept;
}

let measureContext: CanvasRenderingContext2D | null = null;
const widths = new Map<string, number>();

/** Width of a label in CSS pixels at the given font (cached: labels repeat across frames). */
export function measureLabel(text: string, font: string): number {
  const key = `${font}|${text}`;
  let width = widths.get(key);
  if (width === undefined) {
    measureContext ??= document.createElement('canvas').getContext('2d');
    if (!measureContext) return text.length * 8;
    measureContext.font = font;
    width = measureContext.measureText(text).width;
    widths.set(key, width);
  }
  return width;
}

// What the page tells the plot when it is made and when a layout changes, and what the plot
// reports back (hover, click, selection, detail, camera, errors).

import type { Camera } from './camera';
import type { ShapeQuery } from './partial_points';
import type { Modifiers } from './selection_overlay';
import type { ThemeName } from './theme';

export interface ScatterPlotOptions {
  theme?: ThemeName;
  /**
   * Called on pointer moves over the plot (once per frame at most) with the point under the
   * pointer; `at` is in CSS px relative to the plot.
   */
  onHover?: (index: number | null, at: { x: number; y: number } | null) => void;
  /** A click on a point, or on empty space (null). */
  onClick?: (index: number | null, modifiers: Modifiers) => void;
  /** A rectangle or lasso gesture ended: the indices inside it (hidden points excluded). */
  onSelect?: (indices: Int32Array, modifiers: Modifiers) => void;
  /**
   * A rectangle or lasso gesture ended on a layout drawn in part: the shape, and the matrix
   * from raw layout coordinates to its pixels, to decide over every row. Without it, the
   * points drawn are selected (`onSelect`).
   */
  onSelectShape?: (query: ShapeQuery, modifiers: Modifiers) => void;
  /** How many points are drawn, of how many, and the level of detail drawn (tiles only; it
   * changes as the view zooms). */
  onDetail?: (shown: number, total: number, level: number | null) => void;
  /** The camera moved: every frame of a drag, so throttle what it triggers (the URL, say). */
  onCameraChange?: (camera: Camera) => void;
  /** A GPU error after construction (lost context, shader failure). */
  onError?: (error: Error) => void;
}

export interface LayoutTransition {
  /** Animation length; default DEFAULT_TRANSITION_MS, 0 to jump. Never animates a new N. */
  durationMs?: number;
  /** 'ease' for a switch of projection; 'linear' for a stream of layouts (live t-SNE), whose
   * frames then join into one continuous motion when durationMs matches their interval. */
  easing?: 'ease' | 'linear';
}

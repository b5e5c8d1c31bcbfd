// Shared constants of the web app: defaults are DEFAULT_*, messages thrown by the renderer are
// ERROR_* (the page compares `error.message` against them to choose its banner).

export const ERROR_WEBGL_UNAVAILABLE =
  'This browser cannot draw the plot: WebGL 2 is unavailable or disabled. ' +
  'Enable hardware acceleration in the browser settings, update the graphics driver, ' +
  'or open the page in a recent Chrome, Edge, Firefox or Safari.';
export const ERROR_POSITIONS_LENGTH = 'positions must hold N × dims float32 values';
export const ERROR_DIMS = 'dims must be 2 or 3';
export const ERROR_ATTRIBUTE_LENGTH = 'a per-point array does not match the number of points';
export const ERROR_INDEX_RANGE = 'a point index is out of range';
export const ERROR_LABELS_LENGTH = 'labels: indices and texts must have the same length';
export const ERROR_DESTROYED = 'the scatter plot was destroyed';

/** Positions animate to a new layout over this many milliseconds (e.g. PCA → t-SNE). */
export const DEFAULT_TRANSITION_MS = 900;
/** Fraction of the view that stays empty around the data after `resetView()`. */
export const DEFAULT_FIT_MARGIN = 0.08;
/** Labels are drawn at this CSS pixel size unless the user changes it. */
export const DEFAULT_LABEL_SIZE = 14;
/** The hover pick accepts points this many CSS pixels away, so 2 px points are easy to hit. */
export const DEFAULT_PICKING_RADIUS = 4;
/** Starting camera angles of the 3D view, in degrees: slightly from above and aside. */
export const DEFAULT_ROTATION_X = 20;
export const DEFAULT_ROTATION_ORBIT = 30;
/** Sequence links (`__seq_next__`) are this many CSS pixels wide. */
export const DEFAULT_SEQUENCE_WIDTH = 1.5;

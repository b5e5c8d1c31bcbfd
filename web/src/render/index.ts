// The rendering core's public interface.
export { ScatterPlot } from './scatter_plot';
export type { LayoutTransition, ScatterPlotOptions } from './scatter_plot';
export type { Camera, Camera2D, Camera3D } from './camera';
export type { Bounds, Dims } from './bounds';
export { computeBounds, equalizeAxes } from './bounds';
export { lerpArray } from './motion';
export type { SpriteSheet } from './points_layer';
export type { Modifiers, SelectionMode } from './selection_overlay';
export type { ThemeName } from './theme';
export {
  CATEGORICAL_PALETTE,
  MISSING_COLOR,
  VIRIDIS_STOPS,
  colorByCategory,
  colorByColumn,
  colorByNumber,
  rgbToHex,
  uniformColors,
} from './colors';
export type { CategoryEntry, ColorMapping, Legend, Rgb } from './colors';

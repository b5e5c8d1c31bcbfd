// The rendering core's public interface.
export { ScatterPlot } from './scatter_plot';
export type { LayoutTransition, PartialLayout, ScatterPlotOptions, ShapeQuery } from './scatter_plot';
export type { TileTree } from './level_of_detail';
export type { TileRows, TileSource } from './tile_set';
export type { Camera, Camera2D, Camera3D } from './camera';
export type { Bounds, Dims } from './bounds';
export { computeBounds, equalizeAxes } from './bounds';
export { lerpArray } from './motion';
export { declutter, measureLabel } from './label_layout';
export { DENSITY_DEFAULT_FROM } from './density_layer';
export type { LabelBox } from './label_layout';
export type { SpriteSheet } from './points_layer';
export type { Modifiers, SelectionMode } from './selection_overlay';
export type { ThemeName } from './theme';
export {
  CATEGORICAL_PALETTE,
  MISSING_COLOR,
  VIRIDIS_STOPS,
  colorByCategory,
  colorByCodes,
  colorByColumn,
  colorByNumber,
  rgbToHex,
  uniformColors,
} from './colors';
export type { CategoryEntry, ColorMapping, Legend, Rgb } from './colors';

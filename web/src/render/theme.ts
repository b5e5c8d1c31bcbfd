// Colours of the plot itself (the page styles the rest with CSS variables of the same values).

export type ThemeName = 'light' | 'dark';
export type Rgba = [number, number, number, number];

export interface PlotTheme {
  background: Rgba;
  /** Label text and its halo, which keeps it readable over dense points. */
  label: Rgba;
  halo: Rgba;
  /** Outline of highlighted points. */
  outline: Rgba;
  /** Ring of the selected and hovered points. */
  accent: Rgba;
  sequence: Rgba;
  /** Stroke and fill of the rectangle / lasso being drawn (CSS colours). */
  gestureStroke: string;
  gestureFill: string;
}

export const THEMES: Record<ThemeName, PlotTheme> = {
  light: {
    background: [255, 255, 255, 255],
    label: [29, 36, 51, 255],
    halo: [255, 255, 255, 235],
    outline: [29, 36, 51, 255],
    accent: [232, 89, 12, 255],
    sequence: [70, 80, 100, 110],
    gestureStroke: '#1d2433',
    gestureFill: 'rgba(78, 121, 167, 0.12)',
  },
  // Not black: a deep blue-grey keeps the dim end of viridis and the dark palette colours
  // distinguishable from the background.
  dark: {
    background: [22, 25, 32, 255],
    label: [236, 240, 246, 255],
    halo: [22, 25, 32, 235],
    outline: [245, 247, 250, 255],
    accent: [255, 146, 76, 255],
    sequence: [190, 200, 220, 110],
    gestureStroke: '#eef1f6',
    gestureFill: 'rgba(160, 203, 232, 0.14)',
  },
};

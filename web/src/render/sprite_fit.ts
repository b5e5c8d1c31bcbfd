// Sprite atlases larger than the GPU's biggest texture (TensorBoard refuses those over 8192 px,
// SPEC §2.6): scaled down as a whole, so every thumbnail keeps its place in the grid.

import type { SpriteSheet } from './points_layer';

/** The sheet itself when it fits in `maxSize` × `maxSize`, else a scaled copy. */
export function fitSpriteSheet(sheet: SpriteSheet, maxSize: number): SpriteSheet {
  const { width, height } = sheet.image;
  const scale = Math.min(1, maxSize / width, maxSize / height);
  if (scale >= 1) return sheet;
  const canvas = document.createElement('canvas');
  canvas.width = Math.floor(width * scale);
  canvas.height = Math.floor(height * scale);
  const context = canvas.getContext('2d');
  if (!context) return sheet;
  context.imageSmoothingQuality = 'high';
  context.drawImage(sheet.image, 0, 0, canvas.width, canvas.height);
  // Cells scale by the canvas's own (rounded) size, so the grid still divides it exactly.
  const cellWidth = (sheet.cellWidth * canvas.width) / width;
  const cellHeight = (sheet.cellHeight * canvas.height) / height;
  return { ...sheet, image: canvas, cellWidth, cellHeight };
}

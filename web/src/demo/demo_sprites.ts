// A generated sprite atlas for the preview: one small tile per point, tinted by cluster and
// numbered, in a non-square grid (TensorBoard would refuse it; we draw it).

import { CATEGORICAL_PALETTE, rgbToHex } from '../render';
import type { SpriteSheet } from '../render';

export const DEMO_SPRITE_LIMIT = 10_000;
const CELL = 32;

export function demoSprites(cluster: Int32Array): SpriteSheet {
  const columns = Math.ceil(Math.sqrt(cluster.length) * 1.25);
  const rows = Math.ceil(cluster.length / columns);
  const canvas = document.createElement('canvas');
  canvas.width = columns * CELL;
  canvas.height = rows * CELL;
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('2D canvas unavailable');
  ctx.font = `bold ${CELL * 0.36}px system-ui, sans-serif`;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  for (let i = 0; i < cluster.length; i++) {
    const x = (i % columns) * CELL;
    const y = Math.floor(i / columns) * CELL;
    const color = CATEGORICAL_PALETTE[cluster[i]! % CATEGORICAL_PALETTE.length]!;
    ctx.fillStyle = rgbToHex(color);
    ctx.beginPath();
    ctx.roundRect(x + 2, y + 2, CELL - 4, CELL - 4, 6);
    ctx.fill();
    ctx.fillStyle = '#ffffff';
    ctx.fillText(String(i % 1000), x + CELL / 2, y + CELL / 2 + 1);
  }
  return { image: canvas, cellWidth: CELL, cellHeight: CELL, columns };
}

import { describe, expect, it } from 'vitest';

import {
  CATEGORICAL_PALETTE,
  MISSING_COLOR,
  VIRIDIS_STOPS,
  colorByCategory,
  colorByColumn,
  colorByNumber,
  hexToRgb,
  rgbToHex,
  sampleGradient,
} from '../src/render/colors';
import type { Rgb } from '../src/render/colors';

/** CIELAB of an sRGB colour (D65), for perceptual distances. */
function lab([r, g, b]: Rgb): [number, number, number] {
  const lin = [r, g, b].map((c) => {
    const v = c / 255;
    return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  const x = (0.4124 * lin[0] + 0.3576 * lin[1] + 0.1805 * lin[2]) / 0.95047;
  const y = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2];
  const z = (0.0193 * lin[0] + 0.1192 * lin[1] + 0.9505 * lin[2]) / 1.08883;
  const f = (t: number) => (t > 0.008856 ? Math.cbrt(t) : 7.787 * t + 16 / 116);
  return [116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))];
}
const deltaE = (a: Rgb, b: Rgb) => Math.hypot(...lab(a).map((v, k) => v - lab(b)[k]!));

const rgbaAt = (colors: Uint8Array, i: number) => Array.from(colors.subarray(i * 4, i * 4 + 4));

describe('categorical palette', () => {
  it('has at least 20 colours that are far apart and apart from the missing grey', () => {
    const first20 = CATEGORICAL_PALETTE.slice(0, 20);
    expect(first20).toHaveLength(20);
    for (let i = 0; i < first20.length; i++) {
      // Tableau's teal is the closest to grey (ΔE 22.8): still plainly a colour.
      expect(deltaE(first20[i]!, MISSING_COLOR)).toBeGreaterThan(20);
      for (let j = i + 1; j < first20.length; j++) {
        expect(deltaE(first20[i]!, first20[j]!)).toBeGreaterThan(25);
      }
    }
  });

  it('round-trips hex', () => {
    expect(rgbToHex(hexToRgb('#4e79a7'))).toBe('#4e79a7');
    expect(hexToRgb('#000000')).toEqual([0, 0, 0]);
  });
});

describe('colorByCategory', () => {
  it('gives the most frequent category the first colour and lists the legend by count', () => {
    const { colors, legend } = colorByCategory(['b', 'a', 'b', 'c', 'b', 'a']);
    expect(legend.kind).toBe('categorical');
    if (legend.kind !== 'categorical') return;
    expect(legend.entries.map((e) => [e.label, e.count])).toEqual([
      ['b', 3],
      ['a', 2],
      ['c', 1],
    ]);
    expect(rgbaAt(colors, 0)).toEqual([...CATEGORICAL_PALETTE[0]!, 255]);
    expect(rgbaAt(colors, 1)).toEqual([...CATEGORICAL_PALETTE[1]!, 255]);
    expect(rgbaAt(colors, 3)).toEqual([...CATEGORICAL_PALETTE[2]!, 255]);
  });

  it('keeps ties in order of appearance', () => {
    const { legend } = colorByCategory(['x', 'y', 'z']);
    expect(legend.kind === 'categorical' && legend.entries.map((e) => e.label)).toEqual(['x', 'y', 'z']);
  });

  it('paints missing values grey and counts them apart', () => {
    const { colors, legend } = colorByCategory(['a', null, '', undefined, 'a']);
    for (const i of [1, 2, 3]) expect(rgbaAt(colors, i)).toEqual([...MISSING_COLOR, 255]);
    expect(legend.kind === 'categorical' && legend.missing).toBe(3);
    expect(legend.kind === 'categorical' && legend.entries).toHaveLength(1);
  });

  it('repeats the palette past its end', () => {
    const k = CATEGORICAL_PALETTE.length;
    const values = Array.from({ length: k + 1 }, (_, i) => `c${i}`);
    const { colors } = colorByCategory(values);
    expect(rgbaAt(colors, k)).toEqual(rgbaAt(colors, 0));
  });

  it('treats numbers as category names', () => {
    const { legend } = colorByCategory([1, 2, 2]);
    expect(legend.kind === 'categorical' && legend.entries[0]!.label).toBe('2');
  });
});

describe('colorByNumber', () => {
  it('maps the minimum and maximum to the ends of viridis', () => {
    const { colors, legend } = colorByNumber([5, 10, 7.5]);
    expect(rgbaAt(colors, 0)).toEqual([...VIRIDIS_STOPS[0]!, 255]);
    expect(rgbaAt(colors, 1)).toEqual([...VIRIDIS_STOPS[VIRIDIS_STOPS.length - 1]!, 255]);
    expect(rgbaAt(colors, 2)).toEqual([...VIRIDIS_STOPS[5]!, 255]);
    expect(legend).toMatchObject({ kind: 'numeric', min: 5, max: 10, missing: 0 });
  });

  it('paints NaN and null grey', () => {
    const { colors, legend } = colorByNumber(new Float64Array([1, Number.NaN, 2]));
    expect(rgbaAt(colors, 1)).toEqual([...MISSING_COLOR, 255]);
    expect(legend.missing).toBe(1);
    expect(rgbaAt(colorByNumber([1, null]).colors, 1)).toEqual([...MISSING_COLOR, 255]);
  });

  it('puts a constant column mid-gradient', () => {
    const { colors } = colorByNumber([3, 3]);
    expect(rgbaAt(colors, 0)).toEqual([...sampleGradient(VIRIDIS_STOPS, 0.5), 255]);
  });

  it('has no range when every value is missing', () => {
    const { legend } = colorByNumber([null, null]);
    expect(legend.kind === 'numeric' && Number.isNaN(legend.min)).toBe(true);
  });
});

describe('colorByColumn', () => {
  it('uses the gradient for numeric columns unless categorical is forced', () => {
    expect(colorByColumn([1, 2], 'numeric').legend.kind).toBe('numeric');
    expect(colorByColumn([1, 2], 'numeric', { categorical: true }).legend.kind).toBe('categorical');
    expect(colorByColumn(['a'], 'categorical').legend.kind).toBe('categorical');
  });
});

describe('sampleGradient', () => {
  it('interpolates between stops and clamps outside [0, 1]', () => {
    const stops: Rgb[] = [
      [0, 0, 0],
      [100, 200, 50],
    ];
    expect(sampleGradient(stops, 0.5)).toEqual([50, 100, 25]);
    expect(sampleGradient(stops, -1)).toEqual([0, 0, 0]);
    expect(sampleGradient(stops, 2)).toEqual([100, 200, 50]);
  });
});

import { describe, expect, it } from 'vitest';
import {
  colorize,
  colormapHex,
  COLORMAP_NAMES,
  COLORMAPS,
  NAN_RGB,
  RdBu_r,
  sampleColormap,
  viridis,
  type ColormapName,
} from './colormaps';

const at = (lut: Uint8Array, k: number) => [lut[3 * k], lut[3 * k + 1], lut[3 * k + 2]];

describe('colormaps', () => {
  it('viridis matches the published matplotlib values', () => {
    // matplotlib viridis: #440154 (0.0), #21918c (entry 128), #fde725 (1.0); 0.267004 * 255 = 68.1
    expect(colormapHex('viridis', 0)).toBe('#440154');
    expect(colormapHex('viridis', 0.5)).toBe('#21918c');
    expect(colormapHex('viridis', 1)).toBe('#fde725');
    expect(viridis.lut.length).toBe(768);
  });

  it('RdBu_r runs from ColorBrewer dark blue through near-white to dark red', () => {
    expect(colormapHex('RdBu_r', 0)).toBe('#053061');
    expect(colormapHex('RdBu_r', 1)).toBe('#67001f');
    // entry 128 sits at 128/255 = 0.50196: 1.96 % of the way from #f7f7f7 to #fddbc7
    // -> (247 + 0.12, 247 - 0.55, 247 - 0.94) = (247, 246, 246)
    expect(at(RdBu_r.lut, 128)).toEqual([247, 246, 246]);
    // entry 127 at 0.49804: 98.04 % of the way from #d1e5f0 to #f7f7f7
    // -> (209 + 37.25, 229 + 17.65, 240 + 6.86) = (246, 247, 247)
    expect(at(RdBu_r.lut, 127)).toEqual([246, 247, 247]);
  });

  it('colorize follows the matplotlib index rule, clips, and greys out NaN', () => {
    const lut = viridis.lut;
    const rgb = colorize([0, 10, 5, -3, 99, Number.NaN, 0.04, 0.039], 0, 10, 'viridis');
    // 0 -> 0, 10 -> 256 clipped to 255, 5 -> 128, -3 and 99 clip, 0.04 * 25.6 = 1.024 -> 1, 0.039 -> 0
    const expected = [
      at(lut, 0),
      at(lut, 255),
      at(lut, 128),
      at(lut, 0),
      at(lut, 255),
      [...NAN_RGB],
      at(lut, 1),
      at(lut, 0),
    ];
    expect(Array.from({ length: 8 }, (_, i) => Array.from(rgb.subarray(3 * i, 3 * i + 3)))).toEqual(expected);
  });

  it('a degenerate range maps everything to the middle colour', () => {
    expect(Array.from(colorize([2, 2], 2, 2, 'RdBu_r').subarray(0, 3))).toEqual(at(RdBu_r.lut, 128));
    expect(() => colorize([1], 1, 0)).toThrow('colorize: need min <= max; got min=1, max=0');
  });

  it('NaN grey appears in no colormap, so missing data cannot pass for a value', () => {
    for (const name of COLORMAP_NAMES.filter((n) => n !== 'gray')) {
      const { lut } = COLORMAPS[name];
      for (let k = 0; k < 256; k++) expect(at(lut, k)).not.toEqual([...NAN_RGB]);
    }
  });

  it('unknown names are refused with the list; samples are evenly spaced', () => {
    expect(() => colorize([1], 0, 1, 'jet' as ColormapName)).toThrow(
      'colormap must be one of viridis, RdBu_r, gray; got "jet"',
    );
    expect(sampleColormap('viridis', 3)).toEqual(['#440154', '#21918c', '#fde725']);
  });
});

import { describe, expect, it } from 'vitest';
import { svgToPng } from './render';
import { decodePng, pixel } from './testing/decoded-png';

describe('svgToPng', () => {
  const svg =
    '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="30"><rect width="40" height="30" fill="white"/><rect x="10" y="10" width="10" height="10" fill="#ff0000"/></svg>';

  it('renders at one pixel per unit, and scale multiplies the size', async () => {
    const one = await decodePng(await svgToPng(svg));
    expect([one.width, one.height]).toEqual([40, 30]);
    expect(pixel(one, 15, 15)).toEqual([255, 0, 0]);
    expect(pixel(one, 5, 5)).toEqual([255, 255, 255]);
    const two = await decodePng(await svgToPng(svg, 2));
    expect([two.width, two.height]).toEqual([80, 60]);
    expect(pixel(two, 30, 30)).toEqual([255, 0, 0]);
    expect(pixel(two, 18, 18)).toEqual([255, 255, 255]);
  });
});

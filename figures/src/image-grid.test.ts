import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { imageGridSvg } from './image-grid';
import { svgToPng } from './render';
import { decodePng, regionsOfColor } from './testing/decoded-png';

const solid = (r: number, g: number, b: number, w: number, h: number) =>
  sharp({ create: { width: w, height: h, channels: 3, background: { r, g, b } } });

describe('imageGridSvg', () => {
  it('places PNG and JPEG images in square cells, keeping the aspect ratio, with captions', async () => {
    const red = await solid(255, 0, 0, 32, 32).png().toBuffer();
    const wideBlue = await solid(0, 0, 255, 64, 32).png().toBuffer();
    const green = await solid(0, 255, 0, 16, 16).jpeg({ quality: 100 }).toBuffer();
    const svg = imageGridSvg({
      images: [
        { bytes: red, caption: 'stim-01' },
        { bytes: wideBlue, caption: 'a very long caption that cannot fit' },
        { bytes: green },
      ],
      cellSize: 64,
      columns: 2,
      title: 'Stimuli',
    });
    expect(svg).toContain('>stim-01<');
    expect(svg).toContain('…'); // the long caption is cut to the cell width
    expect(svg).toContain('Stimuli');
    const img = await decodePng(await svgToPng(svg));
    // red 32 x 32 scaled to fill the 64 px cell; the 2:1 blue image fits as 64 x 32
    expect(regionsOfColor(img, [255, 0, 0]).filter((b) => b.width === 64 && b.height === 64)).toHaveLength(1);
    expect(regionsOfColor(img, [0, 0, 255]).filter((b) => b.width === 64 && b.height === 32)).toHaveLength(1);
    // the JPEG sits on the second row, below the red one
    const [r] = regionsOfColor(img, [255, 0, 0]).filter((b) => b.width === 64);
    const greenish = regionsOfColor(img, [0, 255, 1])
      .concat(regionsOfColor(img, [0, 255, 0]))
      .filter((b) => b.width > 50);
    expect(greenish.length).toBeGreaterThan(0);
    expect(greenish[0]!.y).toBeGreaterThan(r!.y + 64);
  });

  it('refuses bytes that are not an image', () => {
    expect(() => imageGridSvg({ images: [{ bytes: Uint8Array.from([0x47, 0x49, 0x46, 0x38]) }] })).toThrow(
      'dataUri: expected PNG or JPEG bytes; got a file starting 47 49 46 38',
    );
    expect(() => imageGridSvg({ images: [] })).toThrow(/no images/);
  });
});

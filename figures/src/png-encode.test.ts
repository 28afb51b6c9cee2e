import { describe, expect, it } from 'vitest';
import { createRng } from '@orthostim/rdm';
import { encodePng, upscaleNearest } from './png-encode';
import { decodePng } from './testing/decoded-png';
import sharp from 'sharp';

describe('encodePng', () => {
  it('round-trips RGB through an independent decoder (sharp), on unequal sides', async () => {
    const rnd = createRng(3);
    // smooth rows favour the Up/Sub filters, noise favours None: all three get used
    const w = 37,
      h = 23;
    const px = new Uint8Array(w * h * 3);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        for (let c = 0; c < 3; c++)
          px[3 * (y * w + x) + c] = y < 8 ? x * 6 + c : y < 16 ? 100 : Math.floor(rnd() * 256);
    const decoded = await decodePng(encodePng(px, w, h, 3));
    expect([decoded.width, decoded.height]).toEqual([w, h]);
    expect(Buffer.from(decoded.data).equals(Buffer.from(px))).toBe(true);
  });

  it('writes grey and RGBA too', async () => {
    const grey = Uint8Array.from({ length: 5 * 4 }, (_, k) => k * 12);
    const greyPng = encodePng(grey, 5, 4, 1);
    expect((await sharp(greyPng).metadata()).channels).toBe(1);
    const g = await sharp(greyPng).extractChannel(0).raw().toBuffer();
    expect([...g]).toEqual([...grey]);
    const rgba = Uint8Array.from({ length: 3 * 2 * 4 }, (_, k) => (k * 37) % 256);
    const a = await sharp(encodePng(rgba, 3, 2, 4))
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect(a.info.channels).toBe(4);
    expect([...a.data]).toEqual([...rgba]);
  });

  it('refuses inconsistent sizes', () => {
    expect(() => encodePng(new Uint8Array(10), 2, 2, 3)).toThrow('encodePng: expected 2*2*3 = 12 bytes; got 10');
    expect(() => encodePng(new Uint8Array(0), 0, 2, 3)).toThrow(/0 x 2/);
  });
});

describe('upscaleNearest', () => {
  it('repeats each pixel fx times across and fy times down', () => {
    // 2 x 1 grey image [a, b] enlarged 3 x 2
    expect([...upscaleNearest(Uint8Array.from([1, 2]), 2, 1, 1, 3, 2)]).toEqual([1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2]);
  });
});

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '@orthostim/protocol';
import { centerCropBox, cropAndResize, prepareImage, readImageRgb } from './prepare-image';
import { encodePng, writePng } from './png';
import { readImageFolder } from './read-image-folder';

const dir = mkdtempSync(join(tmpdir(), 'orthostim-images-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Rgb = readonly [number, number, number];
const RED: Rgb = [255, 0, 0];
// Quadrant colours without red, so any red in the output can only come from the cropped-off border.
const TL: Rgb = [0, 200, 0];
const TR: Rgb = [0, 0, 200];
const BL: Rgb = [0, 100, 100];
const BR: Rgb = [0, 50, 150];

/** width x height RGB: a 2 x 2 block pattern in the centred square, red everywhere else. */
function blockImage(width: number, height: number): Uint8Array {
  const { left, top, side } = {
    left: Math.floor((width - Math.min(width, height)) / 2),
    top: Math.floor((height - Math.min(width, height)) / 2),
    side: Math.min(width, height),
  };
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const u = x - left;
      const v = y - top;
      const inside = u >= 0 && u < side && v >= 0 && v < side;
      const c = !inside ? RED : v < side / 2 ? (u < side / 2 ? TL : TR) : u < side / 2 ? BL : BR;
      data.set(c, (y * width + x) * 3);
    }
  }
  return data;
}

async function savePng(
  name: string,
  data: Uint8Array,
  width: number,
  height: number,
  channels: 1 | 2 | 3 | 4 = 3,
): Promise<string> {
  const file = join(dir, name);
  writeFileSync(file, await sharp(data, { raw: { width, height, channels } }).png().toBuffer());
  return file;
}

function pixel(rgb: Uint8Array, size: number, x: number, y: number): number[] {
  const o = (y * size + x) * 3;
  return [rgb[o]!, rgb[o + 1]!, rgb[o + 2]!];
}

describe('centerCropBox', () => {
  it('takes the centred square, rounding the offset down', () => {
    expect(centerCropBox(30, 20)).toEqual({ left: 5, top: 0, side: 20 });
    expect(centerCropBox(20, 31)).toEqual({ left: 0, top: 5, side: 20 });
    expect(centerCropBox(7, 7)).toEqual({ left: 0, top: 0, side: 7 });
  });
});

describe('prepareImage', () => {
  it('crops a wide image to its centre square exactly (no resize needed)', async () => {
    const file = await savePng('wide.png', blockImage(30, 20), 30, 20);
    const out = await prepareImage(file, 20);
    expect(out.length).toBe(20 * 20 * 3);
    expect(pixel(out, 20, 0, 0)).toEqual([...TL]);
    expect(pixel(out, 20, 19, 0)).toEqual([...TR]);
    expect(pixel(out, 20, 0, 19)).toEqual([...BL]);
    expect(pixel(out, 20, 19, 19)).toEqual([...BR]);
    expect(out.filter((_, i) => i % 3 === 0).every((r) => r === 0)).toBe(true);
  });

  it('crops a tall image (odd margin: 5 above, 6 below) and resizes with a cubic kernel', async () => {
    const file = await savePng('tall.png', blockImage(20, 31), 20, 31);
    const exact = await prepareImage(file, 20);
    expect(pixel(exact, 20, 0, 0)).toEqual([...TL]);
    expect(pixel(exact, 20, 19, 19)).toEqual([...BR]);

    const small = await prepareImage(file, 10);
    expect(small.length).toBe(10 * 10 * 3);
    // Quadrant interiors keep their colour; no red leaks in from the cropped-off margins.
    for (const [x, y, c] of [
      [1, 1, TL],
      [8, 1, TR],
      [1, 8, BL],
      [8, 8, BR],
    ] as const) {
      pixel(small, 10, x, y).forEach((v, k) => expect(Math.abs(v - c[k]!)).toBeLessThanOrEqual(2));
    }
    expect(Math.max(...small.filter((_, i) => i % 3 === 0))).toBe(0);
    // Bicubic, not nearest neighbour: at the boundary between TL and TR, blue and green mix.
    const edge = pixel(small, 10, 5, 1);
    expect(edge[1]!).toBeGreaterThan(0);
    expect(edge[2]!).toBeGreaterThan(0);
  });

  it('upscales a small image to the requested size', async () => {
    const file = await savePng('small.png', blockImage(4, 4), 4, 4);
    const out = await prepareImage(file, 16);
    expect(out.length).toBe(16 * 16 * 3);
    expect(pixel(out, 16, 0, 0)).toEqual([...TL]);
  });

  it('turns greyscale into R = G = B', async () => {
    const grey = Uint8Array.from([0, 37, 128, 255, 7, 99]);
    const file = await savePng('grey.png', grey, 3, 2, 1);
    const img = await readImageRgb(file);
    expect([img.width, img.height]).toEqual([3, 2]);
    expect(Array.from(img.data)).toEqual(Array.from(grey).flatMap((v) => [v, v, v]));
  });

  it('composites alpha onto white', async () => {
    const rgba = Uint8Array.from([100, 50, 0, 0, 100, 50, 0, 255, 100, 50, 0, 128]);
    const file = await savePng('alpha.png', rgba, 3, 1, 4);
    const img = await readImageRgb(file);
    const blend = (c: number) => Math.round((c * 128 + 255 * 127) / 255);
    expect(Array.from(img.data.subarray(0, 6))).toEqual([255, 255, 255, 100, 50, 0]);
    Array.from(img.data.subarray(6, 9)).forEach((v, k) =>
      expect(Math.abs(v - blend([100, 50, 0][k]!))).toBeLessThanOrEqual(1),
    );
  });

  it('applies the EXIF orientation', async () => {
    // Stored 20 x 10, left half black, right half white, orientation 6: shown rotated 90 degrees
    // clockwise, 10 x 20 with the (stored) left half at the top.
    const stored = new Uint8Array(20 * 10 * 3);
    for (let y = 0; y < 10; y++) for (let x = 10; x < 20; x++) stored.fill(255, (y * 20 + x) * 3, (y * 20 + x) * 3 + 3);
    const file = join(dir, 'rotated.jpg');
    writeFileSync(
      file,
      await sharp(stored, { raw: { width: 20, height: 10, channels: 3 } })
        .jpeg({ quality: 95 })
        .withMetadata({ orientation: 6 })
        .toBuffer(),
    );
    expect((await sharp(file).metadata()).orientation).toBe(6);
    const img = await readImageRgb(file);
    expect([img.width, img.height]).toEqual([10, 20]);
    expect(img.data[(2 * 10 + 5) * 3]!).toBeLessThan(30);
    expect(img.data[(17 * 10 + 5) * 3]!).toBeGreaterThan(225);
  });

  it('refuses corrupt, truncated and non-PNG/JPEG files with one line naming the file', async () => {
    const garbage = join(dir, 'garbage.png');
    writeFileSync(garbage, 'this is not an image');
    const good = readFileSync(await savePng('good.png', blockImage(30, 20), 30, 20));
    const truncated = join(dir, 'truncated.jpg');
    writeFileSync(truncated, (await sharp(good).jpeg().toBuffer()).subarray(0, 200));
    const gif = join(dir, 'actually-gif.png');
    writeFileSync(
      gif,
      await sharp(blockImage(4, 4), { raw: { width: 4, height: 4, channels: 3 } })
        .gif()
        .toBuffer(),
    );
    for (const [file, text] of [
      [garbage, 'not a readable image'],
      [truncated, 'not a readable image'],
      [gif, 'is a GIF image'],
    ] as const) {
      const err = await prepareImage(file, 8).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(InputError);
      const message = (err as Error).message;
      expect(message.startsWith(`${file}: ${text}`)).toBe(true);
      expect(message).toContain('expected a PNG or JPEG image');
      expect(message).not.toContain('\n');
    }
  });
});

describe('PNG output', () => {
  it('round-trips the pixels exactly and writes the same bytes for the same pixels', async () => {
    const rgb = await cropAndResize({ data: blockImage(30, 20), width: 30, height: 20 }, 12);
    const file = join(dir, 'out', 'written.png');
    const bytes = await writePng(rgb, 12, file);
    expect(readFileSync(file).equals(bytes)).toBe(true);
    expect((await encodePng(rgb, 12)).equals(bytes)).toBe(true);
    const back = await readImageRgb(file);
    expect([back.width, back.height]).toEqual([12, 12]);
    expect(Buffer.from(back.data).equals(Buffer.from(rgb))).toBe(true);
  });
});

describe('readImageFolder', () => {
  it('reads the images in name order and names a corrupt file', async () => {
    const folder = mkdtempSync(join(dir, 'folder-'));
    writeFileSync(
      join(folder, 'b.png'),
      await sharp(blockImage(6, 6), { raw: { width: 6, height: 6, channels: 3 } })
        .png()
        .toBuffer(),
    );
    writeFileSync(
      join(folder, 'a.png'),
      await sharp(new Uint8Array(6 * 6).fill(9), { raw: { width: 6, height: 6, channels: 1 } })
        .png()
        .toBuffer(),
    );
    writeFileSync(join(folder, 'notes.txt'), 'ignored');
    const set = await readImageFolder(folder, 6);
    expect(set.names).toEqual(['a.png', 'b.png']);
    expect(set.images[0]!.every((v) => v === 9)).toBe(true);
    expect(pixel(set.images[1]!, 6, 0, 0)).toEqual([...TL]);

    writeFileSync(join(folder, 'c.jpg'), 'broken');
    await expect(readImageFolder(folder, 6)).rejects.toThrow(`${join(folder, 'c.jpg')}: not a readable image`);
    await expect(readImageFolder(folder, 6, { minImages: 4 })).rejects.toThrow(
      `${folder}: found 3 images (a.png, b.png, c.jpg); expected at least 4 PNG or JPEG images`,
    );
  });
});

/**
 * PNG output of RGB images. sharp writes no metadata by default, so the bytes depend only on the
 * pixels (and the sharp/libpng version): the same images give the same files and hashes.
 */
import sharp from 'sharp';
import { writeFileAtomic } from '@orthostim/protocol/node';

function checkRgb(rgb: Uint8Array, size: number): void {
  if (rgb.length !== size * size * 3) {
    throw new RangeError(`encodePng: expected ${size} x ${size} x 3 = ${size * size * 3} RGB bytes; got ${rgb.length}`);
  }
}

/** Encode size x size interleaved uint8 RGB as a PNG (8-bit RGB, no alpha, no metadata). */
export async function encodePng(rgb: Uint8Array, size: number): Promise<Buffer> {
  checkRgb(rgb, size);
  return sharp(rgb, { raw: { width: size, height: size, channels: 3 } })
    .png()
    .toBuffer();
}

/** Write size x size RGB as a PNG file, atomically. Returns the bytes written (hash them for a set). */
export async function writePng(rgb: Uint8Array, size: number, file: string): Promise<Buffer> {
  const png = await encodePng(rgb, size);
  writeFileAtomic(file, png);
  return png;
}

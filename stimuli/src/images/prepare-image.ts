/**
 * From an image file to the pixels the network sees. Exactly what is done, in order:
 *
 * 1. Decode with sharp (libvips). Only PNG and JPEG are accepted, whatever the extension says;
 *    truncated or corrupt files are refused (sharp `failOn: 'warning'`).
 * 2. EXIF orientation is applied (sharp `autoOrient`), so the image is upright as viewers show it.
 * 3. Alpha is removed by compositing onto white (#ffffff): transparent pixels become white, the
 *    way a viewer on a white page shows them. The written PNGs have no alpha, so the session shows
 *    exactly these pixels.
 * 4. Converted to 8-bit sRGB (sharp `toColourspace('srgb')`): greyscale becomes R = G = B, 16-bit
 *    channels are scaled to 8 bits, CMYK and embedded ICC profiles are converted to sRGB.
 * 5. Centre crop to a square of side min(width, height); the offset is floor((width - side) / 2)
 *    horizontally and floor((height - side) / 2) vertically (`centerCropBox`).
 * 6. Resize to size x size with sharp's `cubic` kernel (Catmull-Rom bicubic, a = -0.5) on the 8-bit
 *    sRGB values (no gamma linearisation). libvips widens the kernel by the reduction factor, so
 *    downscaling is antialiased (like PIL's BICUBIC); for large factors it first box-averages by
 *    an integer factor, leaving at least 2x for the cubic step. Skipped when the crop already has
 *    the target size.
 * 7. The result is interleaved uint8 RGB, row-major, size x size x 3. The network input is these
 *    values / 255, and the PNG written from them is exactly what the network saw.
 */
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { InputError } from '@orthostim/protocol';

export interface RgbImage {
  /** Interleaved RGB, row-major: data[(y * width + x) * 3 + c]. */
  data: Uint8Array;
  width: number;
  height: number;
}

export interface CropBox {
  left: number;
  top: number;
  side: number;
}

const ACCEPTED_FORMATS = new Set(['png', 'jpeg']);

/** The centred square crop of a width x height image (step 5 above). */
export function centerCropBox(width: number, height: number): CropBox {
  const side = Math.min(width, height);
  return { left: Math.floor((width - side) / 2), top: Math.floor((height - side) / 2), side };
}

function firstLine(err: unknown): string {
  return String((err as Error)?.message ?? err)
    .split('\n')[0]!
    .trim();
}

/** Steps 1-4: decode a PNG or JPEG file into upright 8-bit sRGB without alpha, full size. */
export async function readImageRgb(file: string): Promise<RgbImage> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new InputError(`${file}: cannot read the image file (${firstLine(err)})`);
  }
  const expected = 'expected a PNG or JPEG image';
  try {
    const meta = await sharp(bytes, { failOn: 'warning' }).metadata();
    if (!ACCEPTED_FORMATS.has(meta.format)) {
      throw new InputError(`${file}: is a ${String(meta.format).toUpperCase()} image; ${expected}`);
    }
    const { data, info } = await sharp(bytes, { failOn: 'warning' })
      .autoOrient()
      .flatten({ background: '#ffffff' })
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3 || data.length !== info.width * info.height * 3) {
      throw new Error(
        `readImageRgb: sharp returned ${info.channels} channels, ${data.length} bytes for ${info.width} x ${info.height} from ${file}; expected 3 channels of 8 bits`,
      );
    }
    return {
      data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      width: info.width,
      height: info.height,
    };
  } catch (err) {
    if (err instanceof InputError || !(err instanceof Error) || err.message.startsWith('readImageRgb:')) throw err;
    throw new InputError(`${file}: not a readable image (${firstLine(err)}); ${expected}`);
  }
}

/** Steps 5-7 on decoded pixels: centre crop to a square and resize to size x size. */
export async function cropAndResize(image: RgbImage, size: number): Promise<Uint8Array> {
  if (!Number.isInteger(size) || size < 1)
    throw new RangeError(`cropAndResize: size must be a positive integer; got ${size}`);
  const { left, top, side } = centerCropBox(image.width, image.height);
  if (side === size && image.width === size && image.height === size) return image.data;
  const out = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .extract({ left, top, width: side, height: side })
    .resize(size, size, side === size ? undefined : { kernel: 'cubic', fit: 'fill' })
    .raw()
    .toBuffer();
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/** The whole pipeline for one file: size x size x 3 uint8 RGB, exactly what the network sees. */
export async function prepareImage(file: string, size: number): Promise<Uint8Array> {
  return cropAndResize(await readImageRgb(file), size);
}

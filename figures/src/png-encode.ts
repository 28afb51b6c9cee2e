/**
 * A small synchronous PNG encoder (8-bit grey, RGB or RGBA), so SVG builders can embed rasters as
 * data: URIs without going async. Each row takes the None, Sub or Up filter, whichever gives the
 * smallest sum of absolute residuals (the libpng heuristic); zlib does the rest.
 */
import { deflateSync } from 'node:zlib';
import { FigureError } from './errors';

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = (CRC_TABLE[(c ^ (bytes[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

const COLOR_TYPE: Record<1 | 3 | 4, number> = { 1: 0, 3: 2, 4: 6 };

/** |b| of a byte read as a signed residual: the libpng filter heuristic's cost. */
const MAGNITUDE = Uint8Array.from({ length: 256 }, (_, b) => (b < 128 ? b : 256 - b));

/** PNG file bytes of row-major 8-bit pixels with 1 (grey), 3 (RGB) or 4 (RGBA) channels. */
export function encodePng(pixels: Uint8Array, width: number, height: number, channels: 1 | 3 | 4 = 3): Buffer {
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
    throw new FigureError(`encodePng: width and height must be positive integers; got ${width} x ${height}`);
  }
  if (pixels.length !== width * height * channels) {
    throw new FigureError(
      `encodePng: expected ${width}*${height}*${channels} = ${width * height * channels} bytes; got ${pixels.length}`,
    );
  }
  const stride = width * channels;
  const raw = new Uint8Array(height * (stride + 1));
  // Residual magnitudes |d| of bytes as signed values, by table: the sums below run per byte.
  const cost = MAGNITUDE;
  for (let y = 0; y < height; y++) {
    const row = y * stride;
    const prev = row - stride;
    let sumSub = 0;
    let sumUp = 0;
    let sumNone = 0;
    // The first pixel has no left neighbour, the first row no upper one (both read as 0).
    for (let x = 0; x < stride; x++) {
      const v = pixels[row + x]!;
      const left = x >= channels ? pixels[row + x - channels]! : 0;
      const up = y > 0 ? pixels[prev + x]! : 0;
      sumNone += cost[v]!;
      sumSub += cost[(v - left) & 0xff]!;
      sumUp += cost[(v - up) & 0xff]!;
    }
    const filter = sumUp <= sumSub && sumUp <= sumNone ? 2 : sumSub <= sumNone ? 1 : 0;
    const o = y * (stride + 1);
    raw[o] = filter;
    const out = o + 1;
    if (filter === 0) {
      raw.set(pixels.subarray(row, row + stride), out);
    } else if (filter === 2) {
      if (y === 0) raw.set(pixels.subarray(row, row + stride), out);
      else for (let x = 0; x < stride; x++) raw[out + x] = (pixels[row + x]! - pixels[prev + x]!) & 0xff;
    } else {
      for (let x = 0; x < channels; x++) raw[out + x] = pixels[row + x]!;
      for (let x = channels; x < stride; x++) raw[out + x] = (pixels[row + x]! - pixels[row + x - channels]!) & 0xff;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = COLOR_TYPE[channels];
  // compression, filter method, interlace: all 0
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 6 })),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

/** Nearest-neighbour enlargement by integer factors, so viewers that smooth still show crisp cells. */
export function upscaleNearest(
  pixels: Uint8Array,
  width: number,
  height: number,
  channels: number,
  fx: number,
  fy: number,
): Uint8Array {
  const w2 = width * fx;
  const out = new Uint8Array(w2 * height * fy * channels);
  const rowBytes = w2 * channels;
  for (let y = 0; y < height; y++) {
    const dst = y * fy * rowBytes;
    for (let x = 0; x < width; x++) {
      const src = (y * width + x) * channels;
      for (let r = 0; r < fx; r++) {
        const d = dst + (x * fx + r) * channels;
        for (let c = 0; c < channels; c++) out[d + c] = pixels[src + c] as number;
      }
    }
    for (let r = 1; r < fy; r++) out.copyWithin(dst + r * rowBytes, dst, dst + rowBytes);
  }
  return out;
}

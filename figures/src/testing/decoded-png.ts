/** Test support: decode a PNG with sharp (an independent decoder) and find regions of one colour. */
import sharp from 'sharp';

export interface Decoded {
  width: number;
  height: number;
  /** RGB bytes, row-major. */
  data: Uint8Array;
}

export async function decodePng(png: Uint8Array): Promise<Decoded> {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data) };
}

export function pixel(img: Decoded, x: number, y: number): [number, number, number] {
  const o = 3 * (Math.floor(y) * img.width + Math.floor(x));
  return [img.data[o]!, img.data[o + 1]!, img.data[o + 2]!];
}

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
  pixels: number;
}

/** Bounding boxes of the 4-connected regions whose pixels are exactly `rgb`. */
export function regionsOfColor(img: Decoded, rgb: readonly number[]): Box[] {
  const { width, height, data } = img;
  const seen = new Uint8Array(width * height);
  const match = (k: number) => data[3 * k] === rgb[0] && data[3 * k + 1] === rgb[1] && data[3 * k + 2] === rgb[2];
  const boxes: Box[] = [];
  for (let start = 0; start < width * height; start++) {
    if (seen[start] || !match(start)) continue;
    let x0 = width,
      y0 = height,
      x1 = -1,
      y1 = -1,
      count = 0;
    const stack = [start];
    seen[start] = 1;
    while (stack.length) {
      const k = stack.pop()!;
      const x = k % width;
      const y = (k - x) / width;
      count++;
      x0 = Math.min(x0, x);
      x1 = Math.max(x1, x);
      y0 = Math.min(y0, y);
      y1 = Math.max(y1, y);
      for (const nb of [
        x > 0 ? k - 1 : -1,
        x < width - 1 ? k + 1 : -1,
        y > 0 ? k - width : -1,
        y < height - 1 ? k + width : -1,
      ]) {
        if (nb >= 0 && !seen[nb] && match(nb)) {
          seen[nb] = 1;
          stack.push(nb);
        }
      }
    }
    boxes.push({ x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1, pixels: count });
  }
  return boxes;
}

export function hexRgb(hex: string): [number, number, number] {
  return [1, 3, 5].map((o) => Number.parseInt(hex.slice(o, o + 2), 16)) as [number, number, number];
}

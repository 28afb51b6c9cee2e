/** SVG building blocks shared by the figure builders: text, numbers, embedded rasters. */
import { FigureError } from './errors';
import { encodePng, upscaleNearest } from './png-encode';

/** DejaVu Sans is what the renderer (librsvg through sharp) has; browsers fall back. */
export const FONT_FAMILY = "'DejaVu Sans', Verdana, Arial, sans-serif";

/** A laid-out piece of a figure: its SVG with the origin at its top-left corner, and its size. */
export interface Block {
  readonly width: number;
  readonly height: number;
  readonly body: string;
}

export function escapeXml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] as string,
  );
}

/** Width of a string in DejaVu Sans, estimated: its average glyph is about 0.62 em wide. */
export function textWidth(s: string, fontSizePx: number): number {
  return s.length * fontSizePx * 0.62;
}

/** Short tick label: 3 significant digits, exponent form only for very large or small magnitudes. */
export function formatNumber(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(1).replace('e+', 'e');
  return String(Number.parseFloat(v.toPrecision(3)));
}

export interface TextOptions {
  size?: number;
  anchor?: 'start' | 'middle' | 'end';
  weight?: 'normal' | 'bold';
  fill?: string;
  rotate?: number;
  baseline?: 'auto' | 'middle' | 'hanging';
}

export function svgText(x: number, y: number, s: string, o: TextOptions = {}): string {
  const size = o.size ?? 11;
  const attrs = [
    `x="${round(x)}"`,
    `y="${round(y)}"`,
    `font-size="${round(size)}"`,
    `text-anchor="${o.anchor ?? 'start'}"`,
    o.weight === 'bold' ? 'font-weight="bold"' : '',
    o.fill ? `fill="${o.fill}"` : '',
    o.baseline && o.baseline !== 'auto' ? `dominant-baseline="${o.baseline === 'middle' ? 'central' : 'hanging'}"` : '',
    o.rotate ? `transform="rotate(${o.rotate} ${round(x)} ${round(y)})"` : '',
  ].filter(Boolean);
  return `<text ${attrs.join(' ')}>${escapeXml(s)}</text>`;
}

export function round(v: number): number {
  return Math.round(v * 100) / 100;
}

/** Cut a string with an ellipsis so that it fits `maxWidth` pixels. */
export function fitText(s: string, fontSizePx: number, maxWidth: number): string {
  if (textWidth(s, fontSizePx) <= maxWidth) return s;
  const keep = Math.max(1, Math.floor(maxWidth / (fontSizePx * 0.62)) - 1);
  return `${s.slice(0, keep)}…`;
}

export function dataUri(bytes: Uint8Array): string {
  let mime: string;
  if (bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) mime = 'image/png';
  else if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) mime = 'image/jpeg';
  else
    throw new FigureError(
      `dataUri: expected PNG or JPEG bytes; got a file starting ${Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ')}`,
    );
  return `data:${mime};base64,${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')}`;
}

/** Largest raster side we enlarge to before leaving the rest of the scaling to the viewer. */
const MAX_UPSCALED_SIDE = 2048;

/**
 * An RGB raster of cols x rows cells drawn into (x, y, width, height). Cells are enlarged by the
 * largest whole factor that fits first, so they stay crisp even where a viewer ignores
 * `image-rendering: pixelated`; rasters larger than their box are left for the viewer to shrink.
 */
export function rasterImage(
  rgb: Uint8Array,
  cols: number,
  rows: number,
  x: number,
  y: number,
  width: number,
  height: number,
): string {
  const fx = Math.max(1, Math.min(Math.floor(width / cols), Math.floor(MAX_UPSCALED_SIDE / cols)));
  const fy = Math.max(1, Math.min(Math.floor(height / rows), Math.floor(MAX_UPSCALED_SIDE / rows)));
  const pixels = fx > 1 || fy > 1 ? upscaleNearest(rgb, cols, rows, 3, fx, fy) : rgb;
  const png = encodePng(pixels, cols * fx, rows * fy, 3);
  // Enlarged rasters must not be smoothed; shrunk ones (a 1000-image RDM in 400 px) should be,
  // so that every cell contributes instead of a nearest-neighbour subsample.
  const enlarged = cols * fx <= width && rows * fy <= height;
  const rendering = enlarged ? ' image-rendering="optimizeSpeed" style="image-rendering:pixelated"' : '';
  return `<image x="${round(x)}" y="${round(y)}" width="${round(width)}" height="${round(height)}" preserveAspectRatio="none"${rendering} href="${dataUri(png)}"/>`;
}

export function svgDocument(width: number, height: number, body: string): string {
  const w = Math.ceil(width);
  const h = Math.ceil(height);
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="${FONT_FAMILY}">` +
    `<rect width="${w}" height="${h}" fill="white"/>${body}</svg>`
  );
}

export function translate(x: number, y: number, body: string): string {
  return `<g transform="translate(${round(x)} ${round(y)})">${body}</g>`;
}

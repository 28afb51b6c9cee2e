/**
 * Slice mosaics for the reports: axial slices of a background volume in grey with a colour overlay
 * (a thresholded statistic map, or a label map such as winner-take-all), as one PNG.
 *
 * Orientation follows the affine (nibabel's axis codes), whatever the storage order: slices run
 * inferior to superior, each drawn with the subject's left on the left of the image (neurological,
 * as nilearn's plots) and anterior at the top. Voxels keep their aspect (integer pixel factors per
 * axis from the voxel sizes).
 */
import { colorize, encodePng, upscaleNearest, type Colormap, type ColormapName } from '@orthostim/figures';
import { affineAxisCodes, affineVoxelSizes, applyAffine, type Affine } from '../io/affine';

export type MosaicOverlay =
  | {
      kind: 'continuous';
      values: ArrayLike<number>;
      /** Voxels with |value| below this (and NaN) show the background. */
      threshold: number;
      /** Colour range [min, max]. */
      range: readonly [number, number];
      cmap: ColormapName | Colormap;
    }
  | {
      kind: 'labels';
      /** 0 = none, k = colours[k - 1]. */
      values: ArrayLike<number>;
      colors: readonly string[];
    };

export interface MosaicOptions {
  dims: readonly [number, number, number];
  affine: Affine;
  background: ArrayLike<number>;
  overlay?: MosaicOverlay;
  /** Number of slices (default 12, at most the slices there are). */
  slices?: number;
  columns?: number;
  /** Approximate pixel size of the longer side of one slice (default 150). */
  slicePx?: number;
}

export interface Mosaic {
  png: Buffer;
  width: number;
  height: number;
  /** World z (mm) of each slice shown, inferior to superior. */
  sliceZMm: number[];
}

interface Axis {
  /** Voxel axis that runs along this world axis. */
  voxelAxis: number;
  /** +1 when the voxel index grows toward R, A or S. */
  sign: 1 | -1;
  n: number;
  sizeMm: number;
}

/** Voxel axes of the world x (L-R), y (P-A) and z (I-S) axes, from the affine's axis codes. */
export function displayAxes(dims: readonly [number, number, number], affine: Affine): [Axis, Axis, Axis] {
  const codes = affineAxisCodes(affine);
  const sizes = affineVoxelSizes(affine);
  const find = (pos: string, neg: string): Axis => {
    for (let a = 0; a < 3; a++) {
      const c = codes[a];
      if (c === pos || c === neg) return { voxelAxis: a, sign: c === pos ? 1 : -1, n: dims[a]!, sizeMm: sizes[a]! };
    }
    throw new RangeError(`displayAxes: axis codes ${codes} lack ${pos}/${neg}`);
  };
  return [find('R', 'L'), find('A', 'P'), find('S', 'I')];
}

function hexRgb(hex: string): [number, number, number] {
  return [1, 3, 5].map((o) => Number.parseInt(hex.slice(o, o + 2), 16)) as [number, number, number];
}

/** Values at the given quantiles of the finite (optionally nonzero, absolute) entries: robust display ranges. */
export function quantiles(values: ArrayLike<number>, qs: readonly number[], options: { abs?: boolean; nonzero?: boolean } = {}): number[] {
  const xs = new Float32Array(values.length);
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    let v = values[i]!;
    if (v - v !== 0 || (options.nonzero && v === 0)) continue; // NaN, +-Infinity
    if (options.abs && v < 0) v = -v;
    xs[n++] = v;
  }
  if (n === 0) return qs.map(() => Number.NaN);
  const sorted = xs.subarray(0, n).sort(); // typed-array sort: numeric, native
  return qs.map((q) => sorted[Math.min(n - 1, Math.max(0, Math.round(q * (n - 1))))]!);
}

interface BackgroundStats {
  lo: number;
  hi: number;
}

/** The background's display range, computed once per background array (reports draw many mosaics over one). */
const backgroundCache = new WeakMap<object, BackgroundStats>();

function backgroundStats(background: ArrayLike<number>): BackgroundStats {
  const key = background as unknown as object;
  const hit = backgroundCache.get(key);
  if (hit) return hit;
  const [bgLo, bgHi] = quantiles(background, [0.02, 0.98], { nonzero: true });
  const lo = Number.isFinite(bgLo!) ? bgLo! : 0;
  const hi = Number.isFinite(bgHi!) && bgHi! > lo ? bgHi! : lo + 1;
  const stats = { lo, hi };
  backgroundCache.set(key, stats);
  return stats;
}

export function renderMosaic(o: MosaicOptions): Mosaic {
  const [ax, ay, az] = displayAxes(o.dims, o.affine);
  const [nx, ny] = o.dims;
  const stride = [1, nx, nx * ny];
  const sx = stride[ax.voxelAxis]!;
  const sy = stride[ay.voxelAxis]!;
  const sz = stride[az.voxelAxis]!;
  const index = (x: number, y: number, z: number) => x * sx + y * sy + z * sz;
  // Slices that hold anything: background above its low quantile, or an overlay value.
  const { lo, hi } = backgroundStats(o.background);
  const bg = o.background;
  const ov = o.overlay?.values;
  const filled: number[] = [];
  for (let z = 0; z < az.n; z++) {
    const zi = az.sign > 0 ? z : az.n - 1 - z; // inferior first
    let any = false;
    for (let y = 0; y < ay.n && !any; y++) {
      for (let x = 0, g = zi * sz + y * sy; x < ax.n; x++, g += sx) {
        const b = bg[g]!;
        const v = ov ? ov[g]! : 0;
        if (b > lo || (v === v && v !== 0)) {
          any = true;
          break;
        }
      }
    }
    if (any) filled.push(zi);
  }
  if (filled.length === 0) filled.push(az.sign > 0 ? Math.floor(az.n / 2) : Math.ceil(az.n / 2) - 1);
  const want = Math.min(o.slices ?? 12, filled.length);
  const chosen = Array.from({ length: want }, (_, k) => filled[want === 1 ? Math.floor(filled.length / 2) : Math.round((k * (filled.length - 1)) / (want - 1))]!);

  const target = o.slicePx ?? 150;
  const scale = target / Math.max(ax.n * ax.sizeMm, ay.n * ay.sizeMm);
  const fx = Math.max(1, Math.round(ax.sizeMm * scale));
  const fy = Math.max(1, Math.round(ay.sizeMm * scale));
  const w = ax.n;
  const h = ay.n;
  const columns = Math.max(1, Math.min(o.columns ?? 6, chosen.length));
  const rows = Math.ceil(chosen.length / columns);
  const gap = 2;
  const tileW = w * fx;
  const tileH = h * fy;
  const width = columns * tileW + (columns - 1) * gap;
  const height = rows * tileH + (rows - 1) * gap;
  const canvas = new Uint8Array(width * height * 3); // black
  const labelRgb = o.overlay?.kind === 'labels' ? o.overlay.colors.map(hexRgb) : [];
  const slice = new Float32Array(w * h);
  const over = new Float32Array(w * h);
  chosen.forEach((zi, k) => {
    for (let r = 0; r < h; r++) {
      const yi = ay.sign > 0 ? h - 1 - r : r; // anterior at the top
      for (let c = 0; c < w; c++) {
        const xi = ax.sign > 0 ? c : w - 1 - c; // subject's left on the left
        const g = index(xi, yi, zi);
        slice[r * w + c] = o.background[g]!;
        over[r * w + c] = o.overlay ? o.overlay.values[g]! : Number.NaN;
      }
    }
    const bgClean = Float32Array.from(slice, (v) => (Number.isFinite(v) ? v : lo));
    const rgb = colorize(bgClean, lo, hi, 'gray');
    const ov = o.overlay;
    if (ov?.kind === 'continuous') {
      const colours = colorize(over, ov.range[0], ov.range[1], ov.cmap);
      for (let p = 0; p < w * h; p++) {
        const v = over[p]!;
        if (Number.isFinite(v) && Math.abs(v) >= ov.threshold && v !== 0) rgb.set(colours.subarray(3 * p, 3 * p + 3), 3 * p);
      }
    } else if (ov?.kind === 'labels') {
      for (let p = 0; p < w * h; p++) {
        const v = over[p]!;
        if (v > 0 && Number.isInteger(v) && v <= labelRgb.length) rgb.set(labelRgb[v - 1]!, 3 * p);
      }
    }
    const tile = upscaleNearest(rgb, w, h, 3, fx, fy);
    const x0 = (k % columns) * (tileW + gap);
    const y0 = Math.floor(k / columns) * (tileH + gap);
    for (let r = 0; r < tileH; r++) canvas.set(tile.subarray(r * tileW * 3, (r + 1) * tileW * 3), ((y0 + r) * width + x0) * 3);
  });
  const zOf = (zi: number) => {
    const v = [0, 0, 0];
    v[az.voxelAxis] = zi;
    return Math.round(applyAffine(o.affine, v[0]!, v[1]!, v[2]!)[2] * 10) / 10;
  };
  return { png: encodePng(canvas, width, height, 3), width, height, sliceZMm: chosen.map(zOf) };
}

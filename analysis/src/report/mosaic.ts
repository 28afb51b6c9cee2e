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
import { quantiles } from '../stats/order-statistics';

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
  /** The slices to show (from `mosaicSlices`), instead of choosing them. */
  sliceIndices?: readonly number[];
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

/** The display axes and the grid index step along each (x: L-R, y: P-A, z: I-S). */
function displayStrides(dims: readonly [number, number, number], affine: Affine) {
  const [ax, ay, az] = displayAxes(dims, affine);
  const stride = [1, dims[0], dims[0] * dims[1]];
  return { ax, ay, az, sx: stride[ax.voxelAxis]!, sy: stride[ay.voxelAxis]!, sz: stride[az.voxelAxis]! };
}

function hexRgb(hex: string): [number, number, number] {
  return [1, 3, 5].map((o) => Number.parseInt(hex.slice(o, o + 2), 16)) as [number, number, number];
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
  let stats: BackgroundStats;
  if (!Number.isFinite(bgLo!))
    stats = { lo: 0, hi: 1 }; // empty background
  else if (Number.isFinite(bgHi!) && bgHi! > bgLo!) stats = { lo: bgLo!, hi: bgHi! };
  // One value (a mask as the background): dark grey inside, black outside.
  else stats = bgLo! > 0 ? { lo: 0, hi: bgLo! * 2.5 } : { lo: bgLo! * 2.5, hi: 0 };
  backgroundCache.set(key, stats);
  return stats;
}

/**
 * The slices a mosaic shows (voxel indices along the axis that runs inferior to superior, inferior
 * first): up to `slices` (default 12) spread evenly over those that hold at least 15% as many
 * voxels as the fullest one, a voxel counting when its background is at or above its low display
 * quantile or its `support` value is finite and nonzero. With `within` (the analysis mask, the
 * tested voxels) only the voxels where it is finite and nonzero count: a mean EPI is nonzero outside
 * the head too, and counting it put 4 of 10 tiles of the Haxby run outside the brain. Reports compute
 * them once and show every map on the same slices.
 */
export function mosaicSlices(o: {
  dims: readonly [number, number, number];
  affine: Affine;
  background: ArrayLike<number>;
  support?: ArrayLike<number>;
  within?: ArrayLike<number>;
  slices?: number;
}): number[] {
  const { ax, ay, az, sx, sy, sz } = displayStrides(o.dims, o.affine);
  const { lo } = backgroundStats(o.background);
  const bg = o.background;
  const ov = o.support;
  const inside = o.within;
  // Voxels holding anything per slice; the slices shown are spread over those holding at least
  // 15% of the fullest slice's count, so the tips of the brain do not take up whole tiles.
  const counts: number[] = [];
  for (let z = 0; z < az.n; z++) {
    const zi = az.sign > 0 ? z : az.n - 1 - z; // inferior first
    let count = 0;
    for (let y = 0; y < ay.n; y++) {
      for (let x = 0, g = zi * sz + y * sy; x < ax.n; x++, g += sx) {
        const b = bg[g]!;
        const v = ov ? ov[g]! : 0;
        if (inside ? inside[g]! === inside[g]! && inside[g]! !== 0 : (b >= lo && b !== 0) || (v === v && v !== 0))
          count++;
      }
    }
    counts.push(count);
  }
  const most = Math.max(0, ...counts);
  const filled: number[] = [];
  counts.forEach((c, z) => {
    if (c > 0 && c >= 0.15 * most) filled.push(az.sign > 0 ? z : az.n - 1 - z);
  });
  if (filled.length === 0) filled.push(az.sign > 0 ? Math.floor(az.n / 2) : Math.ceil(az.n / 2) - 1);
  const want = Math.min(o.slices ?? 12, filled.length);
  return Array.from(
    { length: want },
    (_, k) => filled[want === 1 ? Math.floor(filled.length / 2) : Math.round((k * (filled.length - 1)) / (want - 1))]!,
  );
}

/** Grey RGB slices of a background, per display orientation and slice (reports draw many mosaics over one). */
const greyCache = new WeakMap<object, Map<string, Map<number, Uint8Array>>>();

function greySlices(background: ArrayLike<number>, orientation: string): Map<number, Uint8Array> {
  const key = background as unknown as object;
  let byOrientation = greyCache.get(key);
  if (!byOrientation) {
    byOrientation = new Map();
    greyCache.set(key, byOrientation);
  }
  let slices = byOrientation.get(orientation);
  if (!slices) {
    slices = new Map();
    byOrientation.set(orientation, slices);
  }
  return slices;
}

export function renderMosaic(o: MosaicOptions): Mosaic {
  const { ax, ay, az, sx, sy, sz } = displayStrides(o.dims, o.affine);
  const { lo, hi } = backgroundStats(o.background);
  const bg = o.background;
  const chosen = o.sliceIndices
    ? [...o.sliceIndices]
    : mosaicSlices({
        dims: o.dims,
        affine: o.affine,
        background: bg,
        ...(o.overlay ? { support: o.overlay.values } : {}),
        ...(o.slices !== undefined ? { slices: o.slices } : {}),
      });
  for (const zi of chosen)
    if (!(Number.isInteger(zi) && zi >= 0 && zi < az.n))
      throw new RangeError(`renderMosaic: slice ${zi} outside 0..${az.n - 1}`);

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
  const shownAt = new Int32Array(w * h);
  // Plain loops over local typed views: these run for every pixel of every slice of every map.
  const copySlice = (src: ArrayLike<number>, dst: Float32Array, zi: number, bad: number) => {
    const x0 = ax.sign > 0 ? 0 : (w - 1) * sx; // subject's left on the left
    const dx = ax.sign > 0 ? sx : -sx;
    for (let r = 0; r < h; r++) {
      const yi = ay.sign > 0 ? h - 1 - r : r; // anterior at the top
      let g = x0 + yi * sy + zi * sz;
      for (let c = 0, p = r * w; c < w; c++, p++, g += dx) {
        const v = src[g]!;
        dst[p] = v - v === 0 ? v : bad;
      }
    }
  };
  const grey = greySlices(bg, `${o.dims.join('x')}:${ax.voxelAxis}${ax.sign}${ay.voxelAxis}${ay.sign}${az.voxelAxis}`);
  chosen.forEach((zi, k) => {
    // The background's grey slice is the same in every mosaic over it: drawn once.
    let bgRgb = grey.get(zi);
    if (!bgRgb) {
      copySlice(bg, slice, zi, lo);
      bgRgb = colorize(slice, lo, hi, 'gray');
      grey.set(zi, bgRgb);
    }
    const rgb = bgRgb.slice();
    const ov = o.overlay;
    if (ov) copySlice(ov.values, over, zi, Number.NaN);
    if (ov?.kind === 'continuous') {
      // Colour only the shown voxels (|value| >= threshold; usually a small part of the slice).
      let m = 0;
      for (let p = 0; p < w * h; p++) {
        const v = over[p]!;
        if (v === v && v !== 0 && Math.abs(v) >= ov.threshold) shownAt[m++] = p;
      }
      const shown = new Float32Array(m);
      for (let j = 0; j < m; j++) shown[j] = over[shownAt[j]!]!;
      const colours = colorize(shown, ov.range[0], ov.range[1], ov.cmap);
      for (let j = 0; j < m; j++) {
        const o3 = 3 * shownAt[j]!;
        rgb[o3] = colours[3 * j]!;
        rgb[o3 + 1] = colours[3 * j + 1]!;
        rgb[o3 + 2] = colours[3 * j + 2]!;
      }
    } else if (ov?.kind === 'labels') {
      for (let p = 0, o3 = 0; p < w * h; p++, o3 += 3) {
        const v = over[p]!;
        if (v > 0 && Number.isInteger(v) && v <= labelRgb.length) {
          const c = labelRgb[v - 1]!;
          rgb[o3] = c[0];
          rgb[o3 + 1] = c[1];
          rgb[o3 + 2] = c[2];
        }
      }
    }
    const tile = upscaleNearest(rgb, w, h, 3, fx, fy);
    const x0 = (k % columns) * (tileW + gap);
    const y0 = Math.floor(k / columns) * (tileH + gap);
    for (let r = 0; r < tileH; r++)
      canvas.set(tile.subarray(r * tileW * 3, (r + 1) * tileW * 3), ((y0 + r) * width + x0) * 3);
  });
  const zOf = (zi: number) => {
    const v = [0, 0, 0];
    v[az.voxelAxis] = zi;
    return Math.round(applyAffine(o.affine, v[0]!, v[1]!, v[2]!)[2] * 10) / 10;
  };
  return { png: encodePng(canvas, width, height, 3), width, height, sliceZMm: chosen.map(zOf) };
}

/**
 * A brain mask from the BOLD itself, for runs that come without one: the approach of nilearn's
 * `compute_epi_mask` (T. Nichols' heuristic), step by step as nilearn 0.11 does it:
 *
 * 1. the temporal mean image, smoothed with a Gaussian of FWHM 1 voxel along each axis (scipy's
 *    `gaussian_filter1d`: truncated at 4 sigma, "reflect" edges), non-finite values as 0;
 * 2. its values sorted; between the fractions 0.2 and 0.85 of them, the largest gap between
 *    neighbouring values; the threshold is the gap's midpoint, the mask the voxels at or above it;
 * 3. an opening: erosion twice (face neighbours, outside the image counts as background), the
 *    largest connected component (face connectivity), dilation four times, erosion twice.
 *
 * Pure: the caller reads the BOLD's mean volume and writes the mask.
 */
import { labelClusters } from '../stats/clusters';
import type { Dims } from '../searchlight/neighbors';

export interface EpiMaskOptions {
  /** Fraction of the sorted values where the search for the gap starts (default 0.2). */
  lowerCutoff?: number;
  /** Fraction where it ends (default 0.85). */
  upperCutoff?: number;
  /** Erosions of the opening (default 2; 0: no opening and no smoothing). */
  opening?: number;
  /** Keep only the largest connected component (default true). */
  connected?: boolean;
}

export interface EpiMask {
  /** 1 inside the mask, 0 outside, in grid order. */
  mask: Uint8Array;
  /** The intensity threshold of the smoothed mean image. */
  threshold: number;
  nVoxels: number;
}

/** scipy.ndimage's "reflect" boundary: (d c b a | a b c d | d c b a). */
function reflectIndex(i: number, n: number): number {
  const period = 2 * n;
  const m = ((i % period) + period) % period;
  return m < n ? m : period - 1 - m;
}

/** scipy's `gaussian_filter1d` kernel: exp(-x^2 / 2 sigma^2) for |x| <= round(4 sigma), normalised. */
function gaussianKernel(sigma: number): Float64Array {
  const radius = Math.floor(4 * sigma + 0.5);
  const k = Float64Array.from({ length: 2 * radius + 1 }, (_, i) => Math.exp((-0.5 * (i - radius) ** 2) / sigma ** 2));
  const sum = k.reduce((a, b) => a + b, 0);
  return k.map((v) => v / sum);
}

/** Gaussian smoothing along each axis in turn (in voxels), in place. */
export function smoothVoxels(data: Float64Array, dims: Dims, sigmaVox: number): void {
  const kernel = gaussianKernel(sigmaVox);
  const radius = (kernel.length - 1) / 2;
  const strides = [1, dims[0], dims[0] * dims[1]];
  for (let axis = 0; axis < 3; axis++) {
    const n = dims[axis]!;
    const stride = strides[axis]!;
    const line = new Float64Array(n);
    for (let g = 0; g < data.length; g++) {
      const coord = Math.floor(g / stride) % n;
      if (coord !== 0) continue; // one pass per line, from its first voxel
      for (let i = 0; i < n; i++) line[i] = data[g + i * stride]!;
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let r = -radius; r <= radius; r++) s += kernel[r + radius]! * line[reflectIndex(i + r, n)]!;
        data[g + i * stride] = s;
      }
    }
  }
}

/** Midpoint of the largest gap between neighbouring sorted values within the cutoffs (nilearn). */
export function epiThreshold(values: Float64Array, lowerCutoff: number, upperCutoff: number): number {
  const sorted = Float64Array.from(values).sort();
  const n = sorted.length;
  const lo = Math.floor(lowerCutoff * n);
  const hi = Math.min(Math.floor(upperCutoff * n), n - 1);
  let best = lo;
  let gap = -Infinity;
  for (let i = lo; i < hi; i++) {
    const d = sorted[i + 1]! - sorted[i]!;
    if (d > gap) {
      gap = d;
      best = i;
    }
  }
  return 0.5 * (sorted[best]! + sorted[best + 1]!);
}

/** One binary erosion (keep) or dilation (grow) with the 6 face neighbours; outside the grid is 0. */
function morph(mask: Uint8Array, dims: Dims, grow: boolean): Uint8Array {
  const [nx, ny, nz] = dims;
  const out = new Uint8Array(mask.length);
  for (let k = 0, g = 0; k < nz; k++)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++, g++) {
        const nb = [
          i > 0 ? mask[g - 1]! : 0,
          i < nx - 1 ? mask[g + 1]! : 0,
          j > 0 ? mask[g - nx]! : 0,
          j < ny - 1 ? mask[g + nx]! : 0,
          k > 0 ? mask[g - nx * ny]! : 0,
          k < nz - 1 ? mask[g + nx * ny]! : 0,
        ];
        out[g] = grow ? (mask[g] || nb.some((v) => v) ? 1 : 0) : mask[g] && nb.every((v) => v) ? 1 : 0;
      }
  return out;
}

function repeat(mask: Uint8Array, dims: Dims, grow: boolean, times: number): Uint8Array {
  let m = mask;
  for (let t = 0; t < times; t++) m = morph(m, dims, grow);
  return m;
}

function largestComponent(mask: Uint8Array, dims: Dims): Uint8Array {
  const { labels } = labelClusters(mask, dims, 6);
  return Uint8Array.from(labels, (l) => (l === 1 ? 1 : 0));
}

/** The mask of a run from its temporal mean image (grid order); see the module comment. */
export function computeEpiMask(meanImage: ArrayLike<number>, dims: Dims, options: EpiMaskOptions = {}): EpiMask {
  const opening = options.opening ?? 2;
  const data = Float64Array.from(meanImage, (v) => (Number.isFinite(v) ? v : 0));
  if (opening > 0) smoothVoxels(data, dims, 1 / Math.sqrt(8 * Math.LN2));
  const threshold = epiThreshold(data, options.lowerCutoff ?? 0.2, options.upperCutoff ?? 0.85);
  let mask: Uint8Array = Uint8Array.from(data, (v) => (v >= threshold ? 1 : 0));
  mask = repeat(mask, dims, false, opening);
  if ((options.connected ?? true) && mask.some((v) => v)) mask = largestComponent(mask, dims);
  mask = repeat(repeat(mask, dims, true, 2 * opening), dims, false, opening);
  const nVoxels = mask.reduce((s, v) => s + v, 0);
  return { mask, threshold, nVoxels };
}

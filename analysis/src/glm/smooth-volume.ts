/**
 * Spatial smoothing of the GLM input, as nilearn's `smoothing_fwhm` (FirstLevelModel -> masker ->
 * `image.smooth_array`): the whole volume (not only the mask) is filtered, non-finite values
 * first set to 0, then per axis scipy's `gaussian_filter1d(sigma, mode='reflect', truncate=4)`
 * with sigma = FWHM / (sqrt(8 ln 2) x voxel size of that axis); the mask is applied afterwards.
 *
 * Differs from stats/masked-smoothing (the group test's variance smoothing), which normalises by
 * the smoothed mask and truncates at 3 sigma.
 */
import { UsageError } from '@orthostim/protocol';
import { fwhmToSigma } from '../stats/masked-smoothing';

/** scipy's `_gaussian_kernel1d`: exp(-x^2 / (2 sigma^2)) for |x| <= int(4 sigma + 0.5), summing to 1. */
export function scipyGaussianKernel(sigma: number): Float64Array {
  const radius = Math.trunc(4 * sigma + 0.5);
  const k = Float64Array.from({ length: 2 * radius + 1 }, (_, i) => Math.exp(-0.5 * ((i - radius) / sigma) ** 2));
  const sum = k.reduce((s, w) => s + w, 0);
  return k.map((w) => w / sum);
}

/** scipy's mode 'reflect' (d c b a | a b c d | d c b a) for an index outside 0..n-1. */
function reflect(i: number, n: number): number {
  const period = 2 * n;
  const j = ((i % period) + period) % period;
  return j < n ? j : period - 1 - j;
}

/** Filter every line of `vol` (x fastest) along `axis` in place. */
function filterAxis(
  vol: Float64Array,
  dims: readonly number[],
  axis: number,
  k: Float64Array,
  line: Float64Array,
): void {
  const [nx, ny, nz] = dims as [number, number, number];
  const n = dims[axis]!;
  const stride = axis === 0 ? 1 : axis === 1 ? nx : nx * ny;
  const r = (k.length - 1) / 2;
  const nLines = (nx * ny * nz) / n;
  for (let l = 0; l < nLines; l++) {
    // The first voxel of line l: the other two axes' indices from l.
    let start: number;
    if (axis === 0) start = l * nx;
    else if (axis === 1) start = (l % nx) + Math.floor(l / nx) * nx * ny;
    else start = l;
    for (let i = 0; i < n; i++) line[i] = vol[start + i * stride]!;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let d = -r; d <= r; d++) {
        const j = i + d;
        s += k[d + r]! * line[j >= 0 && j < n ? j : reflect(j, n)]!;
      }
      vol[start + i * stride] = s;
    }
  }
}

/**
 * Smooth each 3D volume of `data` (x fastest, then y, z, volumes) in place with a Gaussian of
 * `fwhmMm` given the voxel sizes in mm (from the affine's columns, as nilearn). 0 leaves the data
 * unchanged.
 */
export function smoothVolumes(
  data: Float32Array,
  dims: readonly number[],
  voxelSizesMm: readonly number[],
  fwhmMm: number,
): void {
  if (!(fwhmMm >= 0)) throw new UsageError(`smoothing FWHM must be >= 0 mm; got ${fwhmMm}`);
  const nvox = dims[0]! * dims[1]! * dims[2]!;
  if (data.length % nvox !== 0)
    throw new RangeError(`smoothVolumes: ${data.length} values is not a whole number of ${nvox}-voxel volumes`);
  if (fwhmMm === 0) return;
  const kernels = [0, 1, 2].map((a) => {
    const sigma = fwhmToSigma(fwhmMm) / voxelSizesMm[a]!;
    return sigma > 0 ? scipyGaussianKernel(sigma) : null;
  });
  const vol = new Float64Array(nvox);
  const line = new Float64Array(Math.max(dims[0]!, dims[1]!, dims[2]!));
  for (let o = 0; o < data.length; o += nvox) {
    for (let i = 0; i < nvox; i++) {
      const x = data[o + i]!;
      vol[i] = Number.isFinite(x) ? x : 0;
    }
    kernels.forEach((k, axis) => k && filterAxis(vol, dims, axis, k, line));
    data.set(vol, o);
  }
}

/**
 * Gaussian smoothing of values that live on a subset (mask) of a 3D grid, normalized by the
 * smoothed mask: out(v) = sum_u w(v - u) x(u) / sum_u w(v - u) over mask voxels u, so voxels near
 * the mask's edge are not pulled towards 0 (SnPM's and FSL randomise's variance smoothing).
 *
 * The kernel is separable: a 1D Gaussian per axis with sigma = FWHM / (2 sqrt(2 ln 2)) in that
 * axis's voxel units, truncated at ceil(3 sigma) voxels (weights below 1.1% of the centre's). The
 * grid is cropped to the mask's bounding box; one call costs three passes over that box.
 */
import { UsageError } from '@orthostim/protocol';

export interface MaskedGrid {
  /** Grid dimensions (x fastest in the grid index). */
  readonly dims: readonly [number, number, number];
  readonly voxelSizeMm: readonly [number, number, number];
  /** Grid index of each value, in the order the values are given. */
  readonly voxels: ArrayLike<number>;
}

/** Sigma in mm of a Gaussian of the given full width at half maximum. */
export const fwhmToSigma = (fwhm: number): number => fwhm / (2 * Math.sqrt(2 * Math.LN2));

/** Weights w(d) = exp(-d^2 / (2 sigma^2)) for d = 0..ceil(3 sigma) (voxels), unnormalized. */
export function gaussianHalfKernel(sigmaVox: number): Float64Array {
  const r = Math.ceil(3 * sigmaVox);
  return Float64Array.from({ length: r + 1 }, (_, d) => Math.exp((-d * d) / (2 * sigmaVox * sigmaVox)));
}

/** One axis of the box: out[i] = sum_d k[|d|] in[i + d * stride] within the line. */
function convolveAxis(
  src: Float64Array,
  dst: Float64Array,
  box: readonly number[],
  axis: 0 | 1 | 2,
  k: Float64Array,
): void {
  const stride = axis === 0 ? 1 : axis === 1 ? box[0]! : box[0]! * box[1]!;
  const len = box[axis]!;
  const r = k.length - 1;
  const lines = src.length / len;
  const inner = stride; // lines are numbered by (outer, inner offset below the axis)
  for (let line = 0; line < lines; line++) {
    const start = Math.floor(line / inner) * inner * len + (line % inner);
    for (let i = 0; i < len; i++) {
      let acc = (k[0] as number) * (src[start + i * stride] as number);
      const lo = Math.min(r, i);
      const hi = Math.min(r, len - 1 - i);
      for (let d = 1; d <= lo; d++) acc += (k[d] as number) * (src[start + (i - d) * stride] as number);
      for (let d = 1; d <= hi; d++) acc += (k[d] as number) * (src[start + (i + d) * stride] as number);
      dst[start + i * stride] = acc;
    }
  }
}

/**
 * A smoother for values on `grid.voxels`: `smooth(values, out)` writes the normalized smoothed
 * values (same order) into `out`. The buffers are reused between calls (not reentrant).
 */
export function createMaskedSmoother(
  grid: MaskedGrid,
  fwhmMm: number,
): (values: ArrayLike<number>, out: Float64Array) => void {
  if (!(fwhmMm > 0) || !Number.isFinite(fwhmMm))
    throw new UsageError(`smoothing FWHM must be a positive number of mm; got ${fwhmMm}`);
  const [nx, ny] = grid.dims;
  const V = grid.voxels.length;
  const lo = [Infinity, Infinity, Infinity];
  const hi = [-1, -1, -1];
  const ijk = new Int32Array(V * 3);
  for (let v = 0; v < V; v++) {
    const g = grid.voxels[v] as number;
    const c = [g % nx, Math.floor(g / nx) % ny, Math.floor(g / (nx * ny))];
    for (let a = 0; a < 3; a++) {
      ijk[v * 3 + a] = c[a]!;
      lo[a] = Math.min(lo[a]!, c[a]!);
      hi[a] = Math.max(hi[a]!, c[a]!);
    }
  }
  const box = V === 0 ? [0, 0, 0] : [0, 1, 2].map((a) => hi[a]! - lo[a]! + 1);
  const pos = new Int32Array(V);
  for (let v = 0; v < V; v++)
    pos[v] = ijk[v * 3]! - lo[0]! + box[0]! * (ijk[v * 3 + 1]! - lo[1]! + box[1]! * (ijk[v * 3 + 2]! - lo[2]!));
  const kernels = grid.voxelSizeMm.map((mm) => gaussianHalfKernel(fwhmToSigma(fwhmMm) / mm));
  const a = new Float64Array(box[0]! * box[1]! * box[2]!);
  const b = new Float64Array(a.length);
  const raw = (values: ArrayLike<number>, out: Float64Array) => {
    a.fill(0);
    for (let v = 0; v < V; v++) a[pos[v]!] = values[v] as number;
    convolveAxis(a, b, box, 0, kernels[0]!);
    convolveAxis(b, a, box, 1, kernels[1]!);
    convolveAxis(a, b, box, 2, kernels[2]!);
    for (let v = 0; v < V; v++) out[v] = b[pos[v]!] as number;
  };
  // The smoothed mask: each voxel's total weight of mask voxels (> 0, the centre's own weight is 1).
  const norm = new Float64Array(V);
  raw(new Float64Array(V).fill(1), norm);
  return (values, out) => {
    raw(values, out);
    for (let v = 0; v < V; v++) out[v] = (out[v] as number) / (norm[v] as number);
  };
}

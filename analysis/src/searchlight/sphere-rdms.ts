/**
 * Step 2 of the searchlight: the RDM of each sphere (or of any voxel group: ROI RSA uses the same
 * step) from GLM betas. Betas arrive as [run][image][voxel] (mask voxels only); `prepareSphereData`
 * turns them once into a voxel-major table so that every sphere is a gather of a few contiguous
 * rows, and `computeSphereRdms` fills condensed RDMs (see @orthostim/rdm) for a range of spheres.
 *
 * Distances (registry `SPHERE_DISTANCES`):
 * - correlation: 1 - Pearson r between the run-averaged patterns (rdm's `correlation`).
 * - euclidean: Euclidean distance between the run-averaged patterns (rdm's `euclidean`).
 * - crossnobis: cross-validated Mahalanobis distance, leave-one-run-out: with d_r = b_i,r - b_j,r
 *   the pattern difference in run r over the p sphere voxels, R runs and a noise precision P,
 *     d(i, j) = 1 / (R (R - 1) p) * sum over run pairs a != b of d_a' P d_b,
 *   which is rsatoolbox's `calc_rdm_crossnobis` (mean over folds k of d_k' P mean_{l != k} d_l / p).
 *   The noise normalisation (P, or how the betas are scaled) is chosen from crossnobis-noise.ts:
 *   univariate (each run by its own residual variance; the default without options), pooled,
 *   pairwise, or multivariate (a shrinkage covariance per sphere); that file states which
 *   rsatoolbox call each equals. For the per-voxel ones the pair sum is (sum_r d_r)^2 - sum_r d_r^2
 *   per voxel, precomputed once, and a sphere only sums rows. Unbiased: its expectation is the
 *   true squared distance (0 when the images do not differ), so it can be negative.
 *   Images absent from some runs (condition-rich designs, `BetaSet.present`): each pair uses only
 *   the m runs where both images have a beta, with R replaced by m; a pair in fewer than 2 such runs
 *   has no cross-validated estimate (NaN).
 *
 * A sphere whose betas hold NaN gets an all-NaN RDM; (correlation) an image whose pattern is constant
 * in the sphere gets NaN distances. The comparison step turns any NaN RDM into NaN for every model.
 */
import { PATTERN_DISTANCES, pairCount, type PatternDistanceSpec } from '@orthostim/rdm';
import { UsageError } from '@orthostim/protocol';
import {
  NOISE_NORMALIZATIONS,
  NOISE_NORMALIZATION_NAMES,
  createMultivariateScratch,
  isNoiseNormalization,
  multivariateCrossnobisRdm,
  pooledVariance,
  prepareMultivariateNoise,
  preparePairwiseCrossnobis,
  type MultivariateNoise,
  type MultivariateScratch,
  type NoiseNormalization,
  type ResidualSeries,
} from './crossnobis-noise';
import { prepareCrossnobis } from './crossnobis-rows';
import { prepareRawBetas, prepareRunAverage } from './voxel-major';

export { crossnobisPairScales } from './crossnobis-rows';

export type SearchlightDistance = 'correlation' | 'euclidean' | 'crossnobis';

/** GLM betas of the mask voxels, laid out [run][image][voxel]. */
export interface BetaSet {
  readonly data: Float32Array | Float64Array;
  readonly nRuns: number;
  readonly nImages: number;
  readonly nVoxels: number;
  /**
   * Crossnobis only: [run][image], 1 where the image has a beta in the run (condition-rich
   * designs); the values of absent images are ignored. Absent: every image in every run.
   */
  readonly present?: Uint8Array;
}

/** What a sphere's RDM is computed from: one voxel-major row of `width` values per mask voxel. */
export interface SphereData {
  readonly distance: SearchlightDistance;
  readonly nImages: number;
  readonly nVoxels: number;
  readonly width: number;
  /** Voxel-major, on a SharedArrayBuffer so that worker threads read it in place. */
  readonly values: Float64Array;
  /**
   * Crossnobis with multivariate noise normalisation: `values` are the raw betas (R x K per voxel)
   * and each sphere's RDM needs its own precision from these residuals (table kernel only).
   */
  readonly noise?: MultivariateNoise;
}

/** Crossnobis noise normalisation and its input beyond the residual variances. */
export interface CrossnobisNoiseOptions {
  /** Default 'univariate'. */
  normalization?: NoiseNormalization;
  /** GLM residual series of the voxels (multivariate normalisations). */
  residualSeries?: ResidualSeries;
}

interface SphereDistanceSpec {
  readonly description: string;
  /** Values per voxel in the prepared table. */
  readonly width: (nImages: number) => number;
  readonly minRuns: number;
  /** Fill the voxel-major table. */
  readonly prepare: (betas: BetaSet, out: Float64Array, residualVariance?: ArrayLike<number>) => void;
  /** 'gram': distances from the sphere's Gram matrix; 'mean': mean of the rows. */
  readonly kernel:
    | { readonly kind: 'gram'; readonly center: boolean; readonly spec: PatternDistanceSpec }
    | { readonly kind: 'mean' };
}

export const SPHERE_DISTANCES = {
  correlation: {
    description: '1 - Pearson r between the run-averaged patterns (default)',
    width: (K) => K,
    minRuns: 1,
    prepare: prepareRunAverage,
    kernel: { kind: 'gram', center: true, spec: PATTERN_DISTANCES.correlation },
  },
  euclidean: {
    description: 'Euclidean distance between the run-averaged patterns',
    width: (K) => K,
    minRuns: 1,
    prepare: prepareRunAverage,
    kernel: { kind: 'gram', center: false, spec: PATTERN_DISTANCES.euclidean },
  },
  crossnobis: {
    description: 'cross-validated Mahalanobis distance (leave-one-run-out), noise-normalized by the residual variance',
    width: (K) => pairCount(K),
    minRuns: 2,
    prepare: prepareCrossnobis,
    kernel: { kind: 'mean' },
  },
} as const satisfies Record<SearchlightDistance, SphereDistanceSpec>;

export const SPHERE_DISTANCE_NAMES = Object.keys(SPHERE_DISTANCES) as SearchlightDistance[];

export function isSearchlightDistance(name: string): name is SearchlightDistance {
  return Object.hasOwn(SPHERE_DISTANCES, name);
}

/**
 * Prepare betas for `computeSphereRdms`. `residualVariance` (crossnobis only; one value per voxel,
 * or [run][voxel]) normalizes each voxel by its noise; without it crossnobis is the cross-validated
 * Euclidean distance of the betas as given.
 */
export function prepareSphereData(
  distance: SearchlightDistance,
  betas: BetaSet,
  residualVariance?: ArrayLike<number>,
  noiseOptions: CrossnobisNoiseOptions = {},
): SphereData {
  if (!isSearchlightDistance(distance)) {
    throw new UsageError(
      `--distance must be one of ${SPHERE_DISTANCE_NAMES.join(', ')}; got ${JSON.stringify(distance)}`,
    );
  }
  const { nRuns, nImages, nVoxels, data } = betas;
  if (!(nImages >= 2 && nRuns >= 1 && nVoxels >= 1) || data.length !== nRuns * nImages * nVoxels) {
    throw new UsageError(
      `betas must hold runs*images*voxels = ${nRuns}*${nImages}*${nVoxels} values with at least 2 images; got ${data.length} values`,
    );
  }
  const spec: SphereDistanceSpec = SPHERE_DISTANCES[distance];
  if (nRuns < spec.minRuns) {
    throw new UsageError(
      `--distance ${distance} needs at least ${spec.minRuns} runs (it cross-validates across runs); got ${nRuns}`,
    );
  }
  if (betas.present && (distance !== 'crossnobis' || betas.present.length !== nRuns * nImages)) {
    throw new UsageError(
      `betas with images absent from runs (present, ${betas.present.length} flags) are for --distance crossnobis with runs*images = ${nRuns * nImages} flags; got --distance ${distance}`,
    );
  }
  if (residualVariance && distance !== 'crossnobis') {
    throw new UsageError(
      `residual variances are used by --distance crossnobis only; got them with --distance ${distance}`,
    );
  }
  const normalization = noiseOptions.normalization ?? 'univariate';
  if (distance === 'crossnobis' && normalization !== 'univariate')
    return prepareNormalizedCrossnobis(betas, normalization, residualVariance, noiseOptions.residualSeries);
  const width = spec.width(nImages);
  const values = new Float64Array(new SharedArrayBuffer(nVoxels * width * Float64Array.BYTES_PER_ELEMENT));
  spec.prepare(betas, values, residualVariance);
  return { distance, nImages, nVoxels, width, values };
}

/** Crossnobis with a noise normalisation other than the univariate default (crossnobis-noise.ts). */
function prepareNormalizedCrossnobis(
  betas: BetaSet,
  normalization: NoiseNormalization,
  residualVariance: ArrayLike<number> | undefined,
  series: ResidualSeries | undefined,
): SphereData {
  if (!isNoiseNormalization(normalization))
    throw new UsageError(
      `noise normalisation must be one of ${NOISE_NORMALIZATION_NAMES.join(', ')}; got ${JSON.stringify(normalization)}`,
    );
  const { nRuns: R, nImages: K, nVoxels: V } = betas;
  const shared = (width: number) => new Float64Array(new SharedArrayBuffer(V * width * 8));
  const base = { distance: 'crossnobis' as const, nImages: K, nVoxels: V };
  if (NOISE_NORMALIZATIONS[normalization].needs === 'series') {
    if (!series) throw new UsageError(`${normalization} noise normalisation needs the GLM residual series; got none`);
    const values = shared(R * K);
    prepareRawBetas(betas, values);
    return { ...base, width: R * K, values, noise: prepareMultivariateNoise(normalization, series, V, R) };
  }
  if (!residualVariance)
    throw new UsageError(`${normalization} noise normalisation needs the runs' residual variances; got none`);
  const values = shared(pairCount(K));
  if (normalization === 'pairwise') preparePairwiseCrossnobis(betas, values, residualVariance);
  else prepareCrossnobis(betas, values, pooledVariance(residualVariance, R, V));
  return { ...base, width: pairCount(K), values };
}

/** Reusable per-thread buffers of `computeSphereRdms`. */
export interface SphereScratch {
  buf: Float64Array;
  gram: Float64Array;
  multivariate?: MultivariateScratch;
}

export function createSphereScratch(
  data: Pick<SphereData, 'nImages' | 'width' | 'noise'>,
  maxSphereSize: number,
): SphereScratch {
  const kPad = Math.ceil(data.nImages / 4) * 4;
  return {
    buf: new Float64Array(kPad * Math.max(1, maxSphereSize) + data.width),
    gram: new Float64Array(kPad * kPad),
    ...(data.noise ? { multivariate: createMultivariateScratch(maxSphereSize, data.noise.nRuns, data.nImages) } : {}),
  };
}

/** Largest group in a CSR neighbour table. */
export function maxGroupSize(offsets: Int32Array): number {
  let max = 0;
  for (let c = 0; c + 1 < offsets.length; c++) max = Math.max(max, (offsets[c + 1] as number) - (offsets[c] as number));
  return max;
}

/**
 * Gram matrix of one sphere's patterns (image-major in `buf`, rows padded with zeros to a
 * multiple of 4): 4 x 2 register blocks, so each loaded value feeds several products.
 */
function blockedGram(buf: Float64Array, kPad: number, p: number, gram: Float64Array): void {
  for (let I = 0; I < kPad; I += 4) {
    const r0 = I * p;
    const r1 = r0 + p;
    const r2 = r1 + p;
    const r3 = r2 + p;
    for (let J = I; J < kPad; J += 2) {
      const c0 = J * p;
      const c1 = c0 + p;
      let a00 = 0,
        a01 = 0,
        a10 = 0,
        a11 = 0,
        a20 = 0,
        a21 = 0,
        a30 = 0,
        a31 = 0;
      for (let t = 0; t < p; t++) {
        const y0 = buf[c0 + t] as number;
        const y1 = buf[c1 + t] as number;
        const x0 = buf[r0 + t] as number;
        const x1 = buf[r1 + t] as number;
        const x2 = buf[r2 + t] as number;
        const x3 = buf[r3 + t] as number;
        a00 += x0 * y0;
        a01 += x0 * y1;
        a10 += x1 * y0;
        a11 += x1 * y1;
        a20 += x2 * y0;
        a21 += x2 * y1;
        a30 += x3 * y0;
        a31 += x3 * y1;
      }
      const g = I * kPad + J;
      gram[g] = a00;
      gram[g + 1] = a01;
      gram[g + kPad] = a10;
      gram[g + kPad + 1] = a11;
      gram[g + 2 * kPad] = a20;
      gram[g + 2 * kPad + 1] = a21;
      gram[g + 3 * kPad] = a30;
      gram[g + 3 * kPad + 1] = a31;
    }
  }
}

/**
 * Condensed RDMs of groups `start .. end-1` of the neighbour table (`offsets`/`indices` as in
 * `SearchlightNeighbors`), written row by row into `out` (pairCount(nImages) values per group).
 */
export function computeSphereRdms(
  data: SphereData,
  offsets: Int32Array,
  indices: Int32Array,
  start: number,
  end: number,
  out: Float64Array,
  scratch: SphereScratch = createSphereScratch(data, maxGroupSize(offsets.subarray(start, end + 1))),
): void {
  const K = data.nImages;
  const P = pairCount(K);
  const W = data.width;
  const values = data.values;
  const kernel = SPHERE_DISTANCES[data.distance].kernel;
  if (out.length < (end - start) * P) {
    throw new RangeError(`computeSphereRdms: out holds ${out.length} values; need ${(end - start) * P}`);
  }
  const { buf } = scratch;
  const kPad = Math.ceil(K / 4) * 4;
  for (let c = start; c < end; c++) {
    const a = offsets[c] as number;
    const p = (offsets[c + 1] as number) - a;
    const o = (c - start) * P;
    if (p === 0) {
      out.fill(Number.NaN, o, o + P);
      continue;
    }
    if (data.noise) {
      if (!scratch.multivariate || scratch.multivariate.cov.length < p * p)
        throw new RangeError(`computeSphereRdms: scratch too small for a group of ${p} voxels`);
      multivariateCrossnobisRdm(data.noise, values, K, indices, a, p, out, o, scratch.multivariate);
      continue;
    }
    if (kernel.kind === 'mean') {
      meanRowsRdm(values, W, indices, a, p, buf, out, o);
      continue;
    }
    if (buf.length < kPad * p) throw new RangeError(`computeSphereRdms: scratch too small for a group of ${p} voxels`);
    gramRdm(kernel, values, K, kPad, indices, a, p, scratch, out, o);
  }
}

/** A sphere's RDM as the mean of its voxels' rows (crossnobis); a NaN voxel spoils the whole sphere. */
function meanRowsRdm(
  values: Float64Array,
  W: number,
  indices: Int32Array,
  a: number,
  p: number,
  buf: Float64Array,
  out: Float64Array,
  o: number,
): void {
  const acc = buf.subarray(0, W);
  acc.fill(0);
  for (let t = 0; t < p; t++) {
    const src = (indices[a + t] as number) * W;
    for (let k = 0; k < W; k++) acc[k] = (acc[k] as number) + (values[src + k] as number);
  }
  let finite = true;
  for (let k = 0; k < W; k++) {
    const d = (acc[k] as number) / p;
    if (!(d - d === 0)) finite = false;
    out[o++] = d;
  }
  if (!finite) out.fill(Number.NaN, o - W, o); // a NaN voxel spoils the whole sphere, as in the sliding kernel
}

/** A sphere's RDM from the Gram matrix of its (centred, for correlation) run-averaged patterns. */
function gramRdm(
  kernel: Extract<SphereDistanceSpec['kernel'], { kind: 'gram' }>,
  values: Float64Array,
  K: number,
  kPad: number,
  indices: Int32Array,
  a: number,
  p: number,
  scratch: SphereScratch,
  out: Float64Array,
  o: number,
): void {
  const { buf, gram } = scratch;
  const P = pairCount(K);
  // Gather image-major rows (row i at i * p), then centre each row; a constant row becomes exact
  // zeros so that its correlations are NaN rather than rounding noise.
  for (let t = 0; t < p; t++) {
    const src = (indices[a + t] as number) * K;
    for (let i = 0; i < K; i++) buf[i * p + t] = values[src + i] as number;
  }
  buf.fill(0, K * p, kPad * p);
  let finite = true;
  for (let i = 0; i < K; i++) {
    const r = i * p;
    const first = buf[r] as number;
    let sum = 0;
    let constant = true;
    for (let t = 0; t < p; t++) {
      const x = buf[r + t] as number;
      sum += x;
      if (x !== first) constant = false;
    }
    if (!(sum - sum === 0)) finite = false;
    if (!kernel.center) continue;
    const mean = constant ? first : sum / p;
    for (let t = 0; t < p; t++) buf[r + t] = (buf[r + t] as number) - mean;
  }
  if (!finite) {
    // A NaN voxel spoils the whole sphere (not only the pairs of its image).
    out.fill(Number.NaN, o, o + P);
    return;
  }
  blockedGram(buf, kPad, p, gram);
  const fromGram = kernel.spec.fromGram;
  for (let i = 0; i < K; i++) {
    const gii = gram[i * kPad + i] as number;
    for (let j = i + 1; j < K; j++)
      out[o++] = fromGram(gii, gram[j * kPad + j] as number, gram[i * kPad + j] as number);
  }
}

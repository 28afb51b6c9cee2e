/**
 * Noise normalisation of the crossnobis distance (registry `NOISE_NORMALIZATIONS`). With d_r the
 * pattern difference of images i and j in run r over the p voxels, R runs, and rsatoolbox's
 * `calc_rdm_crossnobis(dataset, 'image', noise, cv_descriptor='run')` averaging over folds:
 *
 * - univariate: each run's betas divided voxel by voxel by the square root of that run's residual
 *   variance, then sum_{a != b} d_a . d_b / (R (R - 1) p). Equals `calc_rdm_crossnobis` with
 *   noise=None on a dataset whose run-r measurements are b_r / sqrt(sigma2_r) (the noise
 *   normalisation applied to the data beforehand).
 * - pooled: one diagonal precision, 1 / (mean over runs of sigma2_r), for every run. Equals
 *   `calc_rdm_crossnobis(..., noise=P)` with P = `prec_from_residuals(residuals of all runs
 *   stacked, dof=sum of the runs' df, method='diag')` when the runs have equal df.
 * - pairwise: rsatoolbox's list-of-precisions branch, `calc_rdm_crossnobis(..., noise=[P_1 .. P_R])`
 *   with P_r = diag(1 / sigma2_r): each pair of runs a < b contributes d_a' ((S_a + S_b) / 2)^-1 d_b / p,
 *   averaged over the R (R - 1) / 2 pairs.
 * - multivariate, multivariate-eye: per sphere (or region) one full precision from the GLM residuals
 *   of its voxels, `prec_from_residuals(E, dof, method='shrinkage_diag' | 'shrinkage_eye')` (see
 *   noise-covariance.ts), then `calc_rdm_crossnobis(..., noise=P)`: sum_{a != b} d_a' P d_b / (R (R - 1) p),
 *   computed as whitened patterns L^-1 d with P^-1 = L L'.
 *
 * The first three are sums over voxels of per-voxel rows (computed once, any sphere is a mean of
 * rows: the sliding kernel works); the multivariate ones need each sphere's covariance, so they run
 * on the neighbour table (one p x p covariance, Cholesky and solve per sphere).
 */
import { pairCount } from '@orthostim/rdm';
import { UsageError } from '@orthostim/protocol';
import {
  NOISE_SHRINKAGES,
  choleskyInPlace,
  forwardSubstitute,
  residualCrossProducts,
  type NoiseShrinkage,
} from './noise-covariance';

export type NoiseNormalization = 'univariate' | 'pooled' | 'pairwise' | 'multivariate' | 'multivariate-eye';

interface NoiseNormalizationSpec {
  readonly description: string;
  /** What it is computed from: per-run residual variances, or the residual series (multivariate). */
  readonly needs: 'variance' | 'series';
  readonly shrinkage?: NoiseShrinkage;
}

export const NOISE_NORMALIZATIONS = {
  univariate: { description: "each run's betas divided by that run's residual SD (per voxel)", needs: 'variance' },
  pooled: { description: 'betas divided by the residual SD pooled over runs (per voxel)', needs: 'variance' },
  pairwise: { description: "rsatoolbox's per-run-pair precision ((S_a + S_b) / 2)^-1, diagonal", needs: 'variance' },
  multivariate: {
    description: "per sphere, shrinkage covariance of the GLM residuals towards its diagonal (rsatoolbox's default)",
    needs: 'series',
    shrinkage: 'shrinkage-diag',
  },
  'multivariate-eye': {
    description: 'per sphere, Ledoit-Wolf shrinkage covariance of the GLM residuals towards a multiple of I',
    needs: 'series',
    shrinkage: 'shrinkage-eye',
  },
} as const satisfies Record<NoiseNormalization, NoiseNormalizationSpec>;

export const NOISE_NORMALIZATION_NAMES = Object.keys(NOISE_NORMALIZATIONS) as NoiseNormalization[];

export function isNoiseNormalization(name: string): name is NoiseNormalization {
  return Object.hasOwn(NOISE_NORMALIZATIONS, name);
}

/** GLM residual series of the analysis voxels: voxel-major rows of every run's time points, stacked. */
export interface ResidualSeries {
  /** nVoxels x nRows, voxel v's rows at v * nRows. */
  readonly values: Float32Array;
  readonly nRows: number;
  /** Degrees of freedom of the covariance: the runs' residual df summed (rsatoolbox default: nRows - 1). */
  readonly dof: number;
}

/** What the multivariate kernel reads (on SharedArrayBuffers, so worker threads share it). */
export interface MultivariateNoise {
  readonly shrinkage: NoiseShrinkage;
  /** Demeaned residual rows, voxel-major (rsatoolbox's _check_demean over the stacked rows). */
  readonly residuals: Float32Array;
  readonly nRows: number;
  readonly dof: number;
  readonly nRuns: number;
}

/** Pooled: sigma2 per voxel = mean over runs of sigma2_r (one value per voxel). */
export function pooledVariance(residualVariance: ArrayLike<number>, nRuns: number, nVoxels: number): Float64Array {
  if (residualVariance.length === nVoxels) return Float64Array.from(residualVariance);
  const out = new Float64Array(nVoxels);
  for (let r = 0; r < nRuns; r++)
    for (let v = 0; v < nVoxels; v++) out[v] = out[v]! + (residualVariance[r * nVoxels + v] as number) / nRuns;
  return out;
}

/**
 * Pairwise rows: out[v * P + pair(i, j)] = sum_{a < b} d_a d_b 2 / (s2_a + s2_b) / (R (R - 1) / 2),
 * d_r = b_i,r - b_j,r at voxel v (betas [run][image][voxel]).
 */
export function preparePairwiseCrossnobis(
  betas: { data: ArrayLike<number>; nRuns: number; nImages: number; nVoxels: number },
  out: Float64Array,
  residualVariance: ArrayLike<number>,
): void {
  const { nRuns: R, nImages: K, nVoxels: V, data } = betas;
  if (residualVariance.length !== R * V)
    throw new UsageError(
      `pairwise noise normalisation needs one residual variance per run and voxel (${R}*${V}); got ${residualVariance.length}`,
    );
  const P = pairCount(K);
  const pairs = (R * (R - 1)) / 2;
  const w = new Float64Array(pairs);
  const d = new Float64Array(R);
  for (let v = 0; v < V; v++) {
    let q = 0;
    for (let a = 0; a < R; a++) {
      for (let b = a + 1; b < R; b++) {
        const s = (residualVariance[a * V + v] as number) + (residualVariance[b * V + v] as number);
        w[q++] = s > 0 ? 2 / s / pairs : Number.NaN; // no noise estimate: the voxel is unusable
      }
    }
    let k = v * P;
    for (let i = 0; i < K; i++) {
      for (let j = i + 1; j < K; j++) {
        for (let r = 0; r < R; r++)
          d[r] = (data[(r * K + i) * V + v] as number) - (data[(r * K + j) * V + v] as number);
        let sum = 0;
        q = 0;
        for (let a = 0; a < R; a++) for (let b = a + 1; b < R; b++) sum += d[a]! * d[b]! * w[q++]!;
        out[k++] = sum;
      }
    }
  }
}

/** The multivariate kernel's input: residual rows demeaned per voxel, on a SharedArrayBuffer. */
export function prepareMultivariateNoise(
  normalization: NoiseNormalization,
  series: ResidualSeries,
  nVoxels: number,
  nRuns: number,
): MultivariateNoise {
  const spec: NoiseNormalizationSpec = NOISE_NORMALIZATIONS[normalization];
  if (!spec.shrinkage) throw new RangeError(`prepareMultivariateNoise: ${normalization} is not multivariate`);
  const n = series.nRows;
  if (series.values.length !== nVoxels * n)
    throw new UsageError(`residual series must hold voxels*rows = ${nVoxels}*${n} values; got ${series.values.length}`);
  if (!(n >= 2 && series.dof > 0))
    throw new UsageError(`residual series need at least 2 rows and dof > 0; got ${n} rows, dof ${series.dof}`);
  const residuals = new Float32Array(new SharedArrayBuffer(nVoxels * n * 4));
  for (let v = 0; v < nVoxels; v++) {
    let mean = 0;
    for (let t = 0; t < n; t++) mean += series.values[v * n + t]!;
    mean /= n;
    for (let t = 0; t < n; t++) residuals[v * n + t] = series.values[v * n + t]! - mean;
  }
  return { shrinkage: spec.shrinkage, residuals, nRows: n, dof: series.dof, nRuns };
}

/** Per-thread buffers of `multivariateCrossnobisRdm`. */
export interface MultivariateScratch {
  cov: Float64Array;
  s2: Float64Array;
  /** Whitened patterns: column c = run * K + image, p values each. */
  w: Float64Array;
}

export function createMultivariateScratch(maxP: number, nRuns: number, nImages: number): MultivariateScratch {
  return {
    cov: new Float64Array(maxP * maxP),
    s2: new Float64Array(maxP * maxP),
    w: new Float64Array(maxP * nRuns * nImages),
  };
}

/**
 * The crossnobis RDM of one voxel group (`idx[start .. start + p)`) with its own shrinkage
 * precision; `betaRows` holds raw betas voxel-major (voxel v's R x K values at v * R * K, run-major).
 * Writes pairCount(K) values at out[o..]; NaN when a beta is NaN or the covariance is singular.
 */
export function multivariateCrossnobisRdm(
  noise: MultivariateNoise,
  betaRows: Float64Array,
  nImages: number,
  idx: ArrayLike<number>,
  start: number,
  p: number,
  out: Float64Array,
  o: number,
  scratch: MultivariateScratch,
): void {
  const K = nImages;
  const R = noise.nRuns;
  const P = pairCount(K);
  const { cov, s2, w } = scratch;
  residualCrossProducts(noise.residuals, noise.nRows, idx, start, p, cov, s2);
  NOISE_SHRINKAGES[noise.shrinkage](cov, s2, p, noise.nRows, noise.dof);
  if (!choleskyInPlace(cov, p)) {
    out.fill(Number.NaN, o, o + P);
    return;
  }
  const W = R * K;
  for (let c = 0; c < W; c++) {
    for (let t = 0; t < p; t++) w[c * p + t] = betaRows[(idx[start + t] as number) * W + c]!;
    forwardSubstitute(cov, p, w, c * p);
  }
  const scale = 1 / (R * (R - 1) * p);
  let k = o;
  for (let i = 0; i < K; i++) {
    for (let j = i + 1; j < K; j++) {
      let acc = 0;
      for (let t = 0; t < p; t++) {
        let sum = 0;
        let within = 0;
        for (let r = 0; r < R; r++) {
          const d = w[(r * K + i) * p + t]! - w[(r * K + j) * p + t]!;
          sum += d;
          within += d * d;
        }
        acc += sum * sum - within;
      }
      out[k++] = Number.isFinite(acc) ? acc * scale : Number.NaN;
    }
  }
}

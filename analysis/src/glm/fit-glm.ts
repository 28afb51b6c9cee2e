/**
 * The GLM fit on arrays: `fitGlm(series, design)` with nilearn's `run_glm` semantics (OLS, or
 * AR(1): the lag-1 autocorrelation of each voxel's OLS residuals, truncated to 0.01 bins, then
 * per bin the design and data pre-whitened as nilearn's ARModel does, e_t - rho e_{t-1} with the
 * first row unchanged, and refitted). Never sees a file.
 *
 * AR(1) estimators (`AR1_ESTIMATORS`): 'yule-walker' is nilearn >= 0.8's `_yule_walker(residuals, 1)`,
 * rho = (sum e_t e_{t-1} / (T - 1)) / (sum e_t^2 / T); 'lag-ratio' is nilearn <= 0.7's
 * sum e_t e_{t-1} / sum e_t^2. (nilearn's Yule-Walker first subtracts the grand mean of all
 * residuals; with the design's constant column every voxel's residuals sum to 0, so it is 0.)
 *
 * Speed: the only pass over the T x V data is one matrix product Z = [X | (S + S')X]' y per voxel
 * (S shifts one volume later), plus y'y and y'Sy. Everything else is K x K work per voxel:
 *   OLS        b = pinv(X'X) u,  u = X'y,  SSR = y'y - b'u
 *   rho        e'Se / e'e  with  e'Se = y'Sy - b'q + b'(X'SX)b,  q = X'(S + S')y = X'Sy + (SX)'y
 *   AR(1)      Xw'yw = u - r q + r^2 (u - x_{T-1} y_{T-1}),  yw'yw = y'y - 2 r y'Sy + r^2 (y'y - y_{T-1}^2)
 * which are the whitened-model normal equations, exactly (tested against explicit whitening).
 */
import { gramMatrix, matVec, pinvSymmetric } from './linalg';

export type NoiseModel = 'ols' | 'ar1';
export const NOISE_MODELS: readonly NoiseModel[] = ['ols', 'ar1'];

export type Ar1Estimator = 'yule-walker' | 'lag-ratio';

/** rho from the lag-1 and lag-0 residual sums of a T-volume series; names as `--ar1-estimator` takes them. */
export const AR1_ESTIMATORS = {
  'yule-walker': {
    description: 'Yule-Walker, as nilearn >= 0.8 (rho x T / (T - 1) of the lag ratio; default)',
    rho: (lag1: number, lag0: number, T: number) => lag1 / (T - 1) / (lag0 / T),
  },
  'lag-ratio': {
    description: 'sum e_t e_(t-1) / sum e_t^2, as nilearn <= 0.7',
    rho: (lag1: number, lag0: number) => lag1 / lag0,
  },
} as const satisfies Record<
  Ar1Estimator,
  { description: string; rho: (lag1: number, lag0: number, T: number) => number }
>;

export const AR1_ESTIMATOR_NAMES = Object.keys(AR1_ESTIMATORS) as Ar1Estimator[];
export const DEFAULT_AR1_ESTIMATOR: Ar1Estimator = 'yule-walker';

export interface DesignArrays {
  nRows: number;
  nCols: number;
  /** Row-major nRows x nCols. */
  values: Float64Array;
}

export interface GlmFit {
  nVoxels: number;
  nCols: number;
  /** nCols x nVoxels: the map of regressor k is betas[k * nVoxels .. (k + 1) * nVoxels). NaN for skipped voxels. */
  betas: Float32Array;
  /** Residual variance of the (whitened) model: SSR / (T - K). */
  residualVariance: Float32Array;
  /** AR(1) coefficient used per voxel (binned); 0 under OLS. */
  rho: Float32Array;
  dfResidual: number;
  rank: number;
  /**
   * Residuals of the (whitened) model, voxel-major (nVoxels x T), when allocated with them:
   * e_t = yw_t - xw_t . beta with the AR(1) whitening above (nilearn's `whitened_residuals`; the
   * OLS residuals under OLS), so sum_t e_t^2 / dfResidual is `residualVariance`. NaN for skipped voxels.
   */
  residuals?: Float32Array;
}

export interface FitGlmOptions {
  noiseModel?: NoiseModel;
  /** Voxels to fit (1) or skip (0: betas and variance NaN). Default all. */
  valid?: Uint8Array;
  /** nilearn's bins: rho is truncated to multiples of 1 / bins (default 100). */
  bins?: number;
  /** How rho is estimated from the OLS residuals (default 'yule-walker', nilearn >= 0.8). */
  ar1Estimator?: Ar1Estimator;
}

/** Per-design precomputation shared by every voxel (and every worker). */
export interface GlmPlan {
  T: number;
  K: number;
  /** Interleaved T x 2K (padded to a multiple of 4): row t is [x_t | x_{t-1} + x_{t+1}]. */
  m: Float64Array;
  mWidth: number;
  /** pinv(X'X). */
  g: Float64Array;
  /** X'SX = sum_{t>=1} x_t x_{t-1}'. */
  a: Float64Array;
  xLast: Float64Array;
  rank: number;
  x: Float64Array;
}

export function planGlm(design: DesignArrays): GlmPlan {
  const { nRows: T, nCols: K, values: x } = design;
  const mWidth = Math.ceil((2 * K) / 4) * 4;
  const m = new Float64Array(T * mWidth);
  for (let t = 0; t < T; t++) {
    for (let k = 0; k < K; k++) {
      m[t * mWidth + k] = x[t * K + k]!;
      m[t * mWidth + K + k] = (t > 0 ? x[(t - 1) * K + k]! : 0) + (t < T - 1 ? x[(t + 1) * K + k]! : 0);
    }
  }
  const { inverse: g, rank } = pinvSymmetric(gramMatrix(x, T, K), K);
  const a = new Float64Array(K * K);
  for (let t = 1; t < T; t++)
    for (let i = 0; i < K; i++)
      for (let j = 0; j < K; j++) a[i * K + j] = a[i * K + j]! + x[t * K + i]! * x[(t - 1) * K + j]!;
  return { T, K, m, mWidth, g, a, xLast: x.slice((T - 1) * K, T * K), rank, x };
}

/** pinv of the whitened Gram matrix for one AR coefficient. */
function whitenedInverse(plan: GlmPlan, rho: number): Float64Array {
  const { T, K, x } = plan;
  const w = new Float64Array(T * K);
  for (let t = 0; t < T; t++)
    for (let k = 0; k < K; k++) w[t * K + k] = x[t * K + k]! - (t > 0 ? rho * x[(t - 1) * K + k]! : 0);
  return pinvSymmetric(gramMatrix(w, T, K), K).inverse;
}

/**
 * Z (nVoxels x mWidth) = per voxel M' y, two voxels and four columns at a time so each loaded
 * value feeds several multiply-adds (V8 keeps the eight sums in registers).
 */
function projectSeries(series: Float32Array, plan: GlmPlan, v0: number, v1: number, z: Float64Array): void {
  const { T, m, mWidth: W } = plan;
  for (let v = v0; v < v1; v += 2) {
    const ya = v * T;
    const yb = v + 1 < v1 ? ya + T : ya; // odd count: the last voxel pairs with itself
    const za = (v - v0) * W;
    for (let k = 0; k < W; k += 4) {
      let a0 = 0,
        a1 = 0,
        a2 = 0,
        a3 = 0,
        b0 = 0,
        b1 = 0,
        b2 = 0,
        b3 = 0; // prettier-ignore
      for (let t = 0, o = k; t < T; t++, o += W) {
        const y = series[ya + t]!;
        const u = series[yb + t]!;
        const c0 = m[o]!,
          c1 = m[o + 1]!,
          c2 = m[o + 2]!,
          c3 = m[o + 3]!; // prettier-ignore
        a0 += c0 * y;
        a1 += c1 * y;
        a2 += c2 * y;
        a3 += c3 * y; // prettier-ignore
        b0 += c0 * u;
        b1 += c1 * u;
        b2 += c2 * u;
        b3 += c3 * u; // prettier-ignore
      }
      z[za + k] = a0;
      z[za + k + 1] = a1;
      z[za + k + 2] = a2;
      z[za + k + 3] = a3; // prettier-ignore
      if (v + 1 < v1) {
        z[za + W + k] = b0;
        z[za + W + k + 1] = b1;
        z[za + W + k + 2] = b2;
        z[za + W + k + 3] = b3; // prettier-ignore
      }
    }
  }
}

/** out.residuals of voxel v: yw_t - xw_t . beta, with yw_t = y_t - rho y_{t-1} (t >= 1). */
function writeResiduals(
  series: Float32Array,
  plan: GlmPlan,
  v: number,
  rho: number,
  beta: ArrayLike<number>,
  out: Float32Array,
): void {
  const { T, K, x } = plan;
  const yo = v * T;
  for (let t = 0; t < T; t++) {
    let fitted = 0;
    for (let k = 0; k < K; k++) {
      const xw = x[t * K + k]! - (t > 0 ? rho * x[(t - 1) * K + k]! : 0);
      fitted += xw * (beta[k] as number);
    }
    const yw = series[yo + t]! - (t > 0 ? rho * series[yo + t - 1]! : 0);
    out[yo + t] = yw - fitted;
  }
}

/**
 * Fit voxels [v0, v1) of `series` (voxel-major: voxel v's T values at series[v*T .. v*T+T)) and
 * write into `out` at the same voxel positions. The unit of work a worker thread runs.
 */
export function fitGlmRange(
  series: Float32Array,
  plan: GlmPlan,
  v0: number,
  v1: number,
  out: GlmFit,
  options: FitGlmOptions = {},
): void {
  const { T, K, g, a, xLast, mWidth: W } = plan;
  const V = out.nVoxels;
  const ar = (options.noiseModel ?? 'ar1') === 'ar1';
  const bins = options.bins ?? 100;
  const estimate = AR1_ESTIMATORS[options.ar1Estimator ?? DEFAULT_AR1_ESTIMATOR].rho;
  const valid = options.valid;
  const df = T - K;
  const binCache = new Map<number, Float64Array>();
  const CHUNK = 512;
  const z = new Float64Array(CHUNK * W);
  const b = new Float64Array(K);
  const ab = new Float64Array(K);
  const wv = new Float64Array(K);
  const beta = new Float64Array(K);
  for (let c0 = v0; c0 < v1; c0 += CHUNK) {
    const c1 = Math.min(v1, c0 + CHUNK);
    projectSeries(series, plan, c0, c1, z);
    for (let v = c0; v < c1; v++) {
      if (valid !== undefined && valid[v] === 0) {
        markSkipped(out, v, K, T);
        continue;
      }
      const zo = (v - c0) * W;
      const yo = v * T;
      let yy = 0;
      let ySy = 0;
      let prev = series[yo]!;
      yy = prev * prev;
      for (let t = 1; t < T; t++) {
        const y = series[yo + t]!;
        yy += y * y;
        ySy += y * prev;
        prev = y;
      }
      const yLast = prev;
      matVec(g, z, K, b, zo);
      let bu = 0;
      let bq = 0;
      for (let k = 0; k < K; k++) {
        bu += b[k]! * z[zo + k]!;
        bq += b[k]! * z[zo + K + k]!;
      }
      const ssr = Math.max(0, yy - bu);
      const r = ar && ssr > 1e-12 * yy ? binnedRho(a, b, ab, ySy - bq, ssr, T, estimate, bins) : 0;
      if (r === 0) {
        for (let k = 0; k < K; k++) out.betas[k * V + v] = b[k]!;
        out.residualVariance[v] = ssr / df;
        out.rho[v] = 0;
        if (out.residuals) writeResiduals(series, plan, v, 0, b, out.residuals);
        continue;
      }
      const gw = cachedWhitenedInverse(binCache, plan, r);
      const r2 = r * r;
      for (let k = 0; k < K; k++) {
        const u = z[zo + k]!;
        wv[k] = u - r * z[zo + K + k]! + r2 * (u - xLast[k]! * yLast);
      }
      const yw = yy - 2 * r * ySy + r2 * (yy - yLast * yLast);
      matVec(gw, wv, K, beta);
      let bw = 0;
      for (let k = 0; k < K; k++) {
        bw += beta[k]! * wv[k]!;
        out.betas[k * V + v] = beta[k]!;
      }
      out.residualVariance[v] = Math.max(0, yw - bw) / df;
      out.rho[v] = r;
      if (out.residuals) writeResiduals(series, plan, v, r, beta, out.residuals);
    }
  }
}

/** A voxel left out of the fit (`valid` 0): NaN betas, variance, rho and residuals. */
function markSkipped(out: GlmFit, v: number, K: number, T: number): void {
  const V = out.nVoxels;
  for (let k = 0; k < K; k++) out.betas[k * V + v] = Number.NaN;
  out.residualVariance[v] = Number.NaN;
  out.rho[v] = Number.NaN;
  out.residuals?.fill(Number.NaN, v * T, (v + 1) * T);
}

/**
 * The AR(1) coefficient of the OLS residuals, truncated to `bins` steps: `lag` is the lag-1 product
 * of the series minus b'q, completed here by b'Ab.
 */
function binnedRho(
  a: GlmPlan['a'],
  b: Float64Array,
  ab: Float64Array<ArrayBuffer>,
  lag: number,
  ssr: number,
  T: number,
  estimate: (lag1: number, ssr: number, T: number) => number,
  bins: number,
): number {
  const K = b.length;
  matVec(a, b, K, ab);
  let bab = 0;
  for (let k = 0; k < K; k++) bab += b[k]! * ab[k]!;
  return Math.trunc(estimate(lag + bab, ssr, T) * bins) / bins;
}

/** The whitened design's inverse for rho `r`, computed once per bin. */
function cachedWhitenedInverse(cache: Map<number, Float64Array>, plan: GlmPlan, r: number): Float64Array {
  let gw = cache.get(r);
  if (!gw) {
    gw = whitenedInverse(plan, r);
    cache.set(r, gw);
  }
  return gw;
}

export function allocateGlmFit(nVoxels: number, plan: GlmPlan, shared = false, residuals = false): GlmFit {
  const mk = (n: number) => (shared ? new Float32Array(new SharedArrayBuffer(n * 4)) : new Float32Array(n));
  return {
    ...(residuals ? { residuals: mk(plan.T * nVoxels) } : {}),
    nVoxels,
    nCols: plan.K,
    betas: mk(plan.K * nVoxels),
    residualVariance: mk(nVoxels),
    rho: mk(nVoxels),
    dfResidual: plan.T - plan.K,
    rank: plan.rank,
  };
}

/**
 * Fit every voxel of `series` (voxel-major, nVoxels x T Float32Array) on one thread. See
 * `fitGlmParallel` for the worker-thread version.
 */
export function fitGlm(
  series: Float32Array,
  design: DesignArrays,
  options: FitGlmOptions & { residuals?: boolean } = {},
): GlmFit {
  const T = design.nRows;
  if (series.length % T !== 0)
    throw new RangeError(`fitGlm: ${series.length} values is not a whole number of ${T}-volume series`);
  if (T <= design.nCols) throw new RangeError(`fitGlm: ${T} volumes cannot fit ${design.nCols} regressors`);
  const V = series.length / T;
  const plan = planGlm(design);
  const { residuals, ...fitOptions } = options;
  const out = allocateGlmFit(V, plan, false, residuals ?? false);
  fitGlmRange(series, plan, 0, V, out, fitOptions);
  return out;
}

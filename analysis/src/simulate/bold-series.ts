/**
 * The BOLD time series of one simulated run, on arrays. Each brain voxel v is
 *
 *   y_v(t) = B_v (1 + s_v(t) / 100),   s_v(t) = drift_v(t) + evoked_v(t) + noise_v(t)
 *
 * in percent signal change of the voxel's baseline B_v, so the analysis' scaling to percent signal
 * change returns (up to the voxel's mean of s, a fraction of a percent) the planted values:
 * - evoked_v(t) = sum_i beta_iv x_i(t): the run's image regressors x_i (events through the HRF, the
 *   same regressors the analysis' design has) weighted by the planted patterns (region voxels only);
 * - drift_v(t): a random combination of the cosine drift basis below the high-pass cut-off (the
 *   analysis' own drift terms), new in every run;
 * - noise_v(t): stationary AR(1) Gaussian noise, e_t = phi e_{t-1} + sqrt(1 - phi^2) sd z_t.
 * Pure: the caller provides the (uniform) random source.
 */
import type { Rng } from '@orthostim/rdm';

export interface RunRegressors {
  nScans: number;
  nImages: number;
  /** nImages x nScans, row-major: image i's regressor (zeros for an image absent from the run). */
  regressors: Float64Array;
  /** Cosine drift columns, each nScans long. */
  driftBasis: readonly Float64Array[];
}

export interface RegionSignal {
  /** Positions of the region's voxels among the brain voxels. */
  positions: Int32Array;
  /** nImages x positions.length, row-major, percent signal change. */
  betas: Float64Array;
}

export interface NoiseSettings {
  /** Standard deviation of the AR(1) noise, percent signal change (0: none). */
  noiseSdPsc: number;
  /** AR(1) coefficient phi, in [0, 1). */
  ar1: number;
  /** Standard deviation over time of each voxel's drift, percent signal change (expected value). */
  driftSdPsc: number;
}

/** Covariance over time of the image regressors (n x n), the matrix C with var_t(evoked_v) = beta_v' C beta_v. */
export function regressorCovariance(r: RunRegressors): Float64Array {
  const { nImages: n, nScans: T, regressors } = r;
  const mean = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let t = 0; t < T; t++) s += regressors[i * T + t]!;
    mean[i] = s / T;
  }
  const c = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      let s = 0;
      for (let t = 0; t < T; t++) s += (regressors[i * T + t]! - mean[i]!) * (regressors[j * T + t]! - mean[j]!);
      c[i * n + j] = c[j * n + i] = s / T;
    }
  }
  return c;
}

/** Mean over voxels of the standard deviation over time of evoked_v, for betas (n x V) and covariance C. */
export function meanEvokedSd(betas: Float64Array, n: number, cov: Float64Array): number {
  const V = betas.length / n;
  let total = 0;
  for (let v = 0; v < V; v++) {
    let q = 0;
    for (let i = 0; i < n; i++) {
      const bi = betas[i * V + v]!;
      if (bi === 0) continue;
      for (let j = 0; j < n; j++) q += bi * cov[i * n + j]! * betas[j * V + v]!;
    }
    total += Math.sqrt(Math.max(0, q));
  }
  return V > 0 ? total / V : 0;
}

/**
 * Write one run into `out`, a grid x time volume (time-major, NIfTI order: out[t * nGrid + g]),
 * at the brain voxels `brainVoxels` (grid indices); other grid voxels are left as they are.
 */
export function synthesizeRun(
  run: RunRegressors,
  brainVoxels: Int32Array,
  baseline: Float32Array,
  regions: readonly RegionSignal[],
  noise: NoiseSettings,
  uniform: Rng,
  out: Float32Array,
): void {
  const T = run.nScans;
  const n = run.nImages;
  const nGrid = out.length / T;
  // Evoked series of the region voxels, by brain position.
  const evokedAt = new Int32Array(brainVoxels.length).fill(-1);
  let nEvoked = 0;
  for (const r of regions) nEvoked += r.positions.length;
  const evoked = new Float64Array(nEvoked * T);
  let row = 0;
  for (const r of regions) {
    const V = r.positions.length;
    for (let v = 0; v < V; v++, row++) {
      evokedAt[r.positions[v]!] = row;
      const o = row * T;
      for (let i = 0; i < n; i++) {
        const b = r.betas[i * V + v]!;
        if (b === 0) continue;
        const x = i * T;
        for (let t = 0; t < T; t++) evoked[o + t] = evoked[o + t]! + b * run.regressors[x + t]!;
      }
    }
  }
  const K = run.driftBasis.length;
  // Each cosine column has unit norm (variance ~1/T over time): weights of sd driftSd sqrt(T/K) give
  // a drift whose expected variance over time is driftSd^2.
  const driftWeightSd = K > 0 ? noise.driftSdPsc * Math.sqrt(T / K) : 0;
  const phi = noise.ar1;
  const innovation = noise.noiseSdPsc * Math.sqrt(1 - phi * phi);
  const s = new Float64Array(T);
  const z = new Float64Array(T + 1);
  const weights = new Float64Array(K);
  for (let p = 0; p < brainVoxels.length; p++) {
    s.fill(0);
    if (driftWeightSd > 0) {
      fillNormal(weights, uniform);
      for (let k = 0; k < K; k++) {
        const w = weights[k]! * driftWeightSd;
        const c = run.driftBasis[k]!;
        for (let t = 0; t < T; t++) s[t] = s[t]! + w * c[t]!;
      }
    }
    if (noise.noiseSdPsc > 0) {
      fillNormal(z, uniform);
      let e = z[0]! * noise.noiseSdPsc;
      s[0] = s[0]! + e;
      for (let t = 1; t < T; t++) {
        e = phi * e + innovation * z[t]!;
        s[t] = s[t]! + e;
      }
    }
    const er = evokedAt[p]!;
    if (er >= 0) {
      const o = er * T;
      for (let t = 0; t < T; t++) s[t] = s[t]! + evoked[o + t]!;
    }
    const g = brainVoxels[p]!;
    const b = baseline[p]!;
    for (let t = 0; t < T; t++) out[t * nGrid + g] = b * (1 + s[t]! / 100);
  }
}

/**
 * Fill `out` with standard normal deviates (Box-Muller, both values of each pair used) from a
 * uniform source: the bulk form of rdm's createNormalRng for the simulation's hot loop (millions
 * of draws per run).
 */
export function fillNormal(out: Float64Array, uniform: Rng): void {
  const n = out.length;
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - uniform()));
    const a = 2 * Math.PI * uniform();
    out[i] = r * Math.cos(a);
    if (i + 1 < n) out[i + 1] = r * Math.sin(a);
  }
}

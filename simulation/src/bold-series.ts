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
 * - noise_v(t): stationary AR(1) Gaussian noise, e_t = phi e_{t-1} + sqrt(1 - phi^2) sd z_t, times
 *   the voxel's noise scale m_v when given (voxel-wise heteroscedastic noise); with a spatial FWHM
 *   the unit-variance AR(1) fields of every grid voxel are first smoothed in space (Gaussian of that
 *   FWHM, rescaled to unit variance), so neighbouring voxels' noise is correlated as in real data.
 * Pure: the caller provides the (uniform) random source.
 */
import { scipyGaussianKernel, smoothVolumes } from '@orthostim/analysis';
import { createRng, type Rng } from '@orthostim/rdm';

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
  /** Spatially correlated noise: the grid and the FWHM (mm) of the Gaussian that correlates neighbours. */
  spatial?: { dims: readonly [number, number, number]; voxelSizesMm: readonly number[]; fwhmMm: number };
  /** Per brain voxel (in brainVoxels order): multiplier of the noise SD (heteroscedastic noise). */
  voxelScale?: Float32Array;
}

/**
 * Unit-variance AR(1) noise of every grid voxel (time-major, out[t * nGrid + g]), smoothed in space
 * by a Gaussian of `fwhmMm` and divided by the kernel's norm, so each voxel's variance stays ~1
 * (exactly 1 away from the grid's edges).
 */
export function spatialNoiseField(
  T: number,
  spatial: NonNullable<NoiseSettings['spatial']>,
  phi: number,
  uniform: Rng,
): Float32Array {
  const [nx, ny, nz] = spatial.dims;
  const nGrid = nx * ny * nz;
  const field = new Float32Array(nGrid * T);
  const z = new Float64Array(T);
  const innovation = Math.sqrt(1 - phi * phi);
  for (let g = 0; g < nGrid; g++) {
    fillNormal(z, uniform);
    let e = z[0]!;
    field[g] = e;
    for (let t = 1; t < T; t++) {
      e = phi * e + innovation * z[t]!;
      field[t * nGrid + g] = e;
    }
  }
  smoothVolumes(field, spatial.dims, spatial.voxelSizesMm, spatial.fwhmMm);
  let norm = 1;
  for (const size of spatial.voxelSizesMm) {
    const sigma = spatial.fwhmMm / (2 * Math.sqrt(2 * Math.LN2)) / size;
    if (sigma > 0) norm *= Math.sqrt(scipyGaussianKernel(sigma).reduce((s, w) => s + w * w, 0));
  }
  for (let i = 0; i < field.length; i++) field[i] = field[i]! / norm;
  return field;
}

/**
 * A participant's noise settings: its voxels' noise levels (heteroscedastic noise, drawn once from
 * `scaleSeed`: a voxel's level is its own in every run) and the spatial correlation, if any.
 */
export function participantNoise(
  o: { ar1: number; driftSdPsc: number; noiseFwhmMm: number; noiseHeteroscedasticity: number; voxelMm: number },
  noiseSdPsc: number,
  phantom: { dims: [number, number, number]; brainVoxels: Int32Array },
  scaleSeed: number,
): NoiseSettings {
  const v = o.voxelMm;
  return {
    noiseSdPsc,
    ar1: o.ar1,
    driftSdPsc: o.driftSdPsc,
    ...(o.noiseFwhmMm > 0 ? { spatial: { dims: phantom.dims, voxelSizesMm: [v, v, v], fwhmMm: o.noiseFwhmMm } } : {}),
    ...(o.noiseHeteroscedasticity > 0
      ? {
          voxelScale: heteroscedasticScale(phantom.brainVoxels.length, o.noiseHeteroscedasticity, createRng(scaleSeed)),
        }
      : {}),
  };
}

/** Noise SD multipliers m_v = exp(h z_v), scaled so that their mean square over the voxels is 1. */
export function heteroscedasticScale(nVoxels: number, logSd: number, uniform: Rng): Float32Array {
  const z = new Float64Array(nVoxels);
  fillNormal(z, uniform);
  const m = z.map((x) => Math.exp(logSd * x));
  const rms = Math.sqrt(m.reduce((s, x) => s + x * x, 0) / Math.max(1, nVoxels));
  return Float32Array.from(m, (x) => x / rms);
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
  // Voxels in blocks: each block's series are built voxel by voxel, then written volume by volume,
  // so the writes into the time-major output run along consecutive grid positions.
  const BLOCK = 256;
  const block = new Float64Array(BLOCK * T);
  const z = new Float64Array(T + 1);
  const weights = new Float64Array(K);
  const spatial = noise.noiseSdPsc > 0 && noise.spatial && noise.spatial.fwhmMm > 0 ? noise.spatial : undefined;
  const field = spatial ? spatialNoiseField(T, spatial, noise.ar1, uniform) : undefined;
  for (let p0 = 0; p0 < brainVoxels.length; p0 += BLOCK) {
    const nb = Math.min(BLOCK, brainVoxels.length - p0);
    block.fill(0, 0, nb * T);
    for (let b = 0; b < nb; b++) {
      const p = p0 + b;
      const o = b * T;
      if (driftWeightSd > 0) {
        fillNormal(weights, uniform);
        for (let k = 0; k < K; k++) {
          const w = weights[k]! * driftWeightSd;
          const c = run.driftBasis[k]!;
          for (let t = 0; t < T; t++) block[o + t] = block[o + t]! + w * c[t]!;
        }
      }
      addNoise(block, o, T, noise, p, field && { field, grid: brainVoxels[p]!, nGrid }, z, uniform);
      const er = evokedAt[p]!;
      if (er >= 0) {
        const eo = er * T;
        for (let t = 0; t < T; t++) block[o + t] = block[o + t]! + evoked[eo + t]!;
      }
      const base = baseline[p]!;
      for (let t = 0; t < T; t++) block[o + t] = base * (1 + block[o + t]! / 100);
    }
    for (let t = 0; t < T; t++) {
      const row = t * nGrid;
      for (let b = 0; b < nb; b++) out[row + brainVoxels[p0 + b]!] = block[b * T + t]!;
    }
  }
}

/**
 * Add voxel p's noise to its series at block[o .. o + T): its row of the spatial field, or a fresh
 * AR(1) series; SD noiseSdPsc times the voxel's scale.
 */
function addNoise(
  block: Float64Array,
  o: number,
  T: number,
  noise: NoiseSettings,
  p: number,
  spatial: { field: Float32Array; grid: number; nGrid: number } | undefined,
  z: Float64Array,
  uniform: Rng,
): void {
  if (!(noise.noiseSdPsc > 0)) return;
  const sd = noise.noiseSdPsc * (noise.voxelScale ? noise.voxelScale[p]! : 1);
  if (spatial) {
    for (let t = 0; t < T; t++) block[o + t] = block[o + t]! + sd * spatial.field[t * spatial.nGrid + spatial.grid]!;
    return;
  }
  const phi = noise.ar1;
  const innovation = noise.noiseSdPsc * Math.sqrt(1 - phi * phi);
  fillNormal(z, uniform);
  let e = z[0]! * sd;
  block[o] = block[o]! + e;
  const step = innovation * (sd / noise.noiseSdPsc);
  for (let t = 1; t < T; t++) {
    e = phi * e + step * z[t]!;
    block[o + t] = block[o + t]! + e;
  }
}

/**
 * Fill `out` with standard normal deviates from a uniform source (Marsaglia's polar method: both
 * values of each accepted pair used, no trigonometry): the bulk form of rdm's createNormalRng for
 * the simulation's hot loop (millions of draws per run).
 */
export function fillNormal(out: Float64Array, uniform: Rng): void {
  const n = out.length;
  let i = 0;
  while (i < n) {
    const u = 2 * uniform() - 1;
    const v = 2 * uniform() - 1;
    const q = u * u + v * v;
    if (q >= 1 || q === 0) continue;
    const f = Math.sqrt((-2 * Math.log(q)) / q);
    out[i++] = u * f;
    if (i < n) out[i++] = v * f;
  }
}

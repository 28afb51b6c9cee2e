/**
 * Crossnobis rows with the univariate noise normalisation: per voxel, the cross-validated pair sums
 * (sum_r d_r)^2 - sum_r d_r^2 over runs, so that a sphere's RDM is the mean of its voxels' rows
 * (sphere-rdms.ts describes the distance). Images absent from some runs use the runs where both are.
 */
import { pairCount } from '@orthostim/rdm';
import { UsageError } from '@orthostim/protocol';
import type { BetaSet } from './sphere-rdms';
import { copyVoxelBlock, VOXEL_BLOCK } from './voxel-major';

/**
 * Per pair of images, 1 / (m (m - 1)) with m the runs where both have a beta (`present`); NaN
 * where m < 2. Without `present` every pair has all R runs.
 */
export function crossnobisPairScales(nRuns: number, nImages: number, present?: Uint8Array): Float64Array {
  const scales = new Float64Array(pairCount(nImages));
  let k = 0;
  for (let i = 0; i < nImages; i++) {
    for (let j = i + 1; j < nImages; j++) {
      let m = 0;
      for (let r = 0; r < nRuns; r++) if (!present || (present[r * nImages + i] && present[r * nImages + j])) m++;
      scales[k++] = m >= 2 ? 1 / (m * (m - 1)) : Number.NaN;
    }
  }
  return scales;
}

/**
 * Crossnobis rows with absent images: as prepareCrossnobis, each pair over the m runs where both
 * images have a beta, scaled by 1 / (m (m - 1)). `x` holds the run's noise-normalized betas.
 */
function crossnobisPresentPairs(
  x: Float64Array,
  present: Uint8Array,
  scales: Float64Array,
  R: number,
  K: number,
  out: Float64Array,
  k0: number,
): void {
  let k = k0;
  for (let i = 0; i < K; i++) {
    for (let j = i + 1; j < K; j++) {
      let ds = 0;
      let within = 0;
      for (let r = 0; r < R; r++) {
        if (!present[r * K + i] || !present[r * K + j]) continue;
        const d = (x[r * K + i] as number) - (x[r * K + j] as number);
        ds += d;
        within += d * d;
      }
      out[k] = (ds * ds - within) * (scales[k - k0] as number);
      k++;
    }
  }
}

/**
 * Crossnobis rows: out[v * P + pair(i, j)] = ((sum_r d_r)^2 - sum_r d_r^2) / (R (R - 1)) with
 * d_r = (b_i,r - b_j,r) / sigma_r(v); the sphere RDM is the mean of its voxels' rows. With
 * `betas.present` (images absent from some runs) each pair sums over the m runs where both images
 * have a beta, / (m (m - 1)); a pair with m < 2 is NaN.
 */
export function prepareCrossnobis(betas: BetaSet, out: Float64Array, residualVariance?: ArrayLike<number>): void {
  const { nRuns: R, nImages: K, nVoxels: V } = betas;
  const P = pairCount(K);
  if (residualVariance && residualVariance.length !== V && residualVariance.length !== R * V) {
    throw new UsageError(
      `crossnobis: residual variance must hold one value per voxel (${V}) or per run and voxel (${R}*${V} = ${R * V}); got ${residualVariance.length}`,
    );
  }
  const perRun = residualVariance !== undefined && residualVariance.length === R * V;
  const x = new Float64Array(R * K);
  const s = new Float64Array(K);
  const scale = 1 / (R * (R - 1));
  const pairScales = betas.present ? crossnobisPairScales(R, K, betas.present) : null;
  const block = new Float64Array(R * K * VOXEL_BLOCK);
  let v0 = -VOXEL_BLOCK;
  let nv = 0;
  for (let v = 0; v < V; v++) {
    if (v >= v0 + nv) {
      v0 = v;
      nv = Math.min(VOXEL_BLOCK, V - v0);
      copyVoxelBlock(betas, v0, nv, block);
    }
    const t = v - v0;
    s.fill(0);
    const present = betas.present;
    for (let r = 0; r < R; r++) {
      let w = 1;
      if (residualVariance) {
        const sigma2 = residualVariance[perRun ? r * V + v : v] as number;
        w = sigma2 > 0 ? 1 / Math.sqrt(sigma2) : Number.NaN; // no noise estimate: the voxel is unusable
      }
      for (let i = 0; i < K; i++) {
        const b = (block[(r * K + i) * nv + t] as number) * w;
        x[r * K + i] = b;
        s[i] = (s[i] as number) + b;
      }
    }
    if (present) {
      crossnobisPresentPairs(x, present, pairScales!, R, K, out, v * P);
      continue;
    }
    let k = v * P;
    for (let i = 0; i < K; i++) {
      for (let j = i + 1; j < K; j++) {
        const ds = (s[i] as number) - (s[j] as number);
        let within = 0;
        for (let r = 0; r < R; r++) {
          const d = (x[r * K + i] as number) - (x[r * K + j] as number);
          within += d * d;
        }
        out[k++] = (ds * ds - within) * scale;
      }
    }
  }
}

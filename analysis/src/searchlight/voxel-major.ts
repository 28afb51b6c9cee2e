/**
 * Betas from [run][image][voxel] to voxel-major tables (one contiguous row per voxel), the layout
 * every sphere RDM reads (sphere-rdms.ts): raw betas, and run-averaged patterns.
 */
import type { BetaSet } from './sphere-rdms';

/** Voxels per block when transposing [run][image][voxel] to voxel-major: keeps the reads streaming. */
export const VOXEL_BLOCK = 512;

/**
 * Copy voxels v0 .. v0+nv of every (run, image) row into block[(r * K + i) * nv + t]: contiguous
 * reads from each row, so the later per-voxel loops stay in cache.
 */
export function copyVoxelBlock(betas: BetaSet, v0: number, nv: number, block: Float64Array): void {
  const rows = betas.nRuns * betas.nImages;
  const V = betas.nVoxels;
  const data = betas.data;
  for (let q = 0; q < rows; q++) {
    const src = q * V + v0;
    const dst = q * nv;
    for (let t = 0; t < nv; t++) block[dst + t] = data[src + t] as number;
  }
}

/** Raw betas voxel-major: out[v * R * K + r * K + i] = beta(run r, image i, voxel v). */
export function prepareRawBetas(betas: BetaSet, out: Float64Array): void {
  const { nRuns: R, nImages: K, nVoxels: V, data } = betas;
  const W = R * K;
  for (let q = 0; q < W; q++) for (let v = 0; v < V; v++) out[v * W + q] = data[q * V + v] as number;
}

/** Run-averaged patterns, voxel-major: out[v * K + i] = mean over runs of beta(run, i, v). */
export function prepareRunAverage(betas: BetaSet, out: Float64Array): void {
  const { nRuns: R, nImages: K, nVoxels: V } = betas;
  const block = new Float64Array(R * K * VOXEL_BLOCK);
  for (let v0 = 0; v0 < V; v0 += VOXEL_BLOCK) {
    const nv = Math.min(VOXEL_BLOCK, V - v0);
    copyVoxelBlock(betas, v0, nv, block);
    for (let t = 0; t < nv; t++) {
      const o = (v0 + t) * K;
      for (let i = 0; i < K; i++) {
        let sum = 0;
        for (let r = 0; r < R; r++) sum += block[(r * K + i) * nv + t] as number;
        out[o + i] = sum / R;
      }
    }
  }
}

/**
 * Percent signal change, as nilearn's `mean_scaling` (FirstLevelModel(signal_scaling=0)):
 * y <- 100 (y / mean(y) - 1) per voxel. Voxels that cannot be scaled are flagged instead of
 * producing numbers: any non-finite value, a mean of 0 (nilearn warns and divides by 1 there) or a
 * constant series (nothing to model). The GLM skips flagged voxels; their maps are NaN.
 */

export interface ScalingResult {
  /** Mean of each voxel's raw series (NaN where it has non-finite values). */
  mean: Float32Array;
  /** 1 = scaled and fitted, 0 = skipped. */
  valid: Uint8Array;
  skipped: { nonFinite: number; zeroMean: number; constant: number };
}

/** Scale voxel-major series (nVoxels x T) in place. */
export function scaleToPercentSignalChange(series: Float32Array, T: number): ScalingResult {
  const V = series.length / T;
  const mean = new Float32Array(V);
  const valid = new Uint8Array(V);
  const skipped = { nonFinite: 0, zeroMean: 0, constant: 0 };
  for (let v = 0; v < V; v++) {
    const o = v * T;
    let sum = 0;
    let lo = Infinity;
    let hi = -Infinity;
    for (let t = 0; t < T; t++) {
      const y = series[o + t]!;
      sum += y;
      if (y < lo) lo = y;
      if (y > hi) hi = y;
    }
    const m = sum / T;
    mean[v] = m;
    if (!Number.isFinite(sum) || Number.isNaN(lo) || Number.isNaN(hi)) {
      skipped.nonFinite++;
      mean[v] = Number.NaN;
      continue;
    }
    if (m === 0) {
      skipped.zeroMean++;
      continue;
    }
    if (lo === hi) {
      skipped.constant++;
      continue;
    }
    valid[v] = 1;
    const s = 100 / m;
    for (let t = 0; t < T; t++) series[o + t] = series[o + t]! * s - 100;
  }
  return { mean, valid, skipped };
}

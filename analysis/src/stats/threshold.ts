/**
 * Thresholded layer maps and the overlap (Dice) between them. A map's "significant voxels" are
 * those with p < alpha (FWE-corrected p from `signFlipTest` in the group analysis).
 */

/** The statistic where p < alpha, `fill` (default 0) elsewhere and where p is NaN. */
export function thresholdMap(stat: ArrayLike<number>, p: ArrayLike<number>, alpha = 0.05, fill = 0): Float32Array {
  if (stat.length !== p.length)
    throw new RangeError(`thresholdMap: ${stat.length} statistic values but ${p.length} p-values`);
  const out = new Float32Array(stat.length);
  for (let v = 0; v < stat.length; v++) out[v] = (p[v] as number) < alpha ? (stat[v] as number) : fill;
  return out;
}

/** 1 where p < alpha, else 0. */
export function significanceMask(p: ArrayLike<number>, alpha = 0.05): Uint8Array {
  const out = new Uint8Array(p.length);
  for (let v = 0; v < p.length; v++) out[v] = (p[v] as number) < alpha ? 1 : 0;
  return out;
}

/** A voxel is in a map when its value is nonzero and not NaN. */
function inMap(x: number): boolean {
  return x !== 0 && !Number.isNaN(x);
}

/**
 * Dice overlap 2 |A and B| / (|A| + |B|) of every pair of maps (symmetric, 1 on the diagonal).
 * Two empty maps have no defined overlap: NaN.
 */
export function diceMatrix(maps: readonly ArrayLike<number>[]): Float64Array {
  const L = maps.length;
  const n = L > 0 ? maps[0]!.length : 0;
  for (const m of maps)
    if (m.length !== n) throw new RangeError(`diceMatrix: maps must have equal sizes; got ${m.length} and ${n}`);
  const sizes = new Float64Array(L);
  const both = new Float64Array(L * L);
  for (let v = 0; v < n; v++) {
    for (let a = 0; a < L; a++) {
      if (!inMap(maps[a]![v] as number)) continue;
      sizes[a] = (sizes[a] as number) + 1;
      for (let b = a + 1; b < L; b++)
        if (inMap(maps[b]![v] as number)) both[a * L + b] = (both[a * L + b] as number) + 1;
    }
  }
  const out = new Float64Array(L * L);
  for (let a = 0; a < L; a++) {
    for (let b = a; b < L; b++) {
      const denom = (sizes[a] as number) + (sizes[b] as number);
      const d = denom === 0 ? Number.NaN : a === b ? 1 : (2 * (both[a * L + b] as number)) / denom;
      out[a * L + b] = d;
      out[b * L + a] = d;
    }
  }
  return out;
}

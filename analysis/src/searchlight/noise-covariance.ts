/**
 * Shrinkage covariance of a voxel group's GLM residuals, as rsatoolbox's
 * `rsatoolbox.data.noise.cov_from_residuals(residuals, dof, method)` (and its inverse,
 * `prec_from_residuals`), for the multivariate noise normalisation of crossnobis (Walther et al.
 * 2016). The residual matrix is n rows (time points of every run, stacked) x p voxels, each
 * column already demeaned over its n rows (rsatoolbox's `_check_demean`); with
 * S = sum_rows x x' and S2 = sum_rows (x x')^2 (element-wise):
 *
 * - 'shrinkage-diag' (`method='shrinkage_diag'`, rsatoolbox's default; Schaefer & Strimmer 2005):
 *   s = S / dof; r_ij = S_ij / (sd_i sd_j (n - 1)); var_ij = n / dof^2 (S2_ij / (s_ii s_jj (n - 1)) - r_ij^2);
 *   lambda = clip(sum_{i != j} var_ij / sum_{i != j} r_ij^2, 0, 1); off-diagonals of s times (1 - lambda).
 * - 'shrinkage-eye' (`method='shrinkage_eye'`; Ledoit & Wolf 2004): s = S / n, m = trace(s) / p,
 *   d2 = |s - m I|^2, b2 = min(d2, sum(S2 / n - s^2) / n); (b2 / d2 m I + (d2 - b2) / d2 s) n / dof.
 *
 * Only the upper triangle is computed; arrays are p x p row-major.
 */

export type NoiseShrinkage = 'shrinkage-diag' | 'shrinkage-eye';

/**
 * S and S2 of the voxel group `idx` from voxel-major residual rows (`rows[v * n .. v * n + n)`).
 * Fills the upper triangles of s and s2.
 */
export function residualCrossProducts(
  rows: Float32Array | Float64Array,
  n: number,
  idx: ArrayLike<number>,
  start: number,
  p: number,
  s: Float64Array,
  s2: Float64Array,
): void {
  for (let i = 0; i < p; i++) {
    const a = (idx[start + i] as number) * n;
    for (let j = i; j < p; j++) {
      const b = (idx[start + j] as number) * n;
      let sum = 0;
      let sum2 = 0;
      for (let t = 0; t < n; t++) {
        const x = (rows[a + t] as number) * (rows[b + t] as number);
        sum += x;
        sum2 += x * x;
      }
      s[i * p + j] = sum;
      s2[i * p + j] = sum2;
    }
  }
}

/** rsatoolbox `_covariance_diag`, in place on the upper triangle of s (S in, covariance out). */
function shrinkTowardsDiagonal(s: Float64Array, s2: Float64Array, p: number, n: number, dof: number): void {
  let varSum = 0;
  let rSum = 0;
  for (let i = 0; i < p; i++) {
    const vi = s[i * p + i]! / dof;
    for (let j = i + 1; j < p; j++) {
      const vj = s[j * p + j]! / dof;
      const r = s[i * p + j]! / Math.sqrt(vi * vj) / (n - 1);
      const r2mean = s2[i * p + j]! / (vi * vj) / (n - 1);
      varSum += (n / (dof * dof)) * (r2mean - r * r);
      rSum += r * r;
    }
  }
  const lambda = rSum > 0 ? Math.max(0, Math.min(1, varSum / rSum)) : 0;
  for (let i = 0; i < p; i++) {
    s[i * p + i] = s[i * p + i]! / dof;
    for (let j = i + 1; j < p; j++) s[i * p + j] = (s[i * p + j]! / dof) * (1 - lambda);
  }
}

/** rsatoolbox `_covariance_eye` (Ledoit-Wolf), in place on the upper triangle of s. */
function shrinkTowardsIdentity(s: Float64Array, s2: Float64Array, p: number, n: number, dof: number): void {
  let trace = 0;
  for (let i = 0; i < p; i++) trace += s[i * p + i]! / n;
  const m = trace / p;
  let d2 = 0;
  let b2 = 0;
  for (let i = 0; i < p; i++) {
    for (let j = i; j < p; j++) {
      const sij = s[i * p + j]! / n;
      const w = i === j ? 1 : 2; // the lower triangle counts too
      d2 += w * (sij - (i === j ? m : 0)) ** 2;
      b2 += (w * (s2[i * p + j]! / n - sij * sij)) / n;
    }
  }
  b2 = Math.min(d2, b2);
  // d2 = 0: s is already m I (one voxel), nothing to shrink (rsatoolbox would divide 0 by 0).
  const toIdentity = d2 > 0 ? b2 / d2 : 0;
  for (let i = 0; i < p; i++) {
    for (let j = i; j < p; j++) {
      const sij = s[i * p + j]! / n;
      s[i * p + j] = ((i === j ? toIdentity * m : 0) + (1 - toIdentity) * sij) * (n / dof);
    }
  }
}

export const NOISE_SHRINKAGES = {
  'shrinkage-diag': shrinkTowardsDiagonal,
  'shrinkage-eye': shrinkTowardsIdentity,
} as const satisfies Record<
  NoiseShrinkage,
  (s: Float64Array, s2: Float64Array, p: number, n: number, dof: number) => void
>;

/**
 * Cholesky factor L (lower, row-major, in place over the upper-triangle input read as symmetric):
 * cov = L L'. Returns false when cov is not positive definite.
 */
export function choleskyInPlace(a: Float64Array, p: number): boolean {
  for (let j = 0; j < p; j++) {
    let d = a[j * p + j]!;
    for (let k = 0; k < j; k++) d -= a[j * p + k]! ** 2;
    if (!(d > 0)) return false;
    const ljj = Math.sqrt(d);
    a[j * p + j] = ljj;
    for (let i = j + 1; i < p; i++) {
      let v = a[j * p + i]!; // upper triangle holds cov(j, i)
      for (let k = 0; k < j; k++) v -= a[i * p + k]! * a[j * p + k]!;
      a[i * p + j] = v / ljj;
    }
  }
  return true;
}

/** Solve L w = b in place (forward substitution); L from choleskyInPlace. */
export function forwardSubstitute(l: Float64Array, p: number, b: Float64Array, offset = 0): void {
  for (let i = 0; i < p; i++) {
    let v = b[offset + i]!;
    for (let k = 0; k < i; k++) v -= l[i * p + k]! * b[offset + k]!;
    b[offset + i] = v / l[i * p + i]!;
  }
}

/**
 * The small dense linear algebra the GLM needs on its K x K matrices (K = design columns, tens):
 * Gram matrices, a symmetric eigen-decomposition (cyclic Jacobi) and the pseudo-inverse built
 * from it. Row-major Float64Arrays. The large T x V products live in fit-glm.ts.
 */

/** X'X of a row-major n x k matrix. */
export function gramMatrix(x: Float64Array, n: number, k: number): Float64Array {
  const g = new Float64Array(k * k);
  for (let t = 0; t < n; t++) {
    const row = t * k;
    for (let i = 0; i < k; i++) {
      const xi = x[row + i]!;
      if (xi === 0) continue;
      for (let j = i; j < k; j++) g[i * k + j] = g[i * k + j]! + xi * x[row + j]!;
    }
  }
  for (let i = 0; i < k; i++) for (let j = 0; j < i; j++) g[i * k + j] = g[j * k + i]!;
  return g;
}

/** Eigenvalues and eigenvectors (columns of `vectors`, row-major) of a symmetric n x n matrix. */
export function symmetricEigen(a: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  const m = Float64Array.from(a);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    let diag = 0;
    for (let p = 0; p < n; p++) {
      diag += m[p * n + p]! ** 2;
      for (let q = p + 1; q < n; q++) off += m[p * n + q]! ** 2;
    }
    if (off <= 1e-30 * diag || off === 0) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = m[p * n + q]!;
        if (Math.abs(apq) < 1e-300) continue;
        const app = m[p * n + p]!;
        const aqq = m[q * n + q]!;
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const mkp = m[k * n + p]!;
          const mkq = m[k * n + q]!;
          m[k * n + p] = c * mkp - s * mkq;
          m[k * n + q] = s * mkp + c * mkq;
        }
        for (let k = 0; k < n; k++) {
          const mpk = m[p * n + k]!;
          const mqk = m[q * n + k]!;
          m[p * n + k] = c * mpk - s * mqk;
          m[q * n + k] = s * mpk + c * mqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p]!;
          const vkq = v[k * n + q]!;
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = m[i * n + i]!;
  return { values, vectors: v };
}

/**
 * Pseudo-inverse of a symmetric positive semi-definite matrix (a Gram matrix X'X). Eigenvalues
 * below `relTol` x the largest count as zero; `rank` is how many remain. pinv(X'X) X' = pinv(X),
 * so this gives the least-squares (minimum-norm) solution for rank-deficient designs too.
 */
export function pinvSymmetric(a: Float64Array, n: number, relTol = 1e-12): { inverse: Float64Array; rank: number } {
  const { values, vectors } = symmetricEigen(a, n);
  let max = 0;
  for (const v of values) max = Math.max(max, Math.abs(v));
  const inv = new Float64Array(n * n);
  let rank = 0;
  for (let e = 0; e < n; e++) {
    const lambda = values[e]!;
    if (!(lambda > relTol * max)) continue;
    rank++;
    const w = 1 / lambda;
    for (let i = 0; i < n; i++) {
      const vi = vectors[i * n + e]! * w;
      if (vi === 0) continue;
      for (let j = 0; j < n; j++) inv[i * n + j] = inv[i * n + j]! + vi * vectors[j * n + e]!;
    }
  }
  return { inverse: inv, rank };
}

/** y = A x for a row-major n x n matrix. */
export function matVec(
  a: Float64Array,
  x: ArrayLike<number>,
  n: number,
  out = new Float64Array(n),
  xOffset = 0,
): Float64Array {
  for (let i = 0; i < n; i++) {
    let s = 0;
    const r = i * n;
    for (let j = 0; j < n; j++) s += a[r + j]! * x[xOffset + j]!;
    out[i] = s;
  }
  return out;
}

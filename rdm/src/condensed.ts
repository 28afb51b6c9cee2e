/**
 * Condensed RDMs: the upper triangle without the diagonal, row-major
 * ((0,1),(0,2),...,(0,n-1),(1,2),...), length n(n-1)/2 -- the layout of stimulus-set.json and
 * of scipy's `squareform`.
 */
import { RdmError } from './errors';

/** Number of image pairs of an n-image RDM: n(n-1)/2. */
export function pairCount(n: number): number {
  if (!Number.isInteger(n) || n < 0) throw new RdmError(`pairCount: n must be a non-negative integer; got ${n}`);
  return n < 2 ? 0 : (n * (n - 1)) / 2; // n = 0 would give -0
}

/**
 * Position of pair (i, j) in the condensed vector. Requires 0 <= i < j < n (i > j is swapped,
 * since an RDM is symmetric); i == j has no entry.
 */
export function condensedIndex(i: number, j: number, n: number): number {
  if (i > j) [i, j] = [j, i];
  if (!(i >= 0 && j < n && i !== j) || !Number.isInteger(i) || !Number.isInteger(j)) {
    throw new RdmError(`condensedIndex: need 0 <= i < j < n with i != j; got i=${i}, j=${j}, n=${n}`);
  }
  return i * n - (i * (i + 1)) / 2 + (j - i - 1);
}

/**
 * Number of images n whose RDM has `pairs` entries. Throws when `pairs` is not triangular.
 * 0 pairs gives 1 (a one-image set; n = 0 is no set at all).
 */
export function imageCountFromPairs(pairs: number): number {
  const n = Math.round((1 + Math.sqrt(1 + 8 * pairs)) / 2);
  if (!Number.isInteger(pairs) || pairs < 0 || (n * (n - 1)) / 2 !== pairs) {
    throw new RdmError(
      `imageCountFromPairs: ${pairs} is not n(n-1)/2 for any image count n (expected 1, 3, 6, 10, 15, ...)`,
    );
  }
  return n;
}

function checkLength(where: string, length: number, expected: number, n: number): void {
  if (length !== expected) {
    throw new RdmError(`${where}: expected ${expected} values for n=${n}; got ${length}`);
  }
}

/** Square n x n form (row-major, symmetric, zero diagonal) of a condensed RDM. */
export function toSquare(rdm: ArrayLike<number>, n: number): Float64Array {
  checkLength('toSquare', rdm.length, pairCount(n), n);
  const m = new Float64Array(n * n);
  let k = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const v = rdm[k++] as number;
      m[i * n + j] = v;
      m[j * n + i] = v;
    }
  }
  return m;
}

/** Condensed form of a square n x n matrix (row-major); reads the upper triangle only. */
export function fromSquare(m: ArrayLike<number>, n: number): Float64Array {
  checkLength('fromSquare', m.length, n * n, n);
  const out = new Float64Array(pairCount(n));
  let k = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) out[k++] = m[i * n + j] as number;
  }
  return out;
}

/**
 * n x n row-major mask, 1 strictly above the diagonal. TF.js code multiplies or `where`s with it
 * because gather's gradient is missing on the wasm backend; pass it as a 'bool' or 'float32'
 * tensor (both accept a Uint8Array). Masked elements come out in condensed order.
 */
export function upperTriangleMask(n: number): Uint8Array {
  pairCount(n);
  const mask = new Uint8Array(n * n);
  for (let i = 0; i < n; i++) mask.fill(1, i * n + i + 1, (i + 1) * n);
  return mask;
}

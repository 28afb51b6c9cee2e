/**
 * The `unique` residual variant: each layer's unique variance in a cross-validated multiple
 * regression of a sphere's RDM on all layers' RDMs (with an intercept).
 *
 * Folds are over images, not pairs (pairs that share an image are not independent): image i
 * belongs to fold i mod K. Fold f trains on the pairs of images outside it and tests on every pair
 * with at least one image inside it. For a model (a set of columns) the cross-validated error is
 * the sum over folds of the test pairs' squared prediction errors; the layer's unique variance is
 *
 *   (SSE without the layer - SSE with all layers) / SSE of the intercept alone,
 *
 * a difference of cross-validated R^2 (negative when the layer makes predictions worse). Maps hold
 * its signed square root, on the scale of a (semipartial) correlation, so Fisher z and the group
 * test apply as to the other variants. In-sample (no folds) it would be the squared semipartial
 * correlation exactly.
 *
 * Per sphere everything is linear in the sphere vector x: the training cross-products are
 * X'x minus the test pairs' X_f'x_f, and each fold's test error follows from small matrices
 * prepared once (the inverse of the training Gram and the test Gram of each model and fold), so a
 * sphere costs about 3 P (L + 1) multiplications plus O(K L^4) for the small matrices.
 */
import { pairCount } from '@orthostim/rdm';

/** Prepared once per model set; plain typed arrays so it travels to worker threads. */
export interface UniquePlan {
  /** Columns: intercept and the L layers. */
  readonly d: number;
  readonly nPairs: number;
  readonly folds: number;
  /** P x d row-major design: 1 then each layer's (ranked) RDM. */
  readonly design: Float64Array;
  /** Test pairs of fold f: testPairs[testOffsets[f] .. testOffsets[f + 1]). */
  readonly testOffsets: Int32Array;
  readonly testPairs: Int32Array;
  /**
   * Sub-models s = 0 (intercept), 1 (all layers), 2 + l (all but layer l): their columns at
   * columns[colOffsets[s] ..], and per (s, f) the inverse training Gram and the test Gram
   * (k x k each, k = the model's column count) at matOffsets[s * folds + f].
   */
  readonly colOffsets: Int32Array;
  readonly columns: Int32Array;
  readonly matOffsets: Int32Array;
  readonly inverses: Float64Array;
  readonly testGrams: Float64Array;
}

export const DEFAULT_UNIQUE_FOLDS = 8;

/** Image i and j of condensed pair k, for n images. */
function pairImages(n: number): Int32Array {
  const out = new Int32Array(pairCount(n) * 2);
  let k = 0;
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++) {
      out[k++] = i;
      out[k++] = j;
    }
  return out;
}

/** Inverse of a symmetric k x k matrix by Gauss-Jordan with a tiny ridge (collinear layers stay finite). */
export function invertSymmetric(a: Float64Array, k: number): Float64Array {
  const m = Float64Array.from(a);
  let trace = 0;
  for (let i = 0; i < k; i++) trace += m[i * k + i]!;
  for (let i = 0; i < k; i++) m[i * k + i] = m[i * k + i]! + 1e-12 * (trace / k || 1);
  const inv = new Float64Array(k * k);
  for (let i = 0; i < k; i++) inv[i * k + i] = 1;
  for (let c = 0; c < k; c++) {
    let pivot = c;
    for (let r = c + 1; r < k; r++) if (Math.abs(m[r * k + c]!) > Math.abs(m[pivot * k + c]!)) pivot = r;
    if (pivot !== c)
      for (let j = 0; j < k; j++) {
        [m[c * k + j], m[pivot * k + j]] = [m[pivot * k + j]!, m[c * k + j]!];
        [inv[c * k + j], inv[pivot * k + j]] = [inv[pivot * k + j]!, inv[c * k + j]!];
      }
    const p = m[c * k + c]!;
    for (let j = 0; j < k; j++) {
      m[c * k + j] = m[c * k + j]! / p;
      inv[c * k + j] = inv[c * k + j]! / p;
    }
    for (let r = 0; r < k; r++) {
      if (r === c) continue;
      const f = m[r * k + c]!;
      if (f === 0) continue;
      for (let j = 0; j < k; j++) {
        m[r * k + j] = m[r * k + j]! - f * m[c * k + j]!;
        inv[r * k + j] = inv[r * k + j]! - f * inv[c * k + j]!;
      }
    }
  }
  return inv;
}

/** Gram matrix of the given columns over the given pairs. */
function gramOver(plan: { design: Float64Array; d: number }, cols: Int32Array, pairs: Iterable<number>): Float64Array {
  const k = cols.length;
  const g = new Float64Array(k * k);
  for (const p of pairs) {
    const row = p * plan.d;
    for (let a = 0; a < k; a++) {
      const xa = plan.design[row + cols[a]!]!;
      for (let b = a; b < k; b++) g[a * k + b] = g[a * k + b]! + xa * plan.design[row + cols[b]!]!;
    }
  }
  for (let a = 0; a < k; a++) for (let b = 0; b < a; b++) g[a * k + b] = g[b * k + a]!;
  return g;
}

/** The plan for `nImages` images and L layer vectors (each length P, already ranked for rank comparators). */
export function prepareUniquePlan(
  layerVectors: readonly ArrayLike<number>[],
  nImages: number,
  folds = DEFAULT_UNIQUE_FOLDS,
): UniquePlan {
  const L = layerVectors.length;
  const d = L + 1;
  const P = pairCount(nImages);
  const K = Math.max(2, Math.min(folds, nImages));
  const design = new Float64Array(P * d);
  for (let p = 0; p < P; p++) {
    design[p * d] = 1;
    for (let l = 0; l < L; l++) design[p * d + 1 + l] = layerVectors[l]![p]!;
  }
  const images = pairImages(nImages);
  const testLists: number[][] = Array.from({ length: K }, () => []);
  for (let p = 0; p < P; p++) {
    const fi = images[2 * p]! % K;
    const fj = images[2 * p + 1]! % K;
    testLists[fi]!.push(p);
    if (fj !== fi) testLists[fj]!.push(p);
  }
  const testOffsets = new Int32Array(K + 1);
  testLists.forEach((t, f) => (testOffsets[f + 1] = testOffsets[f]! + t.length));
  const testPairs = Int32Array.from(testLists.flat());
  const subsets: number[][] = [[0], Array.from({ length: d }, (_, c) => c)];
  for (let l = 0; l < L; l++) subsets.push(Array.from({ length: d }, (_, c) => c).filter((c) => c !== l + 1));
  const colOffsets = new Int32Array(subsets.length + 1);
  subsets.forEach((s, i) => (colOffsets[i + 1] = colOffsets[i]! + s.length));
  const columns = Int32Array.from(subsets.flat());
  const matOffsets = new Int32Array(subsets.length * K + 1);
  const inverses: number[] = [];
  const testGrams: number[] = [];
  const plan = { design, d };
  const all = Array.from({ length: P }, (_, p) => p);
  subsets.forEach((s, si) => {
    const cols = Int32Array.from(s);
    const full = gramOver(plan, cols, all);
    for (let f = 0; f < K; f++) {
      const test = gramOver(plan, cols, testLists[f]!);
      const train = full.map((v, i) => v - test[i]!);
      inverses.push(...invertSymmetric(train, s.length));
      testGrams.push(...test);
      matOffsets[si * K + f + 1] = matOffsets[si * K + f]! + s.length * s.length;
    }
  });
  return {
    d,
    nPairs: P,
    folds: K,
    design,
    testOffsets,
    testPairs,
    colOffsets,
    columns,
    matOffsets,
    inverses: Float64Array.from(inverses),
    testGrams: Float64Array.from(testGrams),
  };
}

export interface UniqueScratch {
  readonly g: Float64Array;
  readonly c: Float64Array;
  readonly b: Float64Array;
  readonly beta: Float64Array;
  readonly sse: Float64Array;
}

export function createUniqueScratch(plan: UniquePlan): UniqueScratch {
  const d = plan.d;
  return {
    g: new Float64Array(d),
    c: new Float64Array(d),
    b: new Float64Array(d),
    beta: new Float64Array(d),
    sse: new Float64Array(d + 1),
  };
}

/**
 * Signed square root of each layer's cross-validated unique variance for sphere vector x
 * (length P; ranks or values as the plan's columns), into out[l] (l = 0 .. L-1). NaN when the
 * intercept-only error is zero.
 */
export function uniqueVariances(
  x: ArrayLike<number>,
  plan: UniquePlan,
  out: Float64Array,
  scratch = createUniqueScratch(plan),
): void {
  const { d, design, folds: K, testOffsets, testPairs, colOffsets, columns, matOffsets, inverses, testGrams } = plan;
  const { g, c, b, beta, sse } = scratch;
  const P = plan.nPairs;
  g.fill(0);
  for (let p = 0; p < P; p++) {
    const xp = x[p]!;
    const row = p * d;
    for (let a = 0; a < d; a++) g[a] = g[a]! + design[row + a]! * xp;
  }
  const S = colOffsets.length - 1;
  sse.fill(0, 0, S);
  for (let f = 0; f < K; f++) {
    c.fill(0);
    let t = 0;
    for (let q = testOffsets[f]!; q < testOffsets[f + 1]!; q++) {
      const p = testPairs[q]!;
      const xp = x[p]!;
      t += xp * xp;
      const row = p * d;
      for (let a = 0; a < d; a++) c[a] = c[a]! + design[row + a]! * xp;
    }
    for (let a = 0; a < d; a++) b[a] = g[a]! - c[a]!;
    for (let s = 0; s < S; s++) {
      const c0 = colOffsets[s]!;
      const k = colOffsets[s + 1]! - c0;
      const m0 = matOffsets[s * K + f]!;
      // beta = A b_S; error = t - 2 beta'c_S + beta' G beta
      let cross = 0;
      for (let i = 0; i < k; i++) {
        let v = 0;
        for (let j = 0; j < k; j++) v += inverses[m0 + i * k + j]! * b[columns[c0 + j]!]!;
        beta[i] = v;
        cross += v * c[columns[c0 + i]!]!;
      }
      let quad = 0;
      for (let i = 0; i < k; i++) {
        let v = 0;
        for (let j = 0; j < k; j++) v += testGrams[m0 + i * k + j]! * beta[j]!;
        quad += beta[i]! * v;
      }
      sse[s] = sse[s]! + t - 2 * cross + quad;
    }
  }
  const base = sse[0]!;
  for (let l = 0; l < d - 1; l++) {
    const u = (sse[2 + l]! - sse[1]!) / base;
    const v = u >= 0 ? Math.sqrt(u) : -Math.sqrt(-u);
    out[l] = base > 0 ? (v > 1 ? 1 : v < -1 ? -1 : v) : Number.NaN;
  }
}

/**
 * Activation-residual RDMs (the `activation` variant of the residual method, docs/residual.md):
 * for each layer, the RDM of its activation patterns with what the other layers' activations
 * predict removed.
 *
 * The prediction is a ridge regression of the layer's features on all other layers' features
 * (with an unpenalized intercept), cross-validated over images: each image's residual comes from
 * the model fitted to the other n - 1 images (leave-one-image-out). With far more features than
 * images everything runs on n x n Gram matrices (kernel ridge with a linear kernel, the same
 * predictions): the other layers' kernel K (each layer's centred Gram scaled to unit mean
 * diagonal, so every layer weighs the same), the smoother H = J/n + Kc (Kc + lambda I)^-1 with
 * Kc = C K C, and the exact leave-one-out residuals R = D^-1 (I - H) Y, D = diag(1 - H_ii), whose
 * Gram matrix M G M' (M = D^-1 (I - H), G the layer's own Gram) gives the residual RDM through the
 * distance's own `fromGram`. Residual rows are combinations of the layer's rows, so for correlation
 * distance (rows centred over features) they stay centred, and their cosine is their correlation.
 *
 * lambda is chosen per layer from a grid (relative to the mean eigenvalue of Kc) by the
 * leave-one-out error itself, the trace of M G M'. No activation is stored: the inputs are the
 * Gram matrices features.ts accumulates anyway.
 */
import { pairCount, PATTERN_DISTANCES, type PatternDistance } from '@orthostim/rdm';

export const ACTIVATION_RESIDUAL_METHOD =
  "ridge regression on the other layers' activations (linear-kernel ridge with intercept), leave-one-image-out; penalty chosen by the leave-one-out error";

/** Ridge penalties tried, relative to the mean eigenvalue of the other layers' centred kernel. */
export const DEFAULT_PENALTY_GRID = [0.001, 0.01, 0.1, 1, 10, 100] as const;

export interface ActivationResiduals {
  /** Condensed residual RDM per layer. */
  rdms: Float64Array[];
  /** Share of each layer's (centred) activation variance the other layers predict, leave-one-out (can be < 0). */
  explained: number[];
  /** Penalty chosen for each layer, relative to the mean eigenvalue of the other layers' kernel. */
  penalty: number[];
}

/** C A C for symmetric n x n A (C = I - J/n): double centring. */
function doubleCenter(a: Float64Array, n: number): Float64Array {
  const row = new Float64Array(n);
  let all = 0;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += a[i * n + j]!;
    row[i] = s / n;
    all += s;
  }
  all /= n * n;
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[i * n + j] = a[i * n + j]! - row[i]! - row[j]! + all;
  return out;
}

/** Inverse of a symmetric positive definite n x n matrix by Cholesky. */
export function invertSpd(a: Float64Array, n: number): Float64Array {
  const l = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let d = a[j * n + j]!;
    for (let k = 0; k < j; k++) d -= l[j * n + k]! ** 2;
    if (!(d > 0)) throw new RangeError(`invertSpd: matrix is not positive definite (pivot ${j}: ${d})`);
    const ljj = Math.sqrt(d);
    l[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let s = a[i * n + j]!;
      for (let k = 0; k < j; k++) s -= l[i * n + k]! * l[j * n + k]!;
      l[i * n + j] = s / ljj;
    }
  }
  // inv(L) by forward substitution, then inv(A) = inv(L)' inv(L).
  const li = new Float64Array(n * n);
  for (let c = 0; c < n; c++) {
    li[c * n + c] = 1 / l[c * n + c]!;
    for (let i = c + 1; i < n; i++) {
      let s = 0;
      for (let k = c; k < i; k++) s -= l[i * n + k]! * li[k * n + c]!;
      li[i * n + c] = s / l[i * n + i]!;
    }
  }
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = i; k < n; k++) s += li[k * n + i]! * li[k * n + j]!;
      inv[i * n + j] = s;
      inv[j * n + i] = s;
    }
  return inv;
}

function multiply(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let k = 0; k < n; k++) {
      const aik = a[i * n + k]!;
      if (aik === 0) continue;
      for (let j = 0; j < n; j++) out[i * n + j] = out[i * n + j]! + aik * b[k * n + j]!;
    }
  return out;
}

/** M G M' with M = D^-1 (I - H) for the kernel kc at penalty lambda: the leave-one-out residuals' Gram. */
export function looResidualGram(kc: Float64Array, gram: Float64Array, n: number, lambda: number): Float64Array {
  const reg = Float64Array.from(kc);
  for (let i = 0; i < n; i++) reg[i * n + i] = reg[i * n + i]! + lambda;
  const s = multiply(kc, invertSpd(reg, n), n);
  const m = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const hii = 1 / n + s[i * n + i]!;
    const scale = 1 / (1 - hii);
    for (let j = 0; j < n; j++) m[i * n + j] = ((i === j ? 1 : 0) - 1 / n - s[i * n + j]!) * scale;
  }
  const mg = multiply(m, gram, n);
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j <= i; j++) {
      let v = 0;
      for (let k = 0; k < n; k++) v += mg[i * n + k]! * m[j * n + k]!;
      out[i * n + j] = v;
      out[j * n + i] = v;
    }
  return out;
}

function trace(a: Float64Array, n: number): number {
  let t = 0;
  for (let i = 0; i < n; i++) t += a[i * n + i]!;
  return t;
}

/** The condensed RDM of a Gram matrix under a pattern distance. */
function rdmFromGram(g: Float64Array, n: number, distance: PatternDistance): Float64Array {
  const { fromGram } = PATTERN_DISTANCES[distance];
  const out = new Float64Array(pairCount(n));
  let k = 0;
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++) out[k++] = fromGram(g[i * n + i]!, g[j * n + j]!, g[i * n + j]!);
  return out;
}

/**
 * Activation-residual RDMs from each layer's n x n Gram matrix of its (distance-prepared) rows, in
 * layer order. Needs at least 2 layers and 4 images.
 */
export function computeActivationResiduals(
  grams: readonly Float64Array[],
  n: number,
  distance: PatternDistance,
  penaltyGrid: readonly number[] = DEFAULT_PENALTY_GRID,
): ActivationResiduals {
  const L = grams.length;
  if (L < 2) throw new RangeError(`computeActivationResiduals: needs at least 2 layers; got ${L}`);
  if (n < 4) throw new RangeError(`computeActivationResiduals: needs at least 4 images; got ${n}`);
  const centred = grams.map((g) => {
    const c = doubleCenter(g, n);
    const scale = trace(c, n) / n;
    return { c, scale: scale > 0 ? scale : 1 };
  });
  const out: ActivationResiduals = { rdms: [], explained: [], penalty: [] };
  for (let l = 0; l < L; l++) {
    const kc = new Float64Array(n * n);
    for (let k = 0; k < L; k++) {
      if (k === l) continue;
      const { c, scale } = centred[k]!;
      for (let i = 0; i < n * n; i++) kc[i] = kc[i]! + c[i]! / scale;
    }
    const meanEigen = trace(kc, n) / n;
    let best: { error: number; gram: Float64Array; penalty: number } | undefined;
    for (const alpha of penaltyGrid) {
      const gram = looResidualGram(kc, grams[l]!, n, alpha * meanEigen);
      const error = trace(gram, n);
      if (!best || error < best.error) best = { error, gram, penalty: alpha };
    }
    out.rdms.push(rdmFromGram(best!.gram, n, distance));
    out.explained.push(1 - best!.error / trace(centred[l]!.c, n));
    out.penalty.push(best!.penalty);
  }
  return out;
}

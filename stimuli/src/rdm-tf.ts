/**
 * The differentiable TF.js twins of the typed-array RDM math in @orthostim/rdm ("one spec, two
 * implementations"): same names with a `Tf` suffix, same conventions (condensed upper triangle,
 * row-major; 1 - r clamped to [0, 2]; NaN for a zero row), tested against rdm/ on the same inputs.
 *
 * Every distance is computed from a Gram matrix (one matMul, fast for any feature count p):
 *   correlation  rows centred and scaled to unit length, then 1 - Z Z^T
 *   cosine       rows scaled to unit length, then 1 - Z Z^T
 *   (sq)euclidean  rows shifted by a common vector (the column mean: distances do not change, but
 *                float32 cancellation in G_ii + G_jj - 2 G_ij does), then from the Gram entries.
 *
 * Precision: float32 sums and dot products over the 800,000 features of conv1 lose up to 1e-4 of
 * a correlation distance on wasm (its kernels accumulate sequentially). Row sums and Gram products
 * therefore add up chunks of 1,024 features first and then the chunk results (two sums of about
 * sqrt(p) terms each), which keeps the RDMs within 1e-5 of rdm/'s float64 reference (tested at
 * conv1's size on activation-like data).
 *
 * Condensing (n x n -> upper triangle) uses one `slice` per row and one `concat`, whose gradients
 * (pad and slice) exist on every backend. `gather`/`booleanMask` would need UnsortedSegmentSum for
 * the gradient, which wasm lacks, and a 0/1 selection-matrix matMul is n^2 x n(n-1)/2: 200 MB at
 * n = 100.
 */
import * as tf from '@tensorflow/tfjs';
import { PATTERN_DISTANCE_NAMES, type PatternDistance } from '@orthostim/rdm';

export type TfDistance = PatternDistance;

interface TfDistanceSpec {
  /** Row-local transform applied before the Gram matrix (never mixes images). */
  prepareRows: (x: tf.Tensor2D) => tf.Tensor2D;
  /** True when prepared rows have unit length, so the distance is 1 - G_ij. */
  unitRows: boolean;
  /** Distance from the squared norms of rows i (column, n x 1), j (row, 1 x m) and G_ij (n x m). */
  fromGram: (gii: tf.Tensor2D, gjj: tf.Tensor2D, gij: tf.Tensor2D) => tf.Tensor2D;
}

/** Features per chunk of the two-level sums and Gram products (see the module comment). */
const CHUNK = 1024;

/** Row sums (n x 1), summed chunk by chunk. */
export function rowSumTf(x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const [n, p] = x.shape;
    if (p <= CHUNK) return tf.sum(x, 1, true) as tf.Tensor2D;
    const c = Math.ceil(p / CHUNK);
    const padded =
      c * CHUNK === p
        ? x
        : tf.pad(x, [
            [0, 0],
            [0, c * CHUNK - p],
          ]);
    return tf.sum(tf.sum(tf.reshape(padded, [n, c, CHUNK]), 2), 1, true) as tf.Tensor2D;
  });
}

/** x (n x p) as [C, n, CHUNK]: C chunks of CHUNK features, zero-padded (zeros change no product). */
function chunkColumnsTf(x: tf.Tensor2D): tf.Tensor3D {
  const [n, p] = x.shape;
  const c = Math.ceil(p / CHUNK);
  const padded =
    c * CHUNK === p
      ? x
      : tf.pad(x, [
          [0, 0],
          [0, c * CHUNK - p],
        ]);
  return tf.transpose(tf.reshape(padded, [n, c, CHUNK]), [1, 0, 2]);
}

/**
 * a (n x p) times b (m x p) transposed: the n x m Gram block. For p > 1,024 the product is
 * summed over chunks of 1,024 features (a batched matMul, then a sum over the chunks): wasm's
 * matMul accumulates along the whole inner dimension in float32, which costs up to 6e-5 of a
 * correlation distance at conv1's 800,000 features; chunked, the RDMs stay within 1e-5.
 * The chunking copies the rows once (pad + transpose), cheap next to a network pass for the
 * dozens of images of a synthesis step; features.ts chunks its large panels itself.
 */
export function gramTf(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    if (a.shape[1] <= CHUNK) return tf.matMul(a, b, false, true);
    const ca = chunkColumnsTf(a);
    const cb = a === b ? ca : chunkColumnsTf(b);
    return tf.sum(tf.matMul(ca, cb, false, true), 0) as tf.Tensor2D;
  });
}

/** Scale each row to unit length; a zero row gives 0/0 = NaN, as in rdm/ (it has no direction). */
function unitRowsTf(x: tf.Tensor2D): tf.Tensor2D {
  return tf.div(x, tf.sqrt(rowSumTf(tf.square(x) as tf.Tensor2D))) as tf.Tensor2D;
}

/** Subtract each row's mean (the first half of Pearson). */
export function centerRowsTf(x: tf.Tensor2D): tf.Tensor2D {
  return tf.sub(x, tf.div(rowSumTf(x), x.shape[1])) as tf.Tensor2D;
}

/** Clamp to [lo, hi] keeping NaN (tf.clipByValue turns NaN into lo on wasm). */
function clampTf<T extends tf.Tensor>(x: T, lo: number, hi: number): T {
  return tf.minimum(tf.maximum(x, lo), hi) as unknown as T;
}

// 1 - r clamped to [0, 2] against rounding, as in rdm/.
const oneMinusGram = (_gii: tf.Tensor2D, _gjj: tf.Tensor2D, gij: tf.Tensor2D): tf.Tensor2D =>
  clampTf(tf.sub(1, gij), 0, 2);
const squaredEuclideanTf = (gii: tf.Tensor2D, gjj: tf.Tensor2D, gij: tf.Tensor2D): tf.Tensor2D =>
  tf.relu(tf.sub(tf.add(gii, gjj), tf.mul(2, gij))) as tf.Tensor2D;

export const TF_DISTANCES = {
  correlation: { prepareRows: (x) => unitRowsTf(centerRowsTf(x)), unitRows: true, fromGram: oneMinusGram },
  cosine: { prepareRows: unitRowsTf, unitRows: true, fromGram: oneMinusGram },
  // sqrt has an infinite gradient at 0: identical images make the euclidean gradient NaN.
  euclidean: { prepareRows: (x) => x, unitRows: false, fromGram: (a, b, g) => tf.sqrt(squaredEuclideanTf(a, b, g)) },
  sqeuclidean: { prepareRows: (x) => x, unitRows: false, fromGram: squaredEuclideanTf },
} as const satisfies Record<TfDistance, TfDistanceSpec>;

function specOf(where: string, distance: string): TfDistanceSpec {
  if (!Object.hasOwn(TF_DISTANCES, distance)) {
    throw new RangeError(
      `${where}: distance must be one of ${PATTERN_DISTANCE_NAMES.join(', ')}; got ${JSON.stringify(distance)}`,
    );
  }
  return TF_DISTANCES[distance as TfDistance];
}

/** Rows as the Gram matrix of `distance` wants them (see the module comment). Shape n x p. */
export function prepareRowsTf(x: tf.Tensor2D, distance: TfDistance): tf.Tensor2D {
  return tf.tidy(() => specOf('prepareRowsTf', distance).prepareRows(x));
}

/**
 * Distances between prepared rows `a` (n x p) and `b` (m x p) as an n x m matrix. This is the
 * block form of the RDM.
 */
export function crossDistancesTf(a: tf.Tensor2D, b: tf.Tensor2D, distance: TfDistance): tf.Tensor2D {
  const spec = specOf('crossDistancesTf', distance);
  return tf.tidy(() => {
    const gij = gramTf(a, b);
    if (spec.unitRows) return spec.fromGram(gij, gij, gij);
    const gii = rowSumTf(tf.square(a) as tf.Tensor2D);
    const gjj = tf.reshape(rowSumTf(tf.square(b) as tf.Tensor2D), [1, -1]) as tf.Tensor2D;
    return spec.fromGram(gii, gjj, gij);
  });
}

/** Upper triangle without the diagonal of a square matrix, row-major: (0,1), (0,2), ..., (1,2), ... */
export function upperTriangleTf(m: tf.Tensor2D): tf.Tensor1D {
  const [n, cols] = m.shape;
  if (n !== cols) throw new RangeError(`upperTriangleTf: need a square matrix; got ${n} x ${cols}`);
  if (n < 2) return tf.zeros([0]);
  return tf.tidy(() => {
    const rows: tf.Tensor2D[] = [];
    for (let i = 0; i < n - 1; i++) rows.push(tf.slice(m, [i, i + 1], [1, n - i - 1]));
    return tf.reshape(rows.length === 1 ? rows[0]! : tf.concat(rows, 1), [-1]) as tf.Tensor1D;
  });
}

/**
 * Condensed RDM (length n(n-1)/2) of `x`, n x p with one row (activation pattern) per image.
 * The twin of rdm/'s `computeRdm(patterns, n, p, distance)`.
 */
export function computeRdmTf(x: tf.Tensor2D, distance: TfDistance): tf.Tensor1D {
  const spec = specOf('computeRdmTf', distance);
  return tf.tidy(() => {
    // A common shift leaves euclidean distances unchanged and keeps the Gram entries small.
    const shifted = spec.unitRows ? x : (tf.sub(x, tf.mean(x, 0, true)) as tf.Tensor2D);
    const z = spec.prepareRows(shifted);
    return upperTriangleTf(crossDistancesTf(z, z, distance));
  });
}

/** Pearson correlation of two vectors of equal length (a scalar). NaN for a constant vector. */
export function pearsonTf(a: tf.Tensor1D, b: tf.Tensor1D): tf.Scalar {
  if (a.size !== b.size)
    throw new RangeError(`pearsonTf: both vectors must have the same length; got ${a.size} and ${b.size}`);
  return tf.tidy(() => {
    const da = centerRowsTf(tf.reshape(a, [1, -1]) as tf.Tensor2D);
    const db = centerRowsTf(tf.reshape(b, [1, -1]) as tf.Tensor2D);
    const sum = (t: tf.Tensor) => rowSumTf(t as tf.Tensor2D);
    const r = tf.div(sum(tf.mul(da, db)), tf.sqrt(tf.mul(sum(tf.square(da)), sum(tf.square(db)))));
    return clampTf(tf.reshape(r, []), -1, 1) as tf.Scalar;
  });
}

/**
 * L x L Pearson correlations between the rows of `vectors` (e.g. L layers' condensed RDMs), as the
 * Gram matrix of centred unit rows. The twin of rdm/'s `similarityMatrix(vectors, 'pearson')`;
 * Spearman and Kendall rank their inputs and have no useful gradient, so only Pearson is offered.
 */
export function similarityMatrixTf(vectors: tf.Tensor2D, method: 'pearson'): tf.Tensor2D {
  if (method !== 'pearson')
    throw new RangeError(
      `similarityMatrixTf: method must be pearson (the only differentiable one); got ${JSON.stringify(method)}`,
    );
  return tf.tidy(() => {
    const z = unitRowsTf(centerRowsTf(vectors));
    return clampTf(gramTf(z, z), -1, 1);
  });
}

/** Mean |m[i][j]| over i < j of a square matrix; the twin of rdm/'s `meanAbsOffDiagonal`. */
export function meanAbsOffDiagonalTf(m: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.abs(upperTriangleTf(m))) as tf.Scalar);
}

/**
 * RDMs of activation or voxel patterns. Every distance here is a function of the Gram matrix
 * G = X X^T of the (optionally row-centred) patterns, so one blocked float64 Gram pass serves
 * them all: correlation 1 - G_ij / sqrt(G_ii G_jj) on centred rows, cosine the same on raw rows,
 * squared Euclidean G_ii + G_jj - 2 G_ij.
 */
import { pairCount } from './condensed';
import { RdmError, unknownNameError } from './errors';

export type PatternDistance = 'correlation' | 'euclidean' | 'sqeuclidean' | 'cosine';

export interface PatternDistanceSpec {
  /** One line for --help and reports. */
  readonly description: string;
  /** Subtract each row's mean before the Gram matrix (correlation distance). */
  readonly centerRows: boolean;
  /** Distance of rows i and j from G_ii, G_jj and G_ij. */
  readonly fromGram: (gii: number, gjj: number, gij: number) => number;
}

// 1 - r, clamped to [0, 2] against rounding; 0/0 (constant or all-zero row) stays NaN.
function oneMinusCosine(gii: number, gjj: number, gij: number): number {
  const d = 1 - gij / Math.sqrt(gii * gjj);
  return d < 0 ? 0 : d > 2 ? 2 : d;
}

function squaredEuclidean(gii: number, gjj: number, gij: number): number {
  const d = gii + gjj - 2 * gij;
  return d < 0 ? 0 : d; // cancellation can leave -1e-16 for identical rows
}

export const PATTERN_DISTANCES = {
  correlation: {
    description: '1 - Pearson r between the two patterns (NaN when a pattern is constant)',
    centerRows: true,
    fromGram: oneMinusCosine,
  },
  euclidean: {
    description: 'Euclidean distance between the two patterns',
    centerRows: false,
    fromGram: (gii, gjj, gij) => Math.sqrt(squaredEuclidean(gii, gjj, gij)),
  },
  sqeuclidean: {
    description: 'squared Euclidean distance between the two patterns',
    centerRows: false,
    fromGram: squaredEuclidean,
  },
  cosine: {
    description: '1 - cosine of the angle between the two patterns (NaN when a pattern is all zeros)',
    centerRows: false,
    fromGram: oneMinusCosine,
  },
} as const satisfies Record<PatternDistance, PatternDistanceSpec>;

export const PATTERN_DISTANCE_NAMES = Object.keys(PATTERN_DISTANCES) as PatternDistance[];

export function isPatternDistance(name: string): name is PatternDistance {
  return Object.hasOwn(PATTERN_DISTANCES, name);
}

/** Columns per chunk and rows per tile: a 32 x 256 float64 tile is 64 KiB, two fit in L2. */
const CHUNK_COLS = 256;
const TILE_ROWS = 32;

function checkShape(where: string, patterns: ArrayLike<number>, n: number, p: number): void {
  if (!Number.isInteger(n) || n < 0 || !Number.isInteger(p) || p < 1) {
    throw new RdmError(`${where}: need an integer image count n >= 0 and feature count p >= 1; got n=${n}, p=${p}`);
  }
  if (patterns.length !== n * p) {
    throw new RdmError(
      `${where}: patterns must hold n*p = ${n}*${p} = ${n * p} values (row-major, one row per image); got ${patterns.length}`,
    );
  }
}

/**
 * Gram matrix X X^T (n x n, row-major, symmetric) of row-major n x p patterns, accumulated in
 * float64 chunk by chunk so memory stays O(n * 256 + n^2) whatever p is. With `centerRows`, each
 * row's mean is subtracted first; an exactly constant row centres to exact zeros (not to rounding
 * residue), so correlations with it come out NaN.
 */
export function computeGram(patterns: ArrayLike<number>, n: number, p: number, centerRows = false): Float64Array {
  checkShape('computeGram', patterns, n, p);
  const means = new Float64Array(n);
  if (centerRows) {
    for (let i = 0; i < n; i++) {
      const off = i * p;
      const first = patterns[off] as number;
      let sum = 0;
      let constant = true;
      for (let k = 0; k < p; k++) {
        const v = patterns[off + k] as number;
        sum += v;
        if (v !== first) constant = false;
      }
      means[i] = constant ? first : sum / p;
    }
  }
  const gram = new Float64Array(n * n);
  const scratch = new Float64Array(n * Math.min(CHUNK_COLS, p));
  for (let c0 = 0; c0 < p; c0 += CHUNK_COLS) {
    const w = Math.min(CHUNK_COLS, p - c0);
    for (let i = 0; i < n; i++) {
      const src = i * p + c0;
      const dst = i * w;
      const mu = means[i] as number;
      for (let k = 0; k < w; k++) scratch[dst + k] = (patterns[src + k] as number) - mu;
    }
    for (let ib = 0; ib < n; ib += TILE_ROWS) {
      const iEnd = Math.min(ib + TILE_ROWS, n);
      for (let jb = ib; jb < n; jb += TILE_ROWS) {
        const jEnd = Math.min(jb + TILE_ROWS, n);
        for (let i = ib; i < iEnd; i++) {
          const a = i * w;
          for (let j = Math.max(i, jb); j < jEnd; j++) {
            const b = j * w;
            // Four accumulators for instruction-level parallelism; the same order for every
            // pair, so identical rows give G_ii == G_ij exactly.
            let s0 = 0;
            let s1 = 0;
            let s2 = 0;
            let s3 = 0;
            let k = 0;
            for (; k + 3 < w; k += 4) {
              s0 += (scratch[a + k] as number) * (scratch[b + k] as number);
              s1 += (scratch[a + k + 1] as number) * (scratch[b + k + 1] as number);
              s2 += (scratch[a + k + 2] as number) * (scratch[b + k + 2] as number);
              s3 += (scratch[a + k + 3] as number) * (scratch[b + k + 3] as number);
            }
            for (; k < w; k++) s0 += (scratch[a + k] as number) * (scratch[b + k] as number);
            gram[i * n + j] = (gram[i * n + j] as number) + (s0 + s1 + (s2 + s3));
          }
        }
      }
    }
  }
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) gram[j * n + i] = gram[i * n + j] as number;
  }
  return gram;
}

/**
 * Condensed RDM (see condensed.ts) of `patterns`, row-major n x p with one row per image.
 * NaN in a row makes every distance involving that row NaN.
 */
export function computeRdm(
  patterns: Float32Array | Float64Array,
  n: number,
  p: number,
  distance: PatternDistance,
): Float64Array {
  if (!isPatternDistance(distance)) throw unknownNameError('computeRdm', 'distance', distance, PATTERN_DISTANCE_NAMES);
  const spec: PatternDistanceSpec = PATTERN_DISTANCES[distance];
  const gram = computeGram(patterns, n, p, spec.centerRows);
  const rdm = new Float64Array(pairCount(n));
  let k = 0;
  for (let i = 0; i < n; i++) {
    const gii = gram[i * n + i] as number;
    for (let j = i + 1; j < n; j++) {
      rdm[k++] = spec.fromGram(gii, gram[j * n + j] as number, gram[i * n + j] as number);
    }
  }
  return rdm;
}

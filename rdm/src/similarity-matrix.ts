/** Second-order similarity: every RDM against every other (e.g. the layer x layer matrix). */
import { COMPARATORS, COMPARATOR_NAMES, isComparatorName, pearson, type ComparatorName } from './compare';
import { RdmError, unknownNameError } from './errors';
import { rankAverage } from './rank';

type Prepared = {
  prepare: (v: ArrayLike<number>) => ArrayLike<number>;
  compare: (a: ArrayLike<number>, b: ArrayLike<number>) => number;
};

// Spearman ranks each vector once instead of once per pair.
const PREPARED = {
  spearman: { prepare: rankAverage, compare: pearson },
  pearson: { prepare: (v) => v, compare: COMPARATORS.pearson },
  'kendall-tau-a': { prepare: (v) => v, compare: COMPARATORS['kendall-tau-a'] },
} satisfies Record<ComparatorName, Prepared>;

/**
 * L x L matrix of `method` between all pairs of vectors (symmetric). The diagonal is 1, or NaN
 * for a vector that is constant or holds a NaN (it correlates with nothing, itself included).
 */
export function similarityMatrix(vectors: readonly ArrayLike<number>[], method: ComparatorName): number[][] {
  if (!isComparatorName(method)) throw unknownNameError('similarityMatrix', 'method', method, COMPARATOR_NAMES);
  const len = vectors[0]?.length ?? 0;
  vectors.forEach((v, i) => {
    if (v.length !== len)
      throw new RdmError(
        `similarityMatrix: all vectors must have the same length; vector 0 has ${len}, vector ${i} has ${v.length}`,
      );
  });
  const { prepare, compare } = PREPARED[method];
  const prepared = vectors.map(prepare);
  const size = vectors.length;
  const m: number[][] = Array.from({ length: size }, () => new Array<number>(size).fill(Number.NaN));
  for (let i = 0; i < size; i++) {
    const pi = prepared[i] as ArrayLike<number>;
    const row = m[i] as number[];
    row[i] = Number.isNaN(compare(pi, pi)) ? Number.NaN : 1;
    for (let j = i + 1; j < size; j++) {
      const r = compare(pi, prepared[j] as ArrayLike<number>);
      row[j] = r;
      (m[j] as number[])[i] = r;
    }
  }
  return m;
}

/** Mean |m[i][j]| over i < j (the average off-diagonal magnitude); NaN if any entry is NaN or m is smaller than 2 x 2. */
export function meanAbsOffDiagonal(m: readonly (readonly number[])[]): number {
  const size = m.length;
  if (size < 2) return Number.NaN;
  let sum = 0;
  for (let i = 0; i < size; i++) {
    const row = m[i] as readonly number[];
    if (row.length !== size)
      throw new RdmError(
        `meanAbsOffDiagonal: matrix must be square; row ${i} has ${row.length} entries, expected ${size}`,
      );
    for (let j = i + 1; j < size; j++) sum += Math.abs(row[j] as number);
  }
  return sum / ((size * (size - 1)) / 2);
}

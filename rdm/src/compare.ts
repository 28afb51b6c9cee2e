/**
 * Comparing two RDMs (condensed vectors of equal length): Pearson, Spearman (Pearson of average
 * ranks) and Kendall tau-a. NaN anywhere, a constant vector (zero variance) or fewer than two
 * entries give NaN, never a number that looks like an answer.
 */
import { RdmError, unknownNameError } from './errors';
import { rankAverage } from './rank';

export type ComparatorName = 'spearman' | 'pearson' | 'kendall-tau-a';
export type Comparator = (a: ArrayLike<number>, b: ArrayLike<number>) => number;

function checkPair(where: string, a: ArrayLike<number>, b: ArrayLike<number>): void {
  if (a.length !== b.length) {
    throw new RdmError(`${where}: both vectors must have the same length; got ${a.length} and ${b.length}`);
  }
}

/** Mean of x, or NaN when x is constant (exactly) or holds a NaN. */
function meanIfVarying(x: ArrayLike<number>): number {
  const n = x.length;
  const first = x[0] as number;
  let sum = 0;
  let varying = false;
  for (let i = 0; i < n; i++) {
    const v = x[i] as number;
    sum += v;
    if (v !== first) varying = true;
  }
  return varying ? sum / n : Number.NaN;
}

/** Pearson correlation, accumulated in float64 around the means (two passes). */
export function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  checkPair('pearson', a, b);
  const n = a.length;
  if (n < 2) return Number.NaN;
  const ma = meanIfVarying(a);
  const mb = meanIfVarying(b);
  if (Number.isNaN(ma) || Number.isNaN(mb)) return Number.NaN;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = (a[i] as number) - ma;
    const db = (b[i] as number) - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  const r = sab / Math.sqrt(saa * sbb);
  return r > 1 ? 1 : r < -1 ? -1 : r;
}

/** Spearman's rho: Pearson correlation of the average ranks (ties share their mean rank). */
export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  checkPair('spearman', a, b);
  return pearson(rankAverage(a), rankAverage(b));
}

/**
 * Kendall's tau-a: (concordant - discordant) / (n(n-1)/2); pairs tied in either vector count 0.
 * O(n^2) without allocation: fine up to a few thousand entries.
 */
export function kendallTauA(a: ArrayLike<number>, b: ArrayLike<number>): number {
  checkPair('kendallTauA', a, b);
  const n = a.length;
  if (n < 2 || Number.isNaN(meanIfVarying(a)) || Number.isNaN(meanIfVarying(b))) return Number.NaN;
  let s = 0;
  for (let i = 0; i < n - 1; i++) {
    const ai = a[i] as number;
    const bi = b[i] as number;
    for (let j = i + 1; j < n; j++) s += Math.sign((a[j] as number) - ai) * Math.sign((b[j] as number) - bi);
  }
  return s / ((n * (n - 1)) / 2);
}

export const COMPARATORS = {
  spearman,
  pearson,
  'kendall-tau-a': kendallTauA,
} satisfies Record<ComparatorName, Comparator>;

export const COMPARATOR_NAMES = Object.keys(COMPARATORS) as ComparatorName[];

export function isComparatorName(name: string): name is ComparatorName {
  return Object.hasOwn(COMPARATORS, name);
}

/** Compare two condensed RDMs with a named method. */
export function compareRdms(a: ArrayLike<number>, b: ArrayLike<number>, method: ComparatorName): number {
  if (!isComparatorName(method)) throw unknownNameError('compareRdms', 'method', method, COMPARATOR_NAMES);
  return COMPARATORS[method](a, b);
}

/**
 * |r| beyond which fisherZ clamps: atanh(1 - 1e-7) = 8.40. Correlations of 1 (identical RDMs, or
 * float32 rounding) would otherwise give Infinity and poison group means and t-tests.
 */
export const FISHER_Z_MAX_R = 1 - 1e-7;

/** Fisher's z = atanh(r), with r clamped to +-FISHER_Z_MAX_R so the result is always finite (NaN stays NaN). */
export function fisherZ(r: number): number {
  const c = r > FISHER_Z_MAX_R ? FISHER_Z_MAX_R : r < -FISHER_Z_MAX_R ? -FISHER_Z_MAX_R : r;
  return Math.atanh(c);
}

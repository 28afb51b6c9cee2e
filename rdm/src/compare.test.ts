import { describe, expect, it } from 'vitest';
import {
  COMPARATOR_NAMES,
  COMPARATORS,
  compareRdms,
  fisherZ,
  kendallTauA,
  pearson,
  spearman,
  type ComparatorName,
} from './compare';
import { createNormalRng, createRng } from './seeded-random';

/** Pearson from raw sums (a different formula from the two-pass one under test). */
function naivePearson(a: number[], b: number[]): number {
  const n = a.length;
  let sa = 0,
    sb = 0,
    saa = 0,
    sbb = 0,
    sab = 0;
  for (let i = 0; i < n; i++) {
    sa += a[i]!;
    sb += b[i]!;
    saa += a[i]! ** 2;
    sbb += b[i]! ** 2;
    sab += a[i]! * b[i]!;
  }
  return (n * sab - sa * sb) / Math.sqrt((n * saa - sa * sa) * (n * sbb - sb * sb));
}

/** Average ranks by sorting (value, index) pairs and scanning runs of equal values. */
function naiveRanks(x: number[]): number[] {
  const sorted = x.map((v, i) => [v, i] as const).sort((p, q) => p[0] - q[0]);
  const ranks = new Array<number>(x.length);
  for (let k = 0; k < sorted.length; ) {
    let e = k;
    while (e < sorted.length && sorted[e]![0] === sorted[k]![0]) e++;
    for (let t = k; t < e; t++) ranks[sorted[t]![1]] = (k + e + 1) / 2;
    k = e;
  }
  return ranks;
}

/** Kendall tau-a by explicit counting of concordant and discordant pairs. */
function bruteTauA(a: number[], b: number[]): number {
  let concordant = 0;
  let discordant = 0;
  for (let i = 0; i < a.length; i++) {
    for (let j = 0; j < a.length; j++) {
      if (j <= i) continue;
      const da = a[j]! - a[i]!;
      const db = b[j]! - b[i]!;
      if ((da > 0 && db > 0) || (da < 0 && db < 0)) concordant++;
      else if ((da > 0 && db < 0) || (da < 0 && db > 0)) discordant++;
    }
  }
  return (concordant - discordant) / ((a.length * (a.length - 1)) / 2);
}

describe('known answers', () => {
  it('pearson', () => {
    // a' = [-1.5,-.5,.5,1.5], b' = [-1.5,.5,-.5,1.5]: 4 / sqrt(5*5) = 0.8
    expect(pearson([1, 2, 3, 4], [1, 3, 2, 4])).toBeCloseTo(0.8, 14);
    // x vs x^2 for 1..4: b' = [-6.5,-3.5,1.5,8.5], a'.b' = 25, |a'|^2 = 5, |b'|^2 = 129
    expect(pearson([1, 2, 3, 4], [1, 4, 9, 16])).toBeCloseTo(25 / Math.sqrt(645), 14);
    expect(pearson([1, 2, 3], [3, 2, 1])).toBeCloseTo(-1, 15);
  });

  it('spearman is 1 for a monotonic relation and handles ties by average ranks', () => {
    expect(spearman([1, 2, 3, 4], [1, 4, 9, 16])).toBeCloseTo(1, 14);
    // ranks of [1,2,2,3] = [1,2.5,2.5,4]: a' = [-1.5,0,0,1.5], b' = [-1.5,-.5,.5,1.5]
    // 4.5 / sqrt(4.5 * 5) = 3 / sqrt(10)
    expect(spearman([1, 2, 2, 3], [1, 2, 3, 4])).toBeCloseTo(3 / Math.sqrt(10), 14);
  });

  it('kendall tau-a', () => {
    // pairs of [1,3,2,4]: only (1,2) discordant -> (5 - 1) / 6
    expect(kendallTauA([1, 2, 3, 4], [1, 3, 2, 4])).toBeCloseTo(2 / 3, 14);
    // pair (1,2) tied in a counts 0, the other five concordant -> 5/6 (tau-b would differ)
    expect(kendallTauA([1, 2, 2, 3], [1, 2, 3, 4])).toBeCloseTo(5 / 6, 14);
    expect(kendallTauA([1, 2, 3], [3, 2, 1])).toBe(-1);
  });

  it('fisherZ is atanh, finite at |r| = 1', () => {
    expect(fisherZ(0)).toBe(0);
    expect(fisherZ(0.5)).toBeCloseTo(0.5 * Math.log(3), 14); // atanh(r) = ln((1+r)/(1-r)) / 2
    expect(fisherZ(-0.5)).toBeCloseTo(-0.5 * Math.log(3), 14);
    expect(fisherZ(1)).toBeCloseTo(0.5 * Math.log(2 / 1e-7 - 1), 6); // ~8.4
    expect(fisherZ(-1.0000001)).toBe(-fisherZ(1));
    expect(Number.isNaN(fisherZ(Number.NaN))).toBe(true);
  });
});

describe('against independent implementations on seeded data', () => {
  const normal = createNormalRng(42);
  const uniform = createRng(43);
  const a = Array.from({ length: 120 }, () => normal());
  const b = a.map((v) => 0.5 * v + normal());
  // Coarse rounding plants many ties.
  const ta = a.map((v) => Math.round(v * 2));
  const tb = Array.from({ length: 120 }, () => Math.floor(uniform() * 5));

  it('pearson vs the raw-sum formula', () => {
    expect(pearson(Float64Array.from(a), b)).toBeCloseTo(naivePearson(a, b), 12);
    expect(pearson(ta, tb)).toBeCloseTo(naivePearson(ta, tb), 12);
  });

  it('spearman vs Pearson of ranks computed by sorting', () => {
    expect(spearman(a, Float32Array.from(b))).toBeCloseTo(
      naivePearson(naiveRanks(a), naiveRanks(Array.from(Float32Array.from(b)))),
      12,
    );
    expect(spearman(ta, tb)).toBeCloseTo(naivePearson(naiveRanks(ta), naiveRanks(tb)), 12);
  });

  it('kendall tau-a vs brute-force pair counting', () => {
    expect(kendallTauA(a, b)).toBeCloseTo(bruteTauA(a, b), 14);
    expect(kendallTauA(ta, tb)).toBeCloseTo(bruteTauA(ta, tb), 14);
    expect(kendallTauA(ta, tb)).not.toBe(0);
  });
});

describe('degenerate inputs', () => {
  const methods = COMPARATOR_NAMES;
  it('NaN anywhere gives NaN', () => {
    for (const m of methods) expect(compareRdms([1, Number.NaN, 3, 4], [1, 2, 3, 4], m), m).toBeNaN();
    for (const m of methods) expect(compareRdms([1, 2, 3, 4], [1, 2, 3, Number.NaN], m), m).toBeNaN();
  });

  it('zero variance gives NaN, including values whose mean is not exact in floating point', () => {
    for (const m of methods) {
      expect(compareRdms([0.1, 0.1, 0.1], [1, 2, 3], m), m).toBeNaN();
      expect(compareRdms([1, 2, 3], [5, 5, 5], m), m).toBeNaN();
    }
  });

  it('fewer than two entries give NaN; unequal lengths throw', () => {
    for (const m of methods) expect(compareRdms([1], [2], m)).toBeNaN();
    expect(() => pearson([1, 2, 3], [1, 2])).toThrow('pearson: both vectors must have the same length; got 3 and 2');
  });

  it('an unknown method names the allowed ones', () => {
    expect(() => compareRdms([1, 2], [1, 2], 'tau' as ComparatorName)).toThrow(
      'compareRdms: method must be one of spearman, pearson, kendall-tau-a; got "tau"',
    );
  });

  it('the registry dispatches to the named function', () => {
    const x = [3, 1, 4, 1, 5, 9, 2, 6];
    const y = [2, 7, 1, 8, 2, 8, 1, 8];
    expect(compareRdms(x, y, 'spearman')).toBe(spearman(x, y));
    expect(compareRdms(x, y, 'pearson')).toBe(pearson(x, y));
    expect(compareRdms(x, y, 'kendall-tau-a')).toBe(kendallTauA(x, y));
    expect(Object.keys(COMPARATORS)).toEqual(['spearman', 'pearson', 'kendall-tau-a']);
  });
});

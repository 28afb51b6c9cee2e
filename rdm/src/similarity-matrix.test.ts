import { describe, expect, it } from 'vitest';
import { compareRdms, COMPARATOR_NAMES, type ComparatorName } from './compare';
import { createNormalRng } from './seeded-random';
import { meanAbsOffDiagonal, similarityMatrix } from './similarity-matrix';

describe('similarityMatrix', () => {
  // v0 = [1,2,3,4], v1 = [1,3,2,4], v2 = reversed v0, v3 constant
  // pearson: r01 = 0.8 (see compare.test.ts), r02 = -1, r12 = -0.8; anything with v3 NaN
  const vs = [
    [1, 2, 3, 4],
    [1, 3, 2, 4],
    [4, 3, 2, 1],
    [1, 1, 1, 1],
  ];

  it('known answers, NaN row and diagonal for a constant vector', () => {
    const m = similarityMatrix(vs, 'pearson');
    const expected = [
      [1, 0.8, -1, Number.NaN],
      [0.8, 1, -0.8, Number.NaN],
      [-1, -0.8, 1, Number.NaN],
      [Number.NaN, Number.NaN, Number.NaN, Number.NaN],
    ];
    for (let i = 0; i < 4; i++) {
      for (let j = 0; j < 4; j++) {
        const e = expected[i]![j]!;
        if (Number.isNaN(e)) expect(m[i]![j]).toBeNaN();
        else expect(m[i]![j]).toBeCloseTo(e, 14);
      }
    }
    // the values are their own ranks, so Spearman gives the same matrix
    expect(similarityMatrix(vs.slice(0, 3), 'spearman')).toEqual(similarityMatrix(vs.slice(0, 3), 'pearson'));
  });

  it('equals pairwise compareRdms for every method on seeded data', () => {
    const rnd = createNormalRng(9);
    const vectors = Array.from({ length: 5 }, () => Float64Array.from({ length: 45 }, () => Math.round(rnd() * 3)));
    for (const method of COMPARATOR_NAMES) {
      const m = similarityMatrix(vectors, method);
      for (let i = 0; i < 5; i++) {
        expect(m[i]![i]).toBe(1);
        for (let j = 0; j < 5; j++)
          if (i !== j) expect(m[i]![j]).toBeCloseTo(compareRdms(vectors[i]!, vectors[j]!, method), 14);
      }
    }
  });

  it('refuses unequal lengths and unknown methods', () => {
    expect(() =>
      similarityMatrix(
        [
          [1, 2, 3],
          [1, 2],
        ],
        'pearson',
      ),
    ).toThrow(/vector 0 has 3, vector 1 has 2/);
    expect(() => similarityMatrix(vs, 'rho' as ComparatorName)).toThrow(
      /method must be one of spearman, pearson, kendall-tau-a; got "rho"/,
    );
    expect(similarityMatrix([], 'pearson')).toEqual([]);
  });
});

describe('meanAbsOffDiagonal', () => {
  it('averages |r| over pairs i < j', () => {
    // (|0.8| + |-1| + |-0.8|) / 3
    expect(
      meanAbsOffDiagonal([
        [1, 0.8, -1],
        [0.8, 1, -0.8],
        [-1, -0.8, 1],
      ]),
    ).toBeCloseTo(2.6 / 3, 14);
    expect(meanAbsOffDiagonal([[1]])).toBeNaN();
    expect(
      meanAbsOffDiagonal([
        [1, Number.NaN],
        [Number.NaN, 1],
      ]),
    ).toBeNaN();
    expect(() => meanAbsOffDiagonal([[1, 2], [3]])).toThrow(/row 1 has 1 entries, expected 2/);
  });
});

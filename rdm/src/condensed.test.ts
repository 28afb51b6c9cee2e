import { describe, expect, it } from 'vitest';
import { condensedIndex, fromSquare, imageCountFromPairs, pairCount, toSquare, upperTriangleMask } from './condensed';

describe('condensed RDM layout', () => {
  it('counts pairs', () => {
    expect([0, 1, 2, 3, 4, 16].map(pairCount)).toEqual([0, 0, 1, 3, 6, 120]);
    expect(() => pairCount(-1)).toThrow(/n must be a non-negative integer; got -1/);
  });

  it('indexes pairs row-major without the diagonal', () => {
    // n = 4: (0,1) (0,2) (0,3) (1,2) (1,3) (2,3) -> 0..5
    const pairs: [number, number][] = [
      [0, 1],
      [0, 2],
      [0, 3],
      [1, 2],
      [1, 3],
      [2, 3],
    ];
    expect(pairs.map(([i, j]) => condensedIndex(i, j, 4))).toEqual([0, 1, 2, 3, 4, 5]);
    expect(condensedIndex(3, 1, 4)).toBe(4); // symmetric
    expect(() => condensedIndex(2, 2, 4)).toThrow(/i=2, j=2, n=4/);
    expect(() => condensedIndex(0, 4, 4)).toThrow(/j=4/);
  });

  it('enumerates every pair exactly once for a range of n', () => {
    for (let n = 2; n <= 9; n++) {
      const seen = new Set<number>();
      for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) seen.add(condensedIndex(i, j, n));
      expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: pairCount(n) }, (_, k) => k));
    }
  });

  it('recovers the image count from the pair count, and refuses non-triangular counts', () => {
    expect([0, 1, 3, 6, 120, 499500].map(imageCountFromPairs)).toEqual([1, 2, 3, 4, 16, 1000]);
    expect(() => imageCountFromPairs(7)).toThrow(/7 is not n\(n-1\)\/2/);
    expect(() => imageCountFromPairs(2.5)).toThrow(/2.5/);
    expect(() => imageCountFromPairs(-3)).toThrow();
  });

  it('converts to and from the square form', () => {
    const sq = toSquare([1, 2, 3, 4, 5, 6], 4);
    // prettier-ignore
    expect([...sq]).toEqual([0, 1, 2, 3, 1, 0, 4, 5, 2, 4, 0, 6, 3, 5, 6, 0]);
    expect([...fromSquare(sq, 4)]).toEqual([1, 2, 3, 4, 5, 6]);
    expect(() => toSquare([1, 2], 3)).toThrow(/expected 3 values for n=3; got 2/);
    expect(() => fromSquare([1, 2, 3], 2)).toThrow(/expected 4 values for n=2; got 3/);
  });

  it('masks the upper triangle in condensed order', () => {
    expect([...upperTriangleMask(3)]).toEqual([0, 1, 1, 0, 0, 1, 0, 0, 0]);
    const n = 7;
    const square = Float64Array.from({ length: n * n }, (_, k) => k * 1.5);
    const mask = upperTriangleMask(n);
    const picked = [...square].filter((_, k) => mask[k] === 1);
    expect(picked).toEqual([...fromSquare(square, n)]);
  });
});

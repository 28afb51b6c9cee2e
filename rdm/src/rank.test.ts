import { describe, expect, it } from 'vitest';
import { rankAverage } from './rank';
import { createRng } from './seeded-random';

/** rank_i = 1 + #(x_j < x_i) + (#(x_j == x_i, j != i)) / 2 -- the definition, O(n^2). */
function naiveRanks(x: number[]): number[] {
  return x.map((v) => 1 + x.filter((w) => w < v).length + (x.filter((w) => w === v).length - 1) / 2);
}

describe('rankAverage', () => {
  it('ranks with average ties (hand-computed)', () => {
    expect([...rankAverage([10, 20, 20, 5])]).toEqual([2, 3.5, 3.5, 1]);
    expect([...rankAverage([3, 3, 3])]).toEqual([2, 2, 2]);
    expect([...rankAverage([0.5, -1, 0.5, 0.5, 7])]).toEqual([3, 1, 3, 3, 5]);
    expect([...rankAverage([])]).toEqual([]);
  });

  it('gives NaN entries rank NaN and ranks the rest among themselves', () => {
    expect([...rankAverage([2, Number.NaN, 1, 2])]).toEqual([2.5, Number.NaN, 1, 2.5]);
  });

  it('matches the counting definition on seeded data with many ties', () => {
    const rnd = createRng(5);
    for (const n of [1, 2, 17, 200]) {
      const x = Array.from({ length: n }, () => Math.floor(rnd() * 12) / 4);
      expect([...rankAverage(Float32Array.from(x))]).toEqual(naiveRanks(x));
    }
  });
});

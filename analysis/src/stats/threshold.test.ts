import { describe, expect, it } from 'vitest';
import { diceMatrix, significanceMask, thresholdMap } from './threshold';

describe('thresholdMap', () => {
  it('keeps the statistic where p < alpha only', () => {
    expect(Array.from(thresholdMap([3, 4, 5, 6], [0.01, 0.05, NaN, 0.049]))).toEqual([3, 0, 0, 6]);
    expect(Array.from(significanceMask([0.01, 0.05, NaN, 0.049]))).toEqual([1, 0, 0, 1]);
  });
});

describe('diceMatrix', () => {
  it('equals hand-counted overlaps', () => {
    // A = {0,1,2,3}, B = {2,3,4}, C = {}, D = {5}
    const A = [1, 2, 0.5, 1, 0, 0];
    const B = [0, 0, 1, 1, 1, NaN];
    const C = [0, 0, 0, 0, 0, 0];
    const D = [0, 0, 0, 0, 0, 7];
    const d = diceMatrix([A, B, C, D]);
    const at = (a: number, b: number) => d[a * 4 + b]!;
    expect(at(0, 1)).toBeCloseTo((2 * 2) / (4 + 3), 12); // |A and B| = 2
    expect(at(1, 0)).toBe(at(0, 1));
    expect(at(0, 0)).toBe(1);
    expect(at(0, 2)).toBe(0); // (2*0)/(4+0)
    expect(at(2, 2)).toBeNaN(); // empty with itself
    expect(at(0, 3)).toBe(0);
    expect(at(1, 3)).toBe(0);
  });
});

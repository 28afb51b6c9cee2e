import { describe, expect, it } from 'vitest';
import { scoreRecovery, topKMap } from './recovery';

describe('recovery scores', () => {
  it('Dice, fraction inside and mean overlap by hand', () => {
    // 10 voxels. Region A = {0,1,2,3}, region B = {6,7,8}.
    const regionA = [1, 1, 1, 1, 0, 0, 0, 0, 0, 0];
    const regionB = [0, 0, 0, 0, 0, 0, 1, 1, 1, 0];
    // Map A = {1,2,3,4,5} (t values; 0 = not significant): |A and region| = 3 -> Dice 6/9, inside 3/5.
    const mapA = [0, 2.5, 3, 4, 2.2, 2.1, 0, 0, 0, 0];
    // Map B = {5,6,7}: 2 inside -> Dice 4/6, inside 2/3. Maps A and B share voxel 5 -> Dice 2/8.
    const mapB = [0, 0, 0, 0, 0, 3, 3, 3, Number.NaN, 0];
    const t = scoreRecovery(['A', 'B'], [mapA, mapB], [regionA, regionB], 'fwe');
    expect(t.rows[0]).toEqual({ layer: 'A', mapVoxels: 5, regionVoxels: 4, dice: 6 / 9, fractionInside: 3 / 5 });
    expect(t.rows[1]).toEqual({ layer: 'B', mapVoxels: 3, regionVoxels: 3, dice: 4 / 6, fractionInside: 2 / 3 });
    expect(t.meanOverlap).toBeCloseTo(2 / 8, 12);
    // An empty map: Dice 0 with its region, fraction inside undefined.
    const empty = scoreRecovery(['A'], [new Array(10).fill(0)], [regionA], 'fwe');
    expect(empty.rows[0]!.dice).toBe(0);
    expect(empty.rows[0]!.fractionInside).toBeNaN();
  });

  it('top-k keeps the k highest finite values', () => {
    expect(Array.from(topKMap([0.1, Number.NaN, 0.9, 0.5, 0.7, -1], 3))).toEqual([0, 0, 1, 1, 1, 0]);
  });
});

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
    // A's peak (4 at voxel 3) is in region A; its mean is 9.5/4 over A, 0 over B.
    expect(t.rows[0]).toEqual({
      layer: 'A',
      mapVoxels: 5,
      regionVoxels: 4,
      dice: 6 / 9,
      fractionInside: 3 / 5,
      peakInRegion: true,
      highestMeanInRegion: true,
    });
    // B's peak: the first of its three 3s, voxel 5, outside region B; its mean is 6/3 over B, 0 over A.
    expect(t.rows[1]).toEqual({
      layer: 'B',
      mapVoxels: 3,
      regionVoxels: 3,
      dice: 4 / 6,
      fractionInside: 2 / 3,
      peakInRegion: false,
      highestMeanInRegion: true,
    });
    expect(t.meanOverlap).toBeCloseTo(2 / 8, 12);
    expect([t.recoveredByPeak, t.recoveredByMean]).toEqual([1, 2]);
    // Negative values (a significantly anti-correlated layer) are not in the map.
    const negative = scoreRecovery(['A'], [[-3, -3, 0, 0, 2, 0, 0, 0, 0, 0]], [regionA], 'fwe');
    expect(negative.rows[0]).toMatchObject({ mapVoxels: 1, dice: 0, fractionInside: 0, peakInRegion: false });
    // An empty map: Dice 0 with its region, fraction inside undefined.
    const empty = scoreRecovery(['A'], [new Array(10).fill(0)], [regionA], 'fwe');
    expect(empty.rows[0]!.dice).toBe(0);
    expect(empty.rows[0]!.fractionInside).toBeNaN();
    expect(empty.recoveredByPeak + empty.recoveredByMean).toBe(0);
  });

  it('peak and region means come from the values a top-k map was cut from', () => {
    const regionA = [1, 1, 0, 0, 0, 0];
    const regionB = [0, 0, 0, 0, 1, 1];
    // The values peak at voxel 4 (region B); the top-2 map holds voxels 4 and 0, so inside the map
    // region A's mean is 0.6 / 2 = 0.3 and region B's 0.9 / 2 = 0.45.
    const values = [0.6, 0.6, 0.1, 0, 0.9, 0.1];
    const top2 = topKMap(values, 2); // voxels 4 and 0 (ties broken by position)
    const t = scoreRecovery(['A', 'B'], [top2, top2], [regionA, regionB], 'top-k', [values, values]);
    expect(t.rows[0]!.peakInRegion).toBe(false);
    expect(t.rows[0]!.highestMeanInRegion).toBe(false);
    expect(t.rows[1]!.peakInRegion).toBe(true);
    expect(t.rows[1]!.highestMeanInRegion).toBe(true);
  });

  it('top-k keeps the k highest finite values', () => {
    expect(Array.from(topKMap([0.1, Number.NaN, 0.9, 0.5, 0.7, -1], 3))).toEqual([0, 0, 1, 1, 1, 0]);
  });
});

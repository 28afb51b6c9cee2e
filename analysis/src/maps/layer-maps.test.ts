import { describe, expect, it } from 'vitest';
import { computeSearchlightNeighbors } from '../searchlight/neighbors';
import { fisherZValues, scatterToGrid, sphereSizeMap, winnerTakeAll } from './layer-maps';

describe('winnerTakeAll', () => {
  it('picks the highest layer per voxel, ignores NaN, keeps the first on ties', () => {
    const a = [0.1, 0.5, NaN, 0.3, NaN];
    const b = [0.2, 0.4, 0.1, 0.3, NaN];
    const c = [0.0, 0.6, NaN, 0.1, NaN];
    const { winner, value } = winnerTakeAll([a, b, c]);
    expect(Array.from(winner)).toEqual([2, 3, 2, 1, 0]);
    expect(Array.from(value).map((v) => (Number.isNaN(v) ? 'NaN' : v.toFixed(2)))).toEqual([
      '0.20',
      '0.60',
      '0.10',
      '0.30',
      'NaN',
    ]);
  });

  it('only lets a layer win where it is eligible', () => {
    const { winner } = winnerTakeAll(
      [
        [5, 5, 5],
        [1, 1, 1],
      ],
      [
        [1, 0, 0],
        [1, 1, 0],
      ],
    );
    expect(Array.from(winner)).toEqual([1, 2, 0]);
  });
});

describe('grids', () => {
  it('scatters values and leaves the rest NaN; Fisher z of r', () => {
    const g = scatterToGrid([0.5, -0.25], Int32Array.from([3, 0]), 5);
    expect(g[3]).toBeCloseTo(0.5);
    expect(g[0]).toBeCloseTo(-0.25);
    expect(Number.isNaN(g[1]!)).toBe(true);
    const z = fisherZValues([0.5, NaN, 0]);
    expect(z[0]).toBeCloseTo(0.5 * Math.log(3), 6);
    expect(z[1]).toBeNaN();
    expect(z[2]).toBe(0);
  });

  it('sphere-size map: 7 for an interior voxel of a full mask at radius 1, fewer at a face, 0 outside', () => {
    const dims = [4, 5, 6] as const;
    const mask = new Uint8Array(120).fill(1);
    mask[119] = 0;
    const map = sphereSizeMap(computeSearchlightNeighbors(mask, dims, { radius: 1, unit: 'voxel' }));
    expect(map[1 + 4 * (2 + 5 * 3)]).toBe(7);
    expect(map[0]).toBe(4); // corner: itself and three neighbours
    expect(map[119]).toBe(0);
    expect(map[118]).toBe(4); // (2,4,5): 7 minus (3,4,5) outside the mask and (2,5,5), (2,4,6) outside the grid
  });
});

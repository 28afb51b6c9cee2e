import { describe, expect, it } from 'vitest';
import { UsageError } from '@orthostim/protocol';
import { checkSphereRadius, computeSphereOffsets, sphereRadiusRange } from './neighbors';

// A 7 x 8 x 9 grid of 2.5 x 2.5 x 3 mm voxels: 504 voxels of 18.75 mm^3.
const DIMS = [7, 8, 9] as const;
const MM = { unit: 'mm' as const, voxelSizesMm: [2.5, 2.5, 3] as const };

describe('searchlight radius against the grid', () => {
  it('allows one voxel side up to the smaller of the longest extent and a sphere as large as the grid', () => {
    // Longest extent: (9 - 1) x 3 = 24 mm; a sphere of the grid's volume: cbrt(3 x 504 x 18.75 / 4pi) = 13.12 mm.
    const mm = sphereRadiusRange({ radius: 1, ...MM }, DIMS);
    expect(mm.min).toBe(2.5);
    expect(mm.max).toBeCloseTo(Math.cbrt((3 * 504 * 18.75) / (4 * Math.PI)), 10);
    expect(mm.max).toBeCloseTo(13.12, 2);
    // In voxels: extent 8, the grid's volume as a sphere cbrt(3 x 504 / 4pi) = 4.94.
    const vox = sphereRadiusRange({ radius: 1, unit: 'voxel' }, DIMS);
    expect(vox).toEqual({ min: 1, max: Math.cbrt((3 * 504) / (4 * Math.PI)) });
  });

  it('refuses below one voxel and beyond the grid, naming the voxel size and a radius that works', () => {
    expect(() => checkSphereRadius({ radius: 2.4, ...MM }, DIMS)).toThrow(UsageError);
    expect(() => checkSphereRadius({ radius: 2.4, ...MM }, DIMS)).toThrow(
      'searchlight radius 2.4 mm is below one voxel (grid 7 x 8 x 9, voxels of 2.5 x 2.5 x 3 mm): the sphere would hold only its centre; use at least 2.5 mm',
    );
    expect(() => checkSphereRadius({ radius: 0, unit: 'voxel' }, DIMS)).toThrow(/use at least 1 voxels/);
    expect(() => checkSphereRadius({ radius: 13.2, ...MM }, DIMS)).toThrow(
      'searchlight radius 13.2 mm reaches beyond the grid (grid 7 x 8 x 9, voxels of 2.5 x 2.5 x 3 mm); use at most 13 mm',
    );
    expect(() => checkSphereRadius({ radius: 1e308, ...MM }, DIMS)).toThrow(/reaches beyond the grid/);
    expect(() => checkSphereRadius({ radius: 1000, unit: 'voxel' }, DIMS)).toThrow(/use at most 4 voxels/);
    // The bounds themselves are fine, and a radius of one voxel side gives the centre and its 4 in-plane neighbours.
    checkSphereRadius({ radius: 2.5, ...MM }, DIMS);
    checkSphereRadius({ radius: 13.1, ...MM }, DIMS);
    expect(computeSphereOffsets({ radius: 2.5, ...MM }).length / 3).toBe(5);
  });
});

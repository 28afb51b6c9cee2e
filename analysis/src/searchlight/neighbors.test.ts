import { describe, expect, it } from 'vitest';
import { createRng } from '@orthostim/rdm';
import { computeSearchlightNeighbors, computeSphereOffsets, groupNeighbors, type Dims } from './neighbors';

const dims: Dims = [7, 8, 9];

function randomMask(seed: number, density: number): Uint8Array {
  const rng = createRng(seed);
  const m = new Uint8Array(dims[0] * dims[1] * dims[2]);
  for (let v = 0; v < m.length; v++) m[v] = rng() < density ? 1 : 0;
  return m;
}

/** Brute force: every grid voxel against every mask voxel, distances in mm from scratch. */
function bruteForce(mask: Uint8Array, sizes: readonly number[], radius: number, minFraction: number) {
  const [nx, ny, nz] = dims;
  const maskList: number[] = [];
  for (let v = 0; v < mask.length; v++) if (mask[v]) maskList.push(v);
  const full = (() => {
    let n = 0;
    for (let a = -20; a <= 20; a++)
      for (let b = -20; b <= 20; b++)
        for (let c = -20; c <= 20; c++)
          if ((a * sizes[0]!) ** 2 + (b * sizes[1]!) ** 2 + (c * sizes[2]!) ** 2 <= radius * radius + 1e-9) n++;
    return n;
  })();
  const spheres = maskList.map((g) => {
    const [i, j, k] = [g % nx, Math.floor(g / nx) % ny, Math.floor(g / (nx * ny))];
    const members: number[] = [];
    maskList.forEach((h, m) => {
      const [a, b, c] = [h % nx, Math.floor(h / nx) % ny, Math.floor(h / (nx * ny))];
      const d2 = ((a - i) * sizes[0]!) ** 2 + ((b - j) * sizes[1]!) ** 2 + ((c - k) * sizes[2]!) ** 2;
      if (d2 <= radius * radius + 1e-9) members.push(m);
    });
    return members;
  });
  void nz;
  const centers = spheres.flatMap((s, m) => (s.length >= minFraction * full && s.length > 0 ? [m] : []));
  return { maskList, spheres, centers, full };
}

describe('computeSphereOffsets', () => {
  it('counts the voxels of a radius-3 voxel sphere (123) and puts the centre first', () => {
    const off = computeSphereOffsets({ radius: 3, unit: 'voxel' });
    expect(off.length / 3).toBe(123);
    expect(Array.from(off.subarray(0, 3))).toEqual([0, 0, 0]);
  });
  it('includes voxels exactly on the radius (6 mm on 2 mm voxels reaches 3 voxels)', () => {
    const off = computeSphereOffsets({ radius: 6, unit: 'mm', voxelSizesMm: [2, 2, 2] });
    expect(off.length / 3).toBe(123);
  });
  it('refuses a radius in mm without voxel sizes', () => {
    expect(() => computeSphereOffsets({ radius: 6, unit: 'mm' })).toThrow(/voxel sizes/);
  });
});

describe('computeSearchlightNeighbors', () => {
  const cases = [
    {
      name: 'mm radius on anisotropic voxels',
      sizes: [2, 2.5, 3.5] as const,
      radius: 5.2,
      unit: 'mm' as const,
      minFraction: 0.5,
    },
    { name: 'voxel radius 2', sizes: [1, 1, 1] as const, radius: 2, unit: 'voxel' as const, minFraction: 0.5 },
    {
      name: 'voxel radius 1.5, every centre',
      sizes: [1, 1, 1] as const,
      radius: 1.5,
      unit: 'voxel' as const,
      minFraction: 0,
    },
  ];
  for (const c of cases) {
    it(`matches brute force: ${c.name}`, () => {
      const mask = randomMask(7, 0.7);
      const nb = computeSearchlightNeighbors(mask, dims, {
        radius: c.radius,
        unit: c.unit,
        voxelSizesMm: c.sizes,
        minFraction: c.minFraction,
      });
      const ref = bruteForce(mask, c.sizes, c.radius, c.minFraction);
      expect(nb.fullSphereSize).toBe(ref.full);
      expect(Array.from(nb.maskVoxels)).toEqual(ref.maskList);
      expect(Array.from(nb.sphereSizes)).toEqual(ref.spheres.map((s) => s.length));
      expect(Array.from(nb.centers)).toEqual(ref.centers);
      expect(nb.centers.length).toBeGreaterThan(0);
      expect(nb.centers.length).toBeLessThan(ref.maskList.length + (c.minFraction === 0 ? 1 : 0));
      nb.centers.forEach((m, c2) => {
        const got = Array.from(nb.indices.subarray(nb.offsets[c2]!, nb.offsets[c2 + 1]!));
        expect(got[0]).toBe(m); // centre first
        expect(got.sort((a, b) => a - b)).toEqual(ref.spheres[m]);
      });
    });
  }

  it('catches an axis mix-up: a voxel-size change along k only changes the k reach', () => {
    const mask = new Uint8Array(dims[0] * dims[1] * dims[2]).fill(1);
    // 1 mm along i and j, 10 mm along k: a 2 mm sphere is a flat disc in the i-j plane.
    const nb = computeSearchlightNeighbors(mask, dims, {
      radius: 2,
      unit: 'mm',
      voxelSizesMm: [1, 1, 10],
      minFraction: 0,
    });
    expect(nb.fullSphereSize).toBe(13);
    const centre = 3 + 7 * (4 + 8 * 4);
    const c = Array.from(nb.centers).indexOf(centre);
    const ks = Array.from(nb.indices.subarray(nb.offsets[c]!, nb.offsets[c + 1]!)).map((m) =>
      Math.floor(nb.maskVoxels[m]! / 56),
    );
    expect(new Set(ks)).toEqual(new Set([4]));
  });

  it('drops centres whose sphere is mostly outside the mask', () => {
    const mask = new Uint8Array(dims[0] * dims[1] * dims[2]);
    mask[3 + 7 * (4 + 8 * 4)] = 1; // one isolated voxel: 1 of 7 voxels of a radius-1 sphere
    const loose = computeSearchlightNeighbors(mask, dims, { radius: 1, unit: 'voxel', minFraction: 0.1 });
    const strict = computeSearchlightNeighbors(mask, dims, { radius: 1, unit: 'voxel' });
    expect(loose.centers.length).toBe(1);
    expect(strict.centers.length).toBe(0);
    expect(strict.sphereSizes[0]).toBe(1);
  });
});

describe('groupNeighbors', () => {
  it('lists the mask voxels of each group in order', () => {
    const { offsets, indices } = groupNeighbors([2, 0, 5, 2, 5, 5], [5, 2, 9]);
    expect(Array.from(offsets)).toEqual([0, 3, 5, 5]);
    expect(Array.from(indices)).toEqual([2, 4, 5, 0, 3]);
  });
});

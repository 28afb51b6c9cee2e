import { describe, expect, it } from 'vitest';
import { createNormalRng, createRng, pairCount } from '@orthostim/rdm';
import { computeSearchlightNeighbors, type Dims } from './neighbors';
import { createSlidingGrid, slidingSphereRdms } from './sliding-sphere-rdms';
import { computeSphereRdms, prepareSphereData, type BetaSet } from './sphere-rdms';

const dims: Dims = [9, 8, 7];
const nGrid = dims[0] * dims[1] * dims[2];

function setup(seed: number, nImages: number, nRuns: number) {
  const rng = createRng(seed);
  const mask = Uint8Array.from({ length: nGrid }, () => (rng() < 0.75 ? 1 : 0));
  const normal = createNormalRng(seed);
  const nVoxels = mask.reduce((a, b) => a + b, 0);
  // Large common offsets per image: the sliding sums must not lose the small pattern differences.
  const betas: BetaSet = {
    data: Float32Array.from({ length: nRuns * nImages * nVoxels }, (_, q) => 50 + Math.floor(q / nVoxels) + normal()),
    nRuns,
    nImages,
    nVoxels,
  };
  return { mask, betas };
}

function compare(a: Float64Array, b: Float64Array, digits: number) {
  expect(a.length).toBe(b.length);
  let nanMismatch = 0;
  let maxDiff = 0;
  for (let k = 0; k < a.length; k++) {
    if (Number.isNaN(a[k]!) !== Number.isNaN(b[k]!)) nanMismatch++;
    else if (!Number.isNaN(a[k]!)) maxDiff = Math.max(maxDiff, Math.abs(a[k]! - b[k]!));
  }
  expect(nanMismatch).toBe(0);
  expect(maxDiff).toBeLessThan(10 ** -digits);
}

describe('slidingSphereRdms', () => {
  for (const distance of ['correlation', 'euclidean', 'crossnobis'] as const) {
    for (const sphere of [
      { radius: 2, unit: 'voxel' as const },
      { radius: 5, unit: 'mm' as const, voxelSizesMm: [2, 2.5, 3] as const },
    ]) {
      it(`${distance}, radius ${sphere.radius} ${sphere.unit}: equals the neighbour-table kernel`, () => {
        const { mask, betas } = setup(3, 7, 3);
        const nb = computeSearchlightNeighbors(mask, dims, { ...sphere, minFraction: 0.3 });
        const data = prepareSphereData(distance, betas);
        const n = nb.centers.length;
        const P = pairCount(7);
        const want = new Float64Array(n * P);
        computeSphereRdms(data, nb.offsets, nb.indices, 0, n, want);
        const grid = createSlidingGrid(nb, data);
        const got = new Float64Array(n * P);
        // Two chunks that split a row, to exercise restarts.
        const cut = Math.floor(n / 2) + 1;
        slidingSphereRdms(data, grid, 0, cut, got.subarray(0, cut * P));
        slidingSphereRdms(data, grid, cut, n, got.subarray(cut * P));
        compare(got, want, 8);
      });
    }
  }

  it('gives NaN where the table kernel does: a NaN voxel and a constant image pattern', () => {
    const { mask, betas } = setup(5, 5, 2);
    mask.fill(1);
    const nVoxels = nGrid;
    const normal = createNormalRng(8);
    const data = Float32Array.from({ length: 2 * 5 * nVoxels }, () => normal());
    // Image 1 constant (3.5) in the block i < 4, j < 4, k < 4; a NaN at grid voxel (7, 6, 5).
    for (let g = 0; g < nGrid; g++) {
      const [i, j, k] = [g % 9, Math.floor(g / 9) % 8, Math.floor(g / 72)];
      if (i < 4 && j < 4 && k < 4) for (const r of [0, 1]) data[(r * 5 + 1) * nVoxels + g] = 3.5;
    }
    data[(1 * 5 + 3) * nVoxels + (7 + 9 * (6 + 8 * 5))] = NaN;
    const b = { ...betas, data, nVoxels };
    const nb = computeSearchlightNeighbors(mask, dims, { radius: 1, unit: 'voxel' });
    const prepared = prepareSphereData('correlation', b);
    const n = nb.centers.length;
    const want = new Float64Array(n * 10);
    computeSphereRdms(prepared, nb.offsets, nb.indices, 0, n, want);
    const got = new Float64Array(n * 10);
    slidingSphereRdms(prepared, createSlidingGrid(nb, prepared), 0, n, got);
    const nanCount = want.reduce((a, v) => a + (Number.isNaN(v) ? 1 : 0), 0);
    expect(nanCount).toBeGreaterThan(50);
    compare(got, want, 8);
  });
});

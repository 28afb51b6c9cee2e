import { describe, expect, it } from 'vitest';
import { computeRdm, createNormalRng, pairCount } from '@orthostim/rdm';
import { winnerTakeAll } from '../maps/layer-maps';
import { buildModelSet } from '../rsa/compare-models';
import { computeSearchlightNeighbors, type Dims } from './neighbors';
import { runSearchlight } from './run-searchlight';
import { prepareSphereData } from './sphere-rdms';

// A 12 x 13 x 14 volume (unequal sides) whose voxels within 3 voxels of (4, 8, 9) carry patterns
// generated from a feature matrix F; everything else is noise.
const dims: Dims = [12, 13, 14];
const planted = [4, 8, 9] as const;
const K = 10;
const R = 3;

function syntheticStudy() {
  const rng = createNormalRng(21);
  const nf = 6;
  const F = Float64Array.from({ length: K * nf }, () => rng());
  const layerRdm = computeRdm(F, K, nf, 'cosine'); // what correlation distance across many voxels of F w approaches
  const decoy = computeRdm(
    Float64Array.from({ length: K * nf }, () => rng()),
    K,
    nf,
    'cosine',
  );
  const nVox = dims[0] * dims[1] * dims[2];
  const mask = new Uint8Array(nVox).fill(1);
  const inRegion = (g: number) => {
    const i = g % dims[0];
    const j = Math.floor(g / dims[0]) % dims[1];
    const k = Math.floor(g / (dims[0] * dims[1]));
    return (i - planted[0]) ** 2 + (j - planted[1]) ** 2 + (k - planted[2]) ** 2 <= 9;
  };
  const data = new Float32Array(R * K * nVox);
  for (let v = 0; v < nVox; v++) {
    const w = Float64Array.from({ length: nf }, () => rng());
    const signal = inRegion(v);
    for (let r = 0; r < R; r++) {
      for (let i = 0; i < K; i++) {
        let s = 0;
        if (signal) for (let f = 0; f < nf; f++) s += F[i * nf + f]! * w[f]!;
        data[(r * K + i) * nVox + v] = s + (signal ? 0.3 : 1) * rng();
      }
    }
  }
  return { mask, data, layerRdm, decoy, inRegion, nVox };
}

describe('runSearchlight', () => {
  const study = syntheticStudy();
  const neighbors = computeSearchlightNeighbors(study.mask, dims, { radius: 2, unit: 'voxel' });
  const sphereData = prepareSphereData('correlation', { data: study.data, nRuns: R, nImages: K, nVoxels: study.nVox });
  const models = buildModelSet(['planted', 'decoy'], [study.layerRdm, study.decoy], 'spearman', ['standard']);

  it('finds the RDM planted in a known region: high r at its centre, about 0 far away', async () => {
    const result = await runSearchlight(sphereData, neighbors, models, { threads: 1 });
    expect(result.nCenters).toBe(neighbors.centers.length);
    expect(pairCount(K)).toBe(models.nPairs);
    const n = result.nCenters;
    const at = (m: number, c: number) => result.r[m * n + c]!;
    const centreIndex = Array.from(neighbors.centers).indexOf(
      planted[0] + dims[0] * (planted[1] + dims[1] * planted[2]),
    );
    expect(at(0, centreIndex)).toBeGreaterThan(0.7);
    expect(Math.abs(at(1, centreIndex))).toBeLessThan(0.4);
    // Centres whose whole sphere (radius 2) is outside the planted region (radius 3): r ~ 0 on average.
    const far: number[] = [];
    neighbors.centers.forEach((m, c) => {
      const g = neighbors.maskVoxels[m]!;
      const [i, j, k] = [g % dims[0], Math.floor(g / dims[0]) % dims[1], Math.floor(g / (dims[0] * dims[1]))];
      if ((i - planted[0]) ** 2 + (j - planted[1]) ** 2 + (k - planted[2]) ** 2 > 25) far.push(at(0, c));
    });
    expect(far.length).toBeGreaterThan(1000);
    const mean = far.reduce((a, b) => a + b, 0) / far.length;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    const above = far.filter((r) => r > 0.5).length;
    expect(above).toBe(0);
    expect(result.invalidSpheres).toBe(0);
  });

  it('gives the same maps on two worker threads as in the calling thread, with either kernel', async () => {
    const one = await runSearchlight(sphereData, neighbors, models, { threads: 1 });
    expect(one.kernel).toBe('sliding');
    let lastDone = -1;
    const two = await runSearchlight(sphereData, neighbors, models, {
      threads: 2,
      chunkSize: 97,
      onProgress: (done) => (lastDone = done),
    });
    expect(two.threads).toBe(2);
    expect(Array.from(two.r)).toEqual(Array.from(one.r));
    expect(lastDone).toBe(one.nCenters);
    const table = await runSearchlight(sphereData, neighbors, models, { threads: 1, kernel: 'table' });
    let maxDiff = 0;
    for (let k = 0; k < one.r.length; k++) maxDiff = Math.max(maxDiff, Math.abs(one.r[k]! - table.r[k]!));
    expect(maxDiff).toBeLessThan(1e-5);
  });

  it('counts spheres with a NaN beta and gives them NaN for every model', async () => {
    const data = study.data.slice();
    const g = 1 + dims[0] * (1 + dims[1] * 1); // voxel (1, 1, 1)
    data[g] = NaN; // run 0, image 0
    const prepared = prepareSphereData('correlation', { data, nRuns: R, nImages: K, nVoxels: study.nVox });
    const result = await runSearchlight(prepared, neighbors, models, { threads: 2, chunkSize: 50 });
    // The centres whose sphere holds voxel (1, 1, 1).
    let expected = 0;
    const n = result.nCenters;
    for (let c = 0; c < n; c++) {
      const members = neighbors.indices.subarray(neighbors.offsets[c]!, neighbors.offsets[c + 1]!);
      const hit = Array.from(members).some((m) => neighbors.maskVoxels[m] === g);
      if (hit) expected++;
      expect(Number.isNaN(result.r[c]!)).toBe(hit);
      expect(Number.isNaN(result.r[n + c]!)).toBe(hit);
    }
    expect(expected).toBeGreaterThan(5);
    expect(result.invalidSpheres).toBe(expected);
  });
});

describe('runSearchlight with the residual method', () => {
  it('standard RSA finds every correlated layer in the planted region, residual only the planted one', async () => {
    const rng = createNormalRng(31);
    const K = 16;
    const nf = 8;
    const shared = Float64Array.from({ length: K * nf }, () => rng());
    const features = Array.from({ length: 4 }, () => shared.map((v) => v + 0.35 * rng()));
    const layerRdms = features.map((F) => computeRdm(F, K, nf, 'cosine'));
    const plantedLayer = 2;
    const nVox = dims[0] * dims[1] * dims[2];
    const data = new Float32Array(2 * K * nVox);
    for (let v = 0; v < nVox; v++) {
      const [i, j, k] = [v % dims[0], Math.floor(v / dims[0]) % dims[1], Math.floor(v / (dims[0] * dims[1]))];
      const signal = (i - planted[0]) ** 2 + (j - planted[1]) ** 2 + (k - planted[2]) ** 2 <= 9;
      const w = Float64Array.from({ length: nf }, () => rng());
      for (let r = 0; r < 2; r++) {
        for (let im = 0; im < K; im++) {
          let s = 0;
          if (signal) for (let f = 0; f < nf; f++) s += features[plantedLayer]![im * nf + f]! * w[f]!;
          data[(r * K + im) * nVox + v] = s + (signal ? 0.3 : 1) * rng();
        }
      }
    }
    const mask = new Uint8Array(nVox).fill(1);
    const nb = computeSearchlightNeighbors(mask, dims, { radius: 2, unit: 'voxel' });
    const prepared = prepareSphereData('correlation', { data, nRuns: 2, nImages: K, nVoxels: nVox });
    const layers = ['l0', 'l1', 'l2', 'l3'];
    const set = buildModelSet(layers, layerRdms, 'spearman', ['standard', 'semipartial']);
    const result = await runSearchlight(prepared, nb, set, { threads: 1 });
    const n = result.nCenters;
    const c = Array.from(nb.centers).indexOf(planted[0] + dims[0] * (planted[1] + dims[1] * planted[2]));
    const standard = [0, 1, 2, 3].map((l) => result.r[l * n + c]!);
    const residual = [0, 1, 2, 3].map((l) => result.r[(4 + l) * n + c]!);
    for (const r of standard) expect(r).toBeGreaterThan(0.45);
    expect(residual[plantedLayer]!).toBeGreaterThan(0.4);
    for (const l of [0, 1, 3]) expect(Math.abs(residual[l]!)).toBeLessThan(0.2);
    // The residual winner-take-all map names the planted layer at the planted centre.
    const residualMaps = [0, 1, 2, 3].map((l) => result.r.subarray((4 + l) * n, (5 + l) * n));
    expect(winnerTakeAll(residualMaps).winner[c]).toBe(plantedLayer + 1);
  });
});

import { describe, expect, it } from 'vitest';
import { computeRdm, createNormalRng, createRng } from '@orthostim/rdm';
import { buildBrainPhantom, layoutRegionCentres } from './brain-phantom';
import { embedRdm, plantPatterns, randomOrthonormalMixing } from './planted-patterns';
import { fillNormal, meanEvokedSd, regressorCovariance, synthesizeRun } from './bold-series';

function randomFeatures(n: number, p: number, seed: number): Float64Array {
  const rng = createNormalRng(seed);
  return Float64Array.from({ length: n * p }, () => rng());
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

describe('planted patterns', () => {
  it('correlation distance: the patterns of any mixing have exactly the layer RDM, rows zero-mean', () => {
    const n = 9;
    const layer = computeRdm(randomFeatures(n, 30, 1), n, 30, 'correlation');
    const g = embedRdm(layer, n, 'correlation');
    expect(g.clippedFraction).toBeLessThan(1e-12);
    expect(g.rank).toBe(n); // 30 random features: the correlation matrix has full rank
    for (const seed of [2, 3]) {
      const V = 40;
      const patterns = plantPatterns(g, V, createNormalRng(seed));
      expect(maxAbsDiff(computeRdm(patterns, n, V, 'correlation'), layer)).toBeLessThan(1e-10);
      for (let i = 0; i < n; i++) {
        let mean = 0;
        for (let v = 0; v < V; v++) mean += patterns[i * V + v]!;
        expect(Math.abs(mean / V)).toBeLessThan(1e-12);
      }
    }
    // Two participants' mixings differ voxel by voxel.
    const a = plantPatterns(g, 40, createNormalRng(2));
    const b = plantPatterns(g, 40, createNormalRng(3));
    expect(maxAbsDiff(a, b)).toBeGreaterThan(0.05);
  });

  it('euclidean distance: classical MDS coordinates keep every distance', () => {
    const n = 7;
    const layer = computeRdm(randomFeatures(n, 5, 4), n, 5, 'euclidean');
    const g = embedRdm(layer, n, 'euclidean');
    expect(g.rank).toBe(5); // 7 centred points in 5 dimensions span at most 5
    expect(g.clippedFraction).toBeLessThan(1e-10);
    const patterns = plantPatterns(g, 12, createNormalRng(5));
    expect(maxAbsDiff(computeRdm(patterns, n, 12, 'euclidean'), layer)).toBeLessThan(1e-9);
  });

  it('an RDM no vectors can have is projected, and the dropped share is reported', () => {
    // d(0,1) = d(1,2) = 1 but d(0,2) = 3 breaks the triangle inequality.
    const g = embedRdm([1, 3, 1], 3, 'euclidean');
    expect(g.clippedFraction).toBeGreaterThan(0.05);
  });

  it('a region with too few voxels for the geometry is refused, naming the fix', () => {
    const g = embedRdm(computeRdm(randomFeatures(8, 20, 6), 8, 20, 'correlation'), 8, 'correlation');
    expect(() => plantPatterns(g, 6, createNormalRng(1), 'region of layer "conv1"')).toThrow(
      /region of layer "conv1" has 6 voxels; .* needs at least 9; use a larger --region-mm/,
    );
  });

  it('random mixing: orthonormal columns orthogonal to the constant', () => {
    const V = 25;
    const k = 6;
    const q = randomOrthonormalMixing(V, k, createNormalRng(9));
    for (let a = 0; a < k; a++) {
      let sum = 0;
      for (let v = 0; v < V; v++) sum += q[v * k + a]!;
      expect(Math.abs(sum)).toBeLessThan(1e-12);
      for (let b = a; b < k; b++) {
        let dot = 0;
        for (let v = 0; v < V; v++) dot += q[v * k + a]! * q[v * k + b]!;
        expect(dot).toBeCloseTo(a === b ? 1 : 0, 12);
      }
    }
  });
});

describe('brain phantom', () => {
  it('regions lie inside the brain, in posterior-to-anterior order, at least gapMm apart', () => {
    const layers = ['l1', 'l2', 'l3', 'l4', 'l5'];
    const ph = buildBrainPhantom({ layers, voxelMm: 3, brainMm: [90, 120, 80], regionRadiusMm: 6, gapMm: 6 });
    expect(ph.dims).toEqual([32, 42, 29]);
    expect(ph.regions.map((r) => r.layer)).toEqual(layers);
    const ys = ph.regions.map((r) => r.centreMm[1]);
    for (let k = 1; k < ys.length; k++) expect(ys[k]!).toBeGreaterThan(ys[k - 1]!);
    const world = (g: number) => {
      const i = g % ph.dims[0];
      const j = Math.floor(g / ph.dims[0]) % ph.dims[1];
      const k = Math.floor(g / (ph.dims[0] * ph.dims[1]));
      return [ph.affine[3]! + 3 * i, ph.affine[7]! + 3 * j, ph.affine[11]! + 3 * k];
    };
    for (const r of ph.regions) {
      expect(r.voxels.length).toBeGreaterThan(20);
      for (const g of r.voxels) {
        expect(ph.brain[g]).toBe(1);
        expect(ph.labels[g]).toBe(r.label);
      }
    }
    // Voxel centres of different regions are at least 2 x radius + gap - (rounding to the grid) apart.
    for (let a = 0; a < ph.regions.length; a++) {
      for (let b = a + 1; b < ph.regions.length; b++) {
        let min = Infinity;
        for (const ga of ph.regions[a]!.voxels)
          for (const gb of ph.regions[b]!.voxels)
            min = Math.min(min, Math.hypot(...world(ga).map((x, d) => x - world(gb)[d]!)));
        expect(min).toBeGreaterThan(6);
      }
    }
    const labelled = ph.labels.reduce((s, v) => s + (v > 0 ? 1 : 0), 0);
    expect(labelled).toBe(ph.regions.reduce((s, r) => s + r.voxels.length, 0));
  });

  it('refuses a hierarchy that does not fit, saying how long the brain must be', () => {
    // Centres 2 x 7.5 + 6 = 21 mm apart need 10.5 mm steps along y: 19 steps = 199.5 mm, plus
    // radius + gap at both ends (27 mm) = 226.5 -> 227 mm.
    expect(() => layoutRegionCentres(20, { brainMm: [120, 150, 100], regionRadiusMm: 7.5, gapMm: 6 })).toThrow(
      /20 regions of radius 7.5 mm, 6 mm apart, need a brain at least 227 mm long; the brain is 150 mm/,
    );
  });
});

describe('BOLD series', () => {
  it('evoked amplitude, drift and AR(1) noise have the planned standard deviations', () => {
    const T = 4000;
    const n = 3;
    const regressors = new Float64Array(n * T);
    const u = createRng(3);
    for (let k = 0; k < regressors.length; k++) regressors[k] = u();
    const run = { nScans: T, nImages: n, regressors, driftBasis: [] };
    const betas = Float64Array.from([1, -1, 0.5, 0.2, 0, -0.4]); // 3 images x 2 voxels
    const cov = regressorCovariance(run);
    const sd = meanEvokedSd(betas, n, cov);
    // Planted evoked series of voxel 0, and its SD by a direct computation.
    const direct = (v: number) => {
      const x = Array.from(
        { length: T },
        (_, t) =>
          betas[v]! * regressors[t]! + betas[2 + v]! * regressors[T + t]! + betas[4 + v]! * regressors[2 * T + t]!,
      );
      const m = x.reduce((s, y) => s + y, 0) / T;
      return Math.sqrt(x.reduce((s, y) => s + (y - m) ** 2, 0) / T);
    };
    expect(sd).toBeCloseTo((direct(0) + direct(1)) / 2, 10);
    // Noise only, one voxel at baseline 100: y - 100 is the noise in % of 100.
    const out = new Float32Array(T);
    synthesizeRun(
      run,
      Int32Array.from([0]),
      Float32Array.from([100]),
      [],
      { noiseSdPsc: 2, ar1: 0.5, driftSdPsc: 0 },
      createRng(7),
      out,
    );
    const e = Array.from(out, (y) => y - 100);
    const mean = e.reduce((s, y) => s + y, 0) / T;
    const variance = e.reduce((s, y) => s + (y - mean) ** 2, 0) / T;
    let lag1 = 0;
    for (let t = 1; t < T; t++) lag1 += (e[t]! - mean) * (e[t - 1]! - mean);
    expect(Math.sqrt(variance)).toBeGreaterThan(1.8);
    expect(Math.sqrt(variance)).toBeLessThan(2.2);
    expect(lag1 / (T - 1) / variance).toBeGreaterThan(0.44);
    expect(lag1 / (T - 1) / variance).toBeLessThan(0.56);
  });

  it('fillNormal gives mean 0, variance 1', () => {
    const z = new Float64Array(100001);
    fillNormal(z, createRng(11));
    const m = z.reduce((s, v) => s + v, 0) / z.length;
    const v = z.reduce((s, x) => s + (x - m) ** 2, 0) / z.length;
    expect(Math.abs(m)).toBeLessThan(0.01);
    expect(Math.abs(v - 1)).toBeLessThan(0.02);
  });
});

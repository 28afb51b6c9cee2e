import { describe, expect, it } from 'vitest';
import { computeRdm, createNormalRng, createRng, pairCount } from '@orthostim/rdm';
import { groupNeighbors } from './neighbors';
import { computeSphereRdms, prepareSphereData, type BetaSet } from './sphere-rdms';

function randomBetas(seed: number, nRuns: number, nImages: number, nVoxels: number): BetaSet {
  const rng = createNormalRng(seed);
  return { data: Float32Array.from({ length: nRuns * nImages * nVoxels }, () => rng()), nRuns, nImages, nVoxels };
}

const beta = (b: BetaSet, r: number, i: number, v: number) => b.data[(r * b.nImages + i) * b.nVoxels + v]!;

/** Random groups of voxels (some of 1 voxel, some large) as a neighbour table. */
function randomGroups(seed: number, nVoxels: number, nGroups: number) {
  const rng = createRng(seed);
  const groupOf = Array.from({ length: nVoxels }, () => Math.floor(rng() * nGroups));
  const ids = Array.from({ length: nGroups }, (_, g) => g);
  const { offsets, indices } = groupNeighbors(groupOf, ids);
  return { offsets, indices, members: ids.map((g) => groupOf.flatMap((h, v) => (h === g ? [v] : []))) };
}

describe('computeSphereRdms (correlation, euclidean)', () => {
  for (const distance of ['correlation', 'euclidean'] as const) {
    for (const nImages of [7, 16]) {
      it(`${distance}, ${nImages} images: equals rdm's computeRdm on the run-averaged sphere patterns`, () => {
        const betas = randomBetas(3, 3, nImages, 60);
        const data = prepareSphereData(distance, betas);
        const { offsets, indices, members } = randomGroups(5, 60, 6);
        const P = pairCount(nImages);
        const out = new Float64Array(6 * P);
        computeSphereRdms(data, offsets, indices, 0, 6, out);
        members.forEach((voxels, g) => {
          const patterns = new Float64Array(nImages * voxels.length);
          for (let i = 0; i < nImages; i++) {
            voxels.forEach((v, t) => {
              patterns[i * voxels.length + t] =
                (beta(betas, 0, i, v) + beta(betas, 1, i, v) + beta(betas, 2, i, v)) / 3;
            });
          }
          const want =
            voxels.length > 0 ? computeRdm(patterns, nImages, voxels.length, distance) : new Float64Array(P).fill(NaN);
          const got = out.subarray(g * P, (g + 1) * P);
          for (let k = 0; k < P; k++) {
            if (Number.isNaN(want[k]!)) expect(got[k]).toBeNaN();
            else expect(got[k]).toBeCloseTo(want[k]!, 10);
          }
        });
      });
    }
  }

  it('gives NaN distances for a constant pattern, and an all-NaN RDM for a sphere with a NaN beta', () => {
    const betas = randomBetas(4, 2, 5, 10);
    for (let r = 0; r < 2; r++) for (let v = 0; v < 5; v++) betas.data[(r * 5 + 2) * 10 + v] = 3.25; // image 2 constant on voxels 0-4
    betas.data[(1 * 5 + 0) * 10 + 7] = NaN; // image 0, run 1, voxel 7
    const data = prepareSphereData('correlation', betas);
    const { offsets, indices } = groupNeighbors([0, 0, 0, 0, 0, 1, 1, 1, 1, 1], [0, 1]);
    const out = new Float64Array(2 * 10);
    computeSphereRdms(data, offsets, indices, 0, 2, out);
    // group 0: pairs involving image 2 are NaN, the others are not
    expect(out[1]).toBeNaN(); // (0, 2)
    expect(out[0]).not.toBeNaN(); // (0, 1)
    // group 1 holds a NaN beta: its whole RDM is NaN
    expect(Array.from(out.subarray(10, 20)).every(Number.isNaN)).toBe(true);
  });
});

describe('computeSphereRdms (crossnobis)', () => {
  /** Naive rsatoolbox-style leave-one-run-out: train = mean of the other runs, test = the left-out run. */
  function naiveCrossnobis(b: BetaSet, voxels: number[], sigma2: (r: number, v: number) => number): Float64Array {
    const K = b.nImages;
    const R = b.nRuns;
    const norm = (r: number, i: number, v: number) => beta(b, r, i, v) / Math.sqrt(sigma2(r, v));
    const out = new Float64Array(pairCount(K));
    let k = 0;
    for (let i = 0; i < K; i++) {
      for (let j = i + 1; j < K; j++) {
        let total = 0;
        for (let fold = 0; fold < R; fold++) {
          let dot = 0;
          for (const v of voxels) {
            let train = 0;
            for (let r = 0; r < R; r++) if (r !== fold) train += (norm(r, i, v) - norm(r, j, v)) / (R - 1);
            dot += train * (norm(fold, i, v) - norm(fold, j, v));
          }
          total += dot / voxels.length;
        }
        out[k++] = total / R;
      }
    }
    return out;
  }

  it('matches the leave-one-run-out formula with per-run noise normalization', () => {
    const betas = randomBetas(8, 4, 6, 30);
    const rng = createRng(9);
    const variance = Float32Array.from({ length: 4 * 30 }, () => 0.5 + 2 * rng());
    const data = prepareSphereData('crossnobis', betas, variance);
    const { offsets, indices, members } = randomGroups(10, 30, 3);
    const out = new Float64Array(3 * 15);
    computeSphereRdms(data, offsets, indices, 0, 3, out);
    members.forEach((voxels, g) => {
      const want = naiveCrossnobis(betas, voxels, (r, v) => variance[r * 30 + v]!);
      for (let k = 0; k < 15; k++) expect(out[g * 15 + k]).toBeCloseTo(want[k]!, 9);
    });
  });

  it('is unbiased: about 0 for pure noise, the true squared distance per voxel for planted differences', () => {
    const R = 6;
    const K = 4;
    const V = 4000;
    const noise = createNormalRng(11);
    const sigma = 2;
    // Image 3 differs from the others by +1 on every voxel; images 0-2 share one pattern.
    const mu = Float64Array.from({ length: V }, () => noise());
    const data = new Float32Array(R * K * V);
    for (let r = 0; r < R; r++) {
      for (let i = 0; i < K; i++) {
        for (let v = 0; v < V; v++) data[(r * K + i) * V + v] = mu[v]! + (i === 3 ? 1 : 0) + sigma * noise();
      }
    }
    const variance = new Float32Array(V).fill(sigma * sigma);
    const prepared = prepareSphereData('crossnobis', { data, nRuns: R, nImages: K, nVoxels: V }, variance);
    const { offsets, indices } = groupNeighbors(new Array(V).fill(0), [0]);
    const out = new Float64Array(6);
    computeSphereRdms(prepared, offsets, indices, 0, 1, out);
    // Pairs (0,1), (0,2), (1,2): no difference. Standard error of each ~ sqrt(2) * 2 / sqrt(V * R * (R-1)/2) ~ 0.016.
    for (const k of [0, 1, 3]) expect(Math.abs(out[k]!)).toBeLessThan(0.08);
    // Pairs with image 3: squared difference 1 per voxel, divided by the noise variance 4.
    for (const k of [2, 4, 5]) expect(out[k]).toBeCloseTo(0.25, 1);
    // The plain (non-cross-validated) Euclidean distance of the same data is far from 0 for equal images.
    const euclid = prepareSphereData('euclidean', { data, nRuns: R, nImages: K, nVoxels: V });
    const e = new Float64Array(6);
    computeSphereRdms(euclid, offsets, indices, 0, 1, e);
    expect(e[0]!).toBeGreaterThan(10);
  });

  it('with images absent from runs: each pair is leave-one-run-out over the runs that have both', () => {
    const R = 5;
    const K = 5;
    const V = 20;
    const full = randomBetas(21, R, K, V);
    const rng = createRng(22);
    const variance = Float32Array.from({ length: R * V }, () => 0.5 + 2 * rng());
    // Image 4 only in runs 0, 2, 4; image 1 absent from run 3; absent values are garbage that must not count.
    const present = new Uint8Array(R * K).fill(1);
    for (const r of [1, 3]) present[r * K + 4] = 0;
    present[3 * K + 1] = 0;
    const data = Float32Array.from(full.data);
    for (let r = 0; r < R; r++)
      for (let i = 0; i < K; i++) if (!present[r * K + i]) data.fill(1e6, (r * K + i) * V, (r * K + i + 1) * V);
    const prepared = prepareSphereData('crossnobis', { ...full, data, present }, variance);
    const { offsets, indices, members } = randomGroups(23, V, 2);
    const out = new Float64Array(2 * pairCount(K));
    computeSphereRdms(prepared, offsets, indices, 0, 2, out);
    // Independent: the naive formula on a BetaSet holding only the runs that have both images.
    members.forEach((voxels, g) => {
      let k = 0;
      for (let i = 0; i < K; i++) {
        for (let j = i + 1; j < K; j++, k++) {
          const runs = [0, 1, 2, 3, 4].filter((r) => present[r * K + i] && present[r * K + j]);
          const sub: BetaSet = {
            data: Float32Array.from(
              runs.flatMap((r) => [i, j].flatMap((m) => [...Array(V).keys()].map((v) => beta(full, r, m, v)))),
            ),
            nRuns: runs.length,
            nImages: 2,
            nVoxels: V,
          };
          const want = naiveCrossnobis(sub, voxels, (r, v) => variance[runs[r]! * V + v]!)[0]!;
          expect(out[g * pairCount(K) + k], `pair ${i},${j} over runs ${runs.join(',')}`).toBeCloseTo(want, 9);
        }
      }
    });
  });

  it('gives NaN rows for a pair that shares fewer than 2 runs, and takes presence flags for crossnobis only', () => {
    const betas = randomBetas(2, 3, 3, 4);
    const present = Uint8Array.from([1, 1, 0, 1, 0, 1, 1, 1, 1]); // images 1 and 2 together only in run 2
    const prepared = prepareSphereData('crossnobis', { ...betas, present });
    for (let v = 0; v < 4; v++) {
      const row = prepared.values.subarray(v * 3, v * 3 + 3);
      expect(Number.isFinite(row[0]!)).toBe(true); // (0, 1): runs 0 and 2
      expect(Number.isFinite(row[1]!)).toBe(true); // (0, 2): runs 1 and 2
      expect(row[2]).toBeNaN(); // (1, 2)
    }
    expect(() => prepareSphereData('correlation', { ...betas, present })).toThrow(/for --distance crossnobis/);
  });

  it('refuses a single run and a residual map of the wrong size', () => {
    expect(() => prepareSphereData('crossnobis', randomBetas(1, 1, 4, 5))).toThrow(/at least 2 runs/);
    expect(() => prepareSphereData('crossnobis', randomBetas(1, 2, 4, 5), new Float32Array(7))).toThrow(
      /residual variance must hold/,
    );
  });
});

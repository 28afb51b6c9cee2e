import { describe, expect, it } from 'vitest';
import { computeRdm, createNormalRng } from '@orthostim/rdm';
import { computeLayerProfiles } from './layer-profiles';
import { comparePairwise } from './pairwise-models';

const n = 12;
const rng = createNormalRng(31);
const rdmOf = () =>
  computeRdm(
    Float64Array.from({ length: n * 6 }, () => rng()),
    n,
    6,
    'correlation',
  );
const A = rdmOf();
const B = rdmOf();
const noisy = (base: Float64Array, sd: number) => base.map((v) => v + sd * rng());
const options = {
  comparator: 'spearman' as const,
  method: 'standard' as const,
  nBootstrap: 200,
  ciLevel: 0.95,
  seed: 3,
};

describe('comparePairwise', () => {
  it('a planted layer beats an unrelated one in every resample: p = 1/B, the smallest rsatoolbox reports', () => {
    const subjects = Array.from({ length: 5 }, () => noisy(A, 0.02));
    const r = comparePairwise('V1', ['A', 'B'], [A, B], subjects, n, options);
    const [pair] = r.pairs;
    expect(pair!.a).toBe('A');
    expect(pair!.nValid).toBe(200);
    expect(pair!.p).toBeCloseTo(1 / 200, 12);
    expect(pair!.ciLow).toBeGreaterThan(0);
    // The observed difference is the difference of the profile means (a separately tested path).
    const [profile] = computeLayerProfiles(['A', 'B'], [A, B], [{ name: 'V1', subjects }], options);
    expect(pair!.difference).toBeCloseTo(profile!.layers[0]!.mean - profile!.layers[1]!.mean, 12);
  });

  it('identical models differ by 0 with p = 1; a model RDM is compared like a layer', () => {
    const subjects = Array.from({ length: 4 }, () => noisy(A, 0.05));
    const r = comparePairwise('V1', ['A', 'B'], [A, B], subjects, n, {
      ...options,
      modelRdms: [{ name: 'copy', rdm: A }],
    });
    expect(r.models).toEqual(['A', 'B', 'copy']);
    const same = r.pairs.find((q) => q.a === 'A' && q.b === 'copy')!;
    expect(same.difference).toBe(0);
    expect(same.p).toBe(1);
    expect(r.pairs.find((q) => q.a === 'B' && q.b === 'copy')!.difference).toBeLessThan(0);
  });

  it('two models that explain the brain equally are not told apart', () => {
    // Each subject's RDM is A + B (equal weights, ranks compared): neither model wins reliably.
    const subjects = Array.from({ length: 6 }, () =>
      noisy(
        A.map((v, k) => v + B[k]!),
        0.05,
      ),
    );
    const [pair] = comparePairwise('V1', ['A', 'B'], [A, B], subjects, n, options).pairs;
    expect(pair!.p).toBeGreaterThan(0.05);
    expect(pair!.ciLow).toBeLessThan(0);
    expect(pair!.ciHigh).toBeGreaterThan(0);
  });
});

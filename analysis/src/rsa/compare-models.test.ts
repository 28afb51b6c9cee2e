import { describe, expect, it } from 'vitest';
import { create, all } from 'mathjs';
import { createNormalRng, createRng, kendallTauA, pearson, rankAverage, spearman } from '@orthostim/rdm';
import { buildModelSet, compareSphereRdms, olsResidual } from './compare-models';
import { createRankScratch, rankInto } from './rank-into';

const math = create(all!);
const P = 45; // 10 images

function randomVector(rng: () => number, n = P): Float64Array {
  return Float64Array.from({ length: n }, () => rng());
}

describe('rankInto', () => {
  it('equals rdm rankAverage, ties included', () => {
    const rng = createRng(2);
    const scratch = createRankScratch(120);
    const ranks = new Float64Array(120);
    for (const values of [
      randomVector(rng, 120),
      Float64Array.from({ length: 120 }, () => Math.floor(rng() * 7)), // many ties
      Float64Array.from({ length: 120 }, (_, k) => (k === 5 ? 1e6 : rng())), // one outlier: one crowded bucket
      Float64Array.from({ length: 120 }, (_, k) => 120 - k),
    ]) {
      const sumSq = rankInto(values, 120, ranks, scratch);
      const want = rankAverage(values);
      expect(Array.from(ranks)).toEqual(Array.from(want));
      expect(sumSq).toBeCloseTo(
        want.reduce((a, r) => a + r * r, 0),
        9,
      );
      // The same values at an offset inside a larger array.
      const padded = new Float64Array(130);
      padded.set(values, 7);
      rankInto(padded, 120, ranks, scratch, 7);
      expect(Array.from(ranks)).toEqual(Array.from(want));
    }
  });
});

describe('olsResidual', () => {
  it('equals the residual of the normal equations solved with mathjs', () => {
    const rng = createNormalRng(3);
    const y = randomVector(rng);
    const cols = [randomVector(rng), randomVector(rng), randomVector(rng)];
    const X = Array.from({ length: P }, (_, k) => [1, ...cols.map((c) => c[k]!)]);
    const Xt = math.transpose(X);
    const beta = math.lusolve(math.multiply(Xt, X), math.multiply(Xt, Array.from(y))) as number[][];
    const fitted = math.multiply(X, beta) as number[][];
    const got = olsResidual(y, cols);
    for (let k = 0; k < P; k++) expect(got[k]).toBeCloseTo(y[k]! - fitted[k]![0]!, 10);
  });

  it('drops a collinear regressor instead of failing', () => {
    const rng = createNormalRng(4);
    const a = randomVector(rng);
    const y = randomVector(rng);
    const twice = a.map((v) => 2 * v + 1);
    expect(Array.from(olsResidual(y, [a, twice])).every(Number.isFinite)).toBe(true);
    const r1 = olsResidual(y, [a]);
    const r2 = olsResidual(y, [a, twice]);
    for (let k = 0; k < P; k++) expect(r2[k]).toBeCloseTo(r1[k]!, 10);
  });
});

describe('compareSphereRdms', () => {
  const rng = createNormalRng(5);
  const layers = ['conv1', 'conv2', 'inception_3a'];
  const layerRdms = layers.map(() => randomVector(rng));
  const spheres = Array.from({ length: 6 }, () => randomVector(rng));
  spheres[2] = Float64Array.from(spheres[2]!, (v) => Math.round(v)); // ties
  spheres[3] = new Float64Array(P).fill(0.5); // no variance
  spheres[4]![7] = NaN;
  const rdms = new Float64Array(6 * P);
  spheres.forEach((s, c) => rdms.set(s, c * P));

  const reference = {
    spearman: {
      standard: spearman,
      residual: (s: Float64Array, l: number) =>
        pearson(rankAverage(s), olsResidual(rankAverage(layerRdms[l]!), others(l, true))),
    },
    pearson: {
      standard: pearson,
      residual: (s: Float64Array, l: number) => pearson(s, olsResidual(layerRdms[l]!, others(l, false))),
    },
    'kendall-tau-a': {
      standard: kendallTauA,
      residual: (s: Float64Array, l: number) =>
        kendallTauA(s, olsResidual(rankAverage(layerRdms[l]!), others(l, true))),
    },
  };
  function others(l: number, ranked: boolean): Float64Array[] {
    return layerRdms.filter((_, k) => k !== l).map((r) => (ranked ? rankAverage(r) : r));
  }

  for (const comparator of ['spearman', 'pearson', 'kendall-tau-a'] as const) {
    it(`${comparator}: matches rdm's comparator (standard) and the semipartial correlation (residual); NaN spheres counted`, () => {
      const set = buildModelSet(layers, layerRdms, comparator, ['standard', 'semipartial']);
      expect(set.models.map((m) => `${m.layer}/${m.method}`)).toEqual([
        'conv1/standard',
        'conv2/standard',
        'inception_3a/standard',
        'conv1/semipartial',
        'conv2/semipartial',
        'inception_3a/semipartial',
      ]);
      const out = new Float64Array(6 * 6);
      const invalid = compareSphereRdms(rdms, 6, set, out, 0, 6);
      expect(invalid).toBe(2);
      for (let c = 0; c < 6; c++) {
        for (let m = 0; m < 6; m++) {
          const got = out[m * 6 + c]!;
          if (c === 3 || c === 4) {
            expect(got).toBeNaN();
            continue;
          }
          const l = m % 3;
          const want =
            m < 3
              ? reference[comparator].standard(spheres[c]!, layerRdms[l]!)
              : reference[comparator].residual(spheres[c]!, l);
          expect(got).toBeCloseTo(want, 10);
        }
      }
    });
  }

  it('marks a constant model and a fully explained residual as degenerate (NaN everywhere)', () => {
    const a = randomVector(rng);
    const set = buildModelSet(
      ['a', 'b', 'flat'],
      [a, a.map((v) => 3 * v - 1), new Float64Array(P).fill(1)],
      'pearson',
      ['standard', 'semipartial'],
    );
    expect(set.degenerate).toEqual(['flat (standard)', 'a (semipartial)', 'b (semipartial)', 'flat (semipartial)']);
    const out = new Float64Array(6);
    compareSphereRdms(randomVector(rng), 1, set, out, 0, 1);
    expect(out[0]).not.toBeNaN();
    expect([out[2], out[3], out[4], out[5]].every(Number.isNaN)).toBe(true);
  });

  it('residual method singles out the one planted layer among correlated layers', () => {
    // Five layers share a common geometry plus a unique part each; the "brain" follows layer 3.
    const nrng = createNormalRng(6);
    const shared = randomVector(nrng, 190);
    const names = ['l0', 'l1', 'l2', 'l3', 'l4'];
    const rdmsL = names.map(() => {
      const unique = randomVector(nrng, 190);
      return shared.map((v, k) => v + 0.6 * unique[k]!);
    });
    const brain = rdmsL[3]!.map((v) => v + 0.2 * nrng());
    const set = buildModelSet(names, rdmsL, 'spearman', ['standard', 'semipartial']);
    const out = new Float64Array(10);
    compareSphereRdms(Float64Array.from(brain), 1, set, out, 0, 1);
    // Standard RSA: every layer correlates with the brain RDM.
    for (let l = 0; l < 5; l++) expect(out[l]!).toBeGreaterThan(0.6);
    // Residual: only the planted layer keeps a clear correlation.
    expect(out[5 + 3]!).toBeGreaterThan(0.4);
    for (const l of [0, 1, 2, 4]) expect(Math.abs(out[5 + l]!)).toBeLessThan(0.15);
  });

  it('refuses model RDMs with NaN or of different lengths', () => {
    expect(() => buildModelSet(['a', 'b'], [new Float64Array(3), new Float64Array(6)], 'spearman')).toThrow(
      /layer "b" has 6 values; expected 3/,
    );
    expect(() => buildModelSet(['a'], [Float64Array.from([1, NaN, 2])], 'spearman')).toThrow(
      /layer "a" holds a non-finite value/,
    );
    expect(() => buildModelSet(['a'], [Float64Array.from([1, 3, 2])], 'tau' as never)).toThrow(
      /--compare must be one of spearman, pearson, kendall-tau-a; got "tau"/,
    );
  });
});

describe('extra model RDMs (--model-rdm)', () => {
  it('are compared with the standard method and left out of the layers residuals', () => {
    const rng = createNormalRng(21);
    const a = randomVector(rng);
    const b = randomVector(rng);
    // A categorical model RDM (two categories of five images): 0 within, 1 between.
    const category = Float64Array.from({ length: P }, (_, k) => {
      let i = 0;
      let j = k;
      while (j >= 9 - i) j -= 9 - i++;
      j += i + 1;
      return Math.floor(i / 5) === Math.floor(j / 5) ? 0 : 1;
    });
    const set = buildModelSet(['a', 'b'], [a, b], 'spearman', ['standard', 'semipartial'], {
      extra: [{ name: 'category', rdm: category }],
    });
    expect(set.models).toEqual([
      { layer: 'a', method: 'standard' },
      { layer: 'b', method: 'standard' },
      { layer: 'a', method: 'semipartial' },
      { layer: 'b', method: 'semipartial' },
      { layer: 'category', method: 'standard', kind: 'model' },
    ]);
    // The residuals are those of a model set without the extra model.
    const without = buildModelSet(['a', 'b'], [a, b], 'spearman', ['standard', 'semipartial']);
    expect(Array.from(set.vectors.subarray(0, 4 * P))).toEqual(Array.from(without.vectors));
    const sphere = randomVector(rng);
    const out = new Float64Array(5);
    compareSphereRdms(sphere, 1, set, out, 0, 1);
    expect(out[4]).toBeCloseTo(spearman(sphere, category), 10);
    // 20 within-category pairs of 45: the model has ties, as categorical RDMs do.
    expect(category.reduce((s, v) => s + (v === 0 ? 1 : 0), 0)).toBe(20);
  });

  it('refuses a model RDM named like a layer', () => {
    const rng = createNormalRng(22);
    expect(() =>
      buildModelSet(['a'], [randomVector(rng)], 'pearson', ['standard'], {
        extra: [{ name: 'a', rdm: randomVector(rng) }],
      }),
    ).toThrow(/model RDM "a": the name is taken/);
  });
});

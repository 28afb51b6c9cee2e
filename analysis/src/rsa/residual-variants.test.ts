import { describe, expect, it } from 'vitest';
import { all, create } from 'mathjs';
import { createNormalRng, pearson, rankAverage, spearman } from '@orthostim/rdm';
import { buildModelSet, compareSphereRdms, methodFields, methodOfFields, methodsOf } from './compare-models';
import { prepareUniquePlan, uniqueVariances } from './cv-unique-variance';
import { parseResidualVariants, RESIDUAL_VARIANT_NAMES } from './residual-variants';

const math = create(all!);
const N = 12; // images
const P = (N * (N - 1)) / 2;

/** Residual of y on an intercept and the columns, by the normal equations in mathjs (independent of olsResidual). */
function residualByNormalEquations(y: ArrayLike<number>, cols: readonly ArrayLike<number>[]): number[] {
  const X = Array.from({ length: y.length }, (_, k) => [1, ...cols.map((c) => c[k]!)]);
  const Xt = math.transpose(X);
  const beta = math.lusolve(math.multiply(Xt, X), math.multiply(Xt, Array.from(y))) as number[][];
  const fit = math.multiply(X, beta) as number[][];
  return Array.from(y, (v, k) => v - fit[k]![0]!);
}

/** Least-squares fit on the rows `train`, prediction errors on the rows `test` (mathjs). */
function foldError(y: ArrayLike<number>, cols: readonly ArrayLike<number>[], train: number[], test: number[]): number {
  const row = (k: number) => [1, ...cols.map((c) => c[k]!)];
  const X = train.map(row);
  const Xt = math.transpose(X);
  const beta = math.lusolve(
    math.multiply(Xt, X),
    math.multiply(
      Xt,
      train.map((k) => y[k]!),
    ),
  ) as number[][];
  let sse = 0;
  for (const k of test) {
    const pred = row(k).reduce((s, v, j) => s + v * beta[j]![0]!, 0);
    sse += (y[k]! - pred) ** 2;
  }
  return sse;
}

/** Correlated layers: a shared geometry plus a part of their own. */
function correlatedLayers(seed: number, L: number): Float64Array[] {
  const rng = createNormalRng(seed);
  const shared = Float64Array.from({ length: P }, () => rng());
  return Array.from({ length: L }, () => shared.map((v) => v + 0.7 * rng()));
}

describe('residual variants', () => {
  const layers = ['a', 'b', 'c', 'd'];
  const rdms = correlatedLayers(11, 4);
  const rng = createNormalRng(12);
  const spheres = [0, 1, 2].map((s) => rdms[s]!.map((v) => v + 0.8 * rng()));
  const packed = new Float64Array(3 * P);
  spheres.forEach((s, c) => packed.set(s, c * P));

  function run(method: Parameters<typeof buildModelSet>[3], comparator: 'spearman' | 'pearson', extra = {}) {
    const set = buildModelSet(layers, rdms, comparator, method, extra);
    const out = new Float64Array(set.models.length * 3);
    compareSphereRdms(packed, 3, set, out, 0, 3);
    return { set, out };
  }

  for (const comparator of ['spearman', 'pearson'] as const) {
    const prep = (v: ArrayLike<number>) => (comparator === 'spearman' ? rankAverage(v) : Float64Array.from(v));
    it(`${comparator}: partial = correlation of both residuals on the other layers (normal equations)`, () => {
      const { out } = run(['partial'], comparator);
      for (let c = 0; c < 3; c++)
        for (let l = 0; l < 4; l++) {
          const others = rdms.filter((_, k) => k !== l).map(prep);
          const want = pearson(
            Float64Array.from(residualByNormalEquations(prep(spheres[c]!), others)),
            Float64Array.from(residualByNormalEquations(prep(rdms[l]!), others)),
          );
          expect(out[l * 3 + c]).toBeCloseTo(want, 9);
        }
    });

    it(`${comparator}: neighbors = semipartial against the adjacent layers only`, () => {
      const { out } = run(['neighbors'], comparator);
      for (let c = 0; c < 3; c++)
        for (let l = 0; l < 4; l++) {
          const adjacent = rdms.filter((_, k) => Math.abs(k - l) === 1).map(prep);
          const want = pearson(
            prep(spheres[c]!),
            Float64Array.from(residualByNormalEquations(prep(rdms[l]!), adjacent)),
          );
          expect(out[l * 3 + c]).toBeCloseTo(want, 9);
        }
    });
  }

  it('activation: the activation-residual RDMs compared as standard models', () => {
    const activation = correlatedLayers(13, 4);
    const { out } = run(['activation'], 'spearman', { activationRdms: activation });
    for (let c = 0; c < 3; c++)
      for (let l = 0; l < 4; l++) expect(out[l * 3 + c]).toBeCloseTo(spearman(spheres[c]!, activation[l]!), 10);
    expect(() => buildModelSet(layers, rdms, 'spearman', ['activation'])).toThrow(/needs activation-residual RDMs/);
  });

  it('unique: equals fold-by-fold least squares (mathjs) of the cross-validated unique variance', () => {
    const { out, set } = run(['standard', 'unique'], 'spearman');
    expect(set.models.map((m) => m.method)).toEqual([...layers.map(() => 'standard'), ...layers.map(() => 'unique')]);
    const K = set.unique!.plan.folds;
    const pairs: [number, number][] = [];
    for (let i = 0; i < N; i++) for (let j = i + 1; j < N; j++) pairs.push([i, j]);
    const ranked = rdms.map((r) => rankAverage(r));
    for (let c = 0; c < 3; c++) {
      const x = rankAverage(spheres[c]!);
      const sse = (cols: Float64Array[]) => {
        let total = 0;
        for (let f = 0; f < K; f++) {
          const inFold = (i: number) => i % K === f;
          const test = pairs.flatMap(([i, j], k) => (inFold(i) || inFold(j) ? [k] : []));
          const train = pairs.flatMap(([i, j], k) => (inFold(i) || inFold(j) ? [] : [k]));
          total += foldError(x, cols, train, test);
        }
        return total;
      };
      const base = sse([]);
      const full = sse(ranked);
      for (let l = 0; l < 4; l++) {
        const u = (sse(ranked.filter((_, k) => k !== l)) - full) / base;
        expect(out[(4 + l) * 3 + c]).toBeCloseTo(Math.sign(u) * Math.sqrt(Math.abs(u)), 8);
      }
    }
  });

  it('unique variance in the planted layer dominates; others near zero', () => {
    const { out } = run(['unique'], 'spearman');
    // Sphere 0 follows layer a.
    expect(out[0]).toBeGreaterThan(0.2);
    for (let l = 1; l < 4; l++) expect(Math.abs(out[l * 3]!)).toBeLessThan(0.15);
  });

  it('unique: with many images and folds its root approaches the in-sample semipartial correlation', () => {
    // Many folds of many images: cross-validated unique variance is close to the in-sample squared semipartial.
    const n = 40;
    const Pn = (n * (n - 1)) / 2;
    const r = createNormalRng(21);
    const a = Float64Array.from({ length: Pn }, () => r());
    const b = a.map((v) => v + r());
    const x = a.map((v) => v + 0.5 * r());
    const plan = prepareUniquePlan([a, b], n, 20);
    const values = new Float64Array(2);
    uniqueVariances(x, plan, values);
    const sp = pearson(x, Float64Array.from(residualByNormalEquations(a, [b])));
    expect(values[0]).toBeCloseTo(sp, 1);
  });

  it('partial and unique need a dot comparator', () => {
    expect(() => buildModelSet(layers, rdms, 'kendall-tau-a', ['partial'])).toThrow(/needs a Spearman or Pearson/);
  });
});

describe('variant names and index fields', () => {
  it('parses lists and all, refuses unknown names', () => {
    expect(parseResidualVariants('unique, partial')).toEqual(['partial', 'unique']);
    expect(parseResidualVariants('all')).toEqual(RESIDUAL_VARIANT_NAMES);
    expect(() => parseResidualVariants('semi', '--residual')).toThrow(
      /--residual must be one of semipartial.*got "semi"/,
    );
  });

  it('methods of a choice, and index.json fields both ways', () => {
    expect(methodsOf('both', ['partial', 'unique'])).toEqual(['standard', 'partial', 'unique']);
    expect(methodsOf('standard', ['partial'])).toEqual(['standard']);
    expect(methodFields('partial')).toEqual({ method: 'residual', residual: 'partial' });
    expect(methodFields('standard')).toEqual({ method: 'standard' });
    expect(methodOfFields({ method: 'residual', residual: 'unique' })).toBe('unique');
    // Outputs older than the variants: residual maps were semipartial.
    expect(methodOfFields({ method: 'residual' })).toBe('semipartial');
    expect(methodOfFields({})).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import { all, create } from 'mathjs';
import { computeRdm, createNormalRng } from '@orthostim/rdm';
import { computeActivationResiduals, invertSpd } from './activation-residuals';

const math = create(all!);

/** Rows centred over features and scaled to unit length: what features.ts prepares for correlation distance. */
function prepareRows(x: number[][]): number[][] {
  return x.map((row) => {
    const mean = row.reduce((a, b) => a + b, 0) / row.length;
    const c = row.map((v) => v - mean);
    const norm = Math.hypot(...c);
    return c.map((v) => v / norm);
  });
}

const colMeans = (rows: number[][]) => rows[0]!.map((_, j) => rows.reduce((s, r) => s + r[j]!, 0) / rows.length);

/** Columns centred over the rows (images). */
function centre(rows: number[][]): number[][] {
  const means = colMeans(rows);
  return rows.map((r) => r.map((v, j) => v - means[j]!));
}

const sumSquares = (rows: number[][]) => rows.reduce((s, r) => s + r.reduce((t, v) => t + v * v, 0), 0);

const gramOf = (rows: number[][]) =>
  Float64Array.from(rows.flatMap((a) => rows.map((b) => a.reduce((s, v, k) => s + v * b[k]!, 0))));

describe('computeActivationResiduals', () => {
  const n = 9;
  const rng = createNormalRng(31);
  // Three layers of 6, 7 and 5 features; layer 1 is mostly a linear map of layer 0.
  const l0 = Array.from({ length: n }, () => Array.from({ length: 6 }, () => rng()));
  const mix = Array.from({ length: 6 }, () => Array.from({ length: 7 }, () => rng()));
  const l1 = l0.map((row) => mix[0]!.map((_, j) => row.reduce((s, v, k) => s + v * mix[k]![j]!, 0) + 0.3 * rng()));
  const l2 = Array.from({ length: n }, () => Array.from({ length: 5 }, () => rng()));
  const layers = [l0, l1, l2].map(prepareRows);
  const grams = layers.map(gramOf);

  it('equals leave-one-image-out ridge regressions in feature space (mathjs), RDM by rdm/computeRdm', () => {
    const alpha = 0.1;
    const got = computeActivationResiduals(grams, n, 'correlation', [alpha]);
    for (let l = 0; l < 3; l++) {
      // Other layers' rows, each scaled so its centred Gram has unit mean diagonal.
      const others = layers
        .filter((_, k) => k !== l)
        .map((rows) => {
          const s = Math.sqrt(sumSquares(centre(rows)) / n);
          return rows.map((r) => r.map((v) => v / s));
        });
      const X = Array.from({ length: n }, (_, i) => others.flatMap((rows) => rows[i]!));
      const Y = layers[l]!;
      const lambda = (alpha * sumSquares(centre(X))) / n;
      const q = X[0]!.length;
      const residuals: number[][] = [];
      for (let i = 0; i < n; i++) {
        const train = Array.from({ length: n }, (_, k) => k).filter((k) => k !== i);
        const Xt = train.map((k) => X[k]!);
        const Yt = train.map((k) => Y[k]!);
        const xm = colMeans(Xt);
        const ym = colMeans(Yt);
        const A = Xt.map((r) => r.map((v, j) => v - xm[j]!));
        const B = Yt.map((r) => r.map((v, j) => v - ym[j]!));
        const At = math.transpose(A);
        const w = math.multiply(
          math.inv(math.add(math.multiply(At, A), math.multiply(lambda, math.identity(q))) as never),
          math.multiply(At, B),
        ) as unknown as { toArray(): number[][] } | number[][];
        const W = Array.isArray(w) ? w : w.toArray();
        const xi = X[i]!.map((v, j) => v - xm[j]!);
        const pred = ym.map((m, j) => m + xi.reduce((s, v, k) => s + v * W[k]![j]!, 0));
        residuals.push(Y[i]!.map((v, j) => v - pred[j]!));
      }
      const want = computeRdm(Float64Array.from(residuals.flat()), n, Y[0]!.length, 'correlation');
      for (let k = 0; k < want.length; k++) expect(got.rdms[l]![k]).toBeCloseTo(want[k]!, 9);
      // Explained share: 1 - sum of squared leave-one-out residuals / centred sum of squares.
      const ym = colMeans(Y);
      const ss = Y.reduce((s, r) => s + r.reduce((t, v, j) => t + (v - ym[j]!) ** 2, 0), 0);
      const sse = residuals.reduce((s, r) => s + r.reduce((t, v) => t + v * v, 0), 0);
      expect(got.explained[l]).toBeCloseTo(1 - sse / ss, 9);
    }
  });

  it('the layer the others predict has most of its variance explained; the independent one little', () => {
    const m = 40;
    const r = createNormalRng(32);
    const a = Array.from({ length: m }, () => Array.from({ length: 6 }, () => r()));
    const b = a.map((row) => mix[0]!.map((_, j) => row.reduce((s, v, k) => s + v * mix[k]![j]!, 0) + 0.3 * r()));
    const c = Array.from({ length: m }, () => Array.from({ length: 5 }, () => r()));
    const got = computeActivationResiduals([a, b, c].map(prepareRows).map(gramOf), m, 'correlation');
    expect(got.explained[1]!).toBeGreaterThan(0.5);
    expect(got.explained[2]!).toBeLessThan(0.2);
  });

  it('invertSpd inverts (A inv(A) = I) and refuses a singular matrix', () => {
    const a = Float64Array.from([4, 1, 0.5, 1, 3, 0.2, 0.5, 0.2, 2]);
    const inv = invertSpd(a, 3);
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 3; j++) {
        let s = 0;
        for (let k = 0; k < 3; k++) s += a[i * 3 + k]! * inv[k * 3 + j]!;
        expect(s).toBeCloseTo(i === j ? 1 : 0, 12);
      }
    expect(() => invertSpd(Float64Array.from([1, 1, 1, 1]), 2)).toThrow(/not positive definite/);
  });
});

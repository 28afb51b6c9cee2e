import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { createNormalRng, similarityMatrix } from '@orthostim/rdm';
import { DEFAULT_LOSS, LOSS_NAMES, objectiveTf, type LossSettings } from './loss';

beforeAll(async () => {
  await tf.setBackend('wasm');
});

const L = 4;
const P = 15;
function rdmRows(seed: number): number[][] {
  const normal = createNormalRng(seed);
  // Correlated rows (shared component) so the layer correlations are far from 0.
  const base = Array.from({ length: P }, () => normal());
  return Array.from({ length: L }, (_, l) => base.map((b) => 1 + 0.2 * (b + (l + 1) * 0.5 * normal())));
}

/** The objective by hand, from rdm/'s similarity matrix. */
function referenceObjective(rows: number[][], s: LossSettings, w?: number[]): number {
  const m = similarityMatrix(rows, 'pearson');
  const r: number[] = [];
  for (let a = 0; a < L; a++) for (let b = a + 1; b < L; b++) r.push(m[a]![b]!);
  const ws = w ?? r.map(() => 1);
  const W = ws.reduce((x, y) => x + y, 0);
  const agg = {
    squared: () => r.reduce((acc, v, i) => acc + ws[i]! * v * v, 0) / W,
    abs: () => r.reduce((acc, v, i) => acc + ws[i]! * Math.sqrt(v * v + 1e-6), 0) / W,
    softmax: () =>
      s.temperature * Math.log(r.reduce((acc, v, i) => acc + ws[i]! * Math.exp((v * v) / s.temperature), 0) / W),
  }[s.loss]();
  const pen =
    rows
      .map((row) => {
        const mean = row.reduce((x, y) => x + y, 0) / P;
        const sd = Math.sqrt(row.reduce((x, y) => x + (y - mean) ** 2, 0) / P);
        return Math.max(0, 1 - sd / mean / s.minCv) ** 2;
      })
      .reduce((x, y) => x + y, 0) / L;
  return agg + s.spreadWeight * pen;
}

describe('objectiveTf', () => {
  for (const loss of LOSS_NAMES) {
    it(`${loss}: equals the typed-array computation, with pair weights and the spread penalty`, () => {
      const rows = rdmRows(3);
      const s = { ...DEFAULT_LOSS, loss, minCv: 0.3, spreadWeight: 2 };
      const w = [1, 2, 0.5, 1, 3, 1];
      const parts = objectiveTf(tf.tensor2d(rows), s, Float32Array.from(w));
      expect(parts.penalty.dataSync()[0]).toBeGreaterThan(0);
      expect(parts.total.dataSync()[0]).toBeCloseTo(referenceObjective(rows, s, w), 5);
      expect(referenceObjective(rows, s, w)).not.toBeCloseTo(referenceObjective(rows, s), 3);
    });
  }

  it('reports each layer mean and coefficient of variation; no penalty when spread is large enough', () => {
    const rows = rdmRows(4);
    const parts = objectiveTf(tf.tensor2d(rows), { ...DEFAULT_LOSS, minCv: 0.01 });
    expect(parts.penalty.dataSync()[0]).toBe(0);
    const row = rows[2]!;
    const mean = row.reduce((x, y) => x + y, 0) / P;
    const sd = Math.sqrt(row.reduce((x, y) => x + (y - mean) ** 2, 0) / P);
    expect(parts.mean.dataSync()[2]).toBeCloseTo(mean, 5);
    expect(parts.cv.dataSync()[2]).toBeCloseTo(sd / mean, 5);
  });

  it('has a gradient that matches a finite difference', () => {
    const rows = rdmRows(5);
    const s = { ...DEFAULT_LOSS, minCv: 0.3 };
    const f = (x: tf.Tensor) => objectiveTf(x as tf.Tensor2D, s).total;
    const g = tf.grad(f)(tf.tensor2d(rows)).dataSync();
    const normal = createNormalRng(9);
    const d = rows.map((row) => row.map(() => normal()));
    const eps = 1e-3;
    const shifted = (sgn: number) =>
      referenceObjective(
        rows.map((row, a) => row.map((v, i) => v + sgn * eps * d[a]![i]!)),
        s,
      );
    const numeric = (shifted(1) - shifted(-1)) / (2 * eps);
    const analytic = d.flat().reduce((acc, v, i) => acc + v * g[i]!, 0);
    expect(analytic).toBeCloseTo(numeric, 3);
  });
});

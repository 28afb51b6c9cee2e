import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  computeRdm,
  createNormalRng,
  fromSquare,
  meanAbsOffDiagonal,
  pearson,
  similarityMatrix,
  PATTERN_DISTANCE_NAMES,
} from '@orthostim/rdm';
import { initBackend } from './backend';
import { computeRdmTf, meanAbsOffDiagonalTf, pearsonTf, similarityMatrixTf, upperTriangleTf } from './rdm-tf';

// One spec, two implementations: rdm/ (typed arrays, float64) is the reference.

function randomPatterns(seed: number, n: number, p: number, offset = 0): Float32Array {
  const rnd = createNormalRng(seed);
  const x = new Float32Array(n * p);
  for (let i = 0; i < x.length; i++) x[i] = offset + rnd();
  return x;
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i] as number;
    const a = actual[i] as number;
    if (Math.abs(a - e) > tol * Math.max(1, Math.abs(e)))
      throw new Error(`entry ${i}: got ${a}, expected ${e} (tolerance ${tol})`);
  }
}

// Every test runs on the wasm and the cpu backend (node too when tfjs-node is installed).
describe.each(['wasm', 'cpu'] as const)('on the %s backend', (backend) => {
  beforeAll(async () => {
    await initBackend(backend);
  });

  describe('computeRdmTf matches rdm/ computeRdm', () => {
    // 7 images x 13 features (unequal, so a transposition would show); offset 5 so that the
    // euclidean Gram has the large diagonal that makes float32 cancellation visible.
    const n = 7;
    const p = 13;
    const x = randomPatterns(11, n, p, 5);
    for (const distance of PATTERN_DISTANCE_NAMES) {
      it(distance, () => {
        const expected = computeRdm(x, n, p, distance);
        const got = tf.tidy(() => computeRdmTf(tf.tensor2d(x, [n, p]), distance).dataSync());
        expectClose(got, expected, 1e-5);
      });
    }

    it('on as many features as conv1 (p = 802,816, ReLU-like activations), to 1e-5', () => {
      const p = 802_816;
      // Like real activations: sparse, non-negative, and highly correlated across images (a shared
      // pattern plus a little image-specific noise), where float32 accumulation errors show most.
      const common = randomPatterns(4, 1, p);
      const big = randomPatterns(3, 4, p).map((v, i) => Math.max(0, 2 * common[i % p]! + 0.5 * v - 1));
      const expected = computeRdm(big, 4, p, 'correlation');
      const got = tf.tidy(() => computeRdmTf(tf.tensor2d(big, [4, p]), 'correlation').dataSync());
      expectClose(got, expected, 1e-5);
    });

    it('gives NaN for an all-zero row under correlation, like rdm/', () => {
      const z = new Float32Array([0, 0, 0, 1, 2, 4, 3, 1, 0]);
      const got = tf.tidy(() => computeRdmTf(tf.tensor2d(z, [3, 3]), 'correlation').arraySync());
      const expected = computeRdm(z, 3, 3, 'correlation');
      expect(Number.isNaN(got[0])).toBe(true);
      expect(Number.isNaN(got[1])).toBe(true);
      expect(got[2]).toBeCloseTo(expected[2]!, 6);
    });
  });

  describe('the other twins', () => {
    it('upperTriangleTf is fromSquare', () => {
      const m = Float32Array.from({ length: 25 }, (_, i) => i * 1.5 - 3);
      const got = tf.tidy(() => upperTriangleTf(tf.tensor2d(m, [5, 5])).dataSync());
      expect(Array.from(got)).toEqual(Array.from(fromSquare(m, 5)));
    });

    it('pearsonTf is pearson', () => {
      const a = randomPatterns(5, 1, 30);
      const b = randomPatterns(6, 1, 30).map((v, i) => v + 0.5 * (a[i] as number));
      const got = tf.tidy(() => pearsonTf(tf.tensor1d(a), tf.tensor1d(b)).dataSync()[0]!);
      expect(got).toBeCloseTo(pearson(a, b), 6);
    });

    it('similarityMatrixTf and meanAbsOffDiagonalTf are similarityMatrix and meanAbsOffDiagonal (pearson)', () => {
      const L = 4;
      const m = 21;
      const v = randomPatterns(9, L, m);
      const rows = Array.from({ length: L }, (_, i) => v.subarray(i * m, (i + 1) * m));
      const expected = similarityMatrix(rows, 'pearson');
      const [got, mean] = tf.tidy(() => {
        const s = similarityMatrixTf(tf.tensor2d(v, [L, m]), 'pearson');
        return [s.arraySync(), meanAbsOffDiagonalTf(s).dataSync()[0]!] as const;
      });
      expectClose(got.flat(), expected.flat(), 1e-5);
      expect(mean).toBeCloseTo(meanAbsOffDiagonal(expected), 5);
    });
  });

  describe('gradients', () => {
    it('of pearsonTf(computeRdmTf(x), target) match float64 finite differences of the rdm/ reference', () => {
      const n = 5;
      const p = 6;
      const x = randomPatterns(21, n, p, 1);
      const target = new Float64Array(randomPatterns(22, 1, (n * (n - 1)) / 2));
      const loss64 = (xs: Float64Array) => pearson(computeRdm(xs, n, p, 'correlation'), target);

      const grad = tf.tidy(() => {
        const t = tf.tensor1d(Float32Array.from(target));
        const g = tf.grad((xt: tf.Tensor) => pearsonTf(computeRdmTf(xt as tf.Tensor2D, 'correlation'), t));
        return g(tf.tensor2d(x, [n, p])).dataSync();
      });

      const base = Float64Array.from(x);
      const h = 1e-6;
      const fd = new Float64Array(n * p);
      for (let k = 0; k < n * p; k++) {
        const plus = Float64Array.from(base);
        const minus = Float64Array.from(base);
        plus[k] = base[k]! + h;
        minus[k] = base[k]! - h;
        fd[k] = (loss64(plus) - loss64(minus)) / (2 * h);
      }
      const scale = Math.max(...fd.map(Math.abs));
      expect(scale).toBeGreaterThan(1e-3);
      for (let k = 0; k < n * p; k++) expect(Math.abs(grad[k]! - fd[k]!)).toBeLessThan(1e-3 * scale);
    });
  });
});

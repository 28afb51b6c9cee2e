import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { applyTransform, DEFAULT_TRANSFORMS, drawTransform } from './transforms';

beforeAll(async () => {
  await tf.setBackend('wasm');
});

describe('drawTransform', () => {
  it('is a function of seed and step, within the configured ranges', () => {
    const a = Array.from({ length: 50 }, (_, step) => drawTransform(7, step, 224, DEFAULT_TRANSFORMS));
    const again = Array.from({ length: 50 }, (_, step) => drawTransform(7, step, 224, DEFAULT_TRANSFORMS));
    expect(again).toEqual(a);
    const j = Math.round(0.04 * 224);
    for (const t of a) {
      expect(Math.abs(t.dx)).toBeLessThanOrEqual(j);
      expect(Math.abs(t.dy)).toBeLessThanOrEqual(j);
      expect(t.scaledSize).toBeGreaterThanOrEqual(Math.round(224 * 0.92));
      expect(t.scaledSize).toBeLessThanOrEqual(Math.round(224 * 1.08));
    }
    expect(new Set(a.map((t) => `${t.dx},${t.dy},${t.scaledSize}`)).size).toBeGreaterThan(40);
    expect(drawTransform(8, 3, 224, DEFAULT_TRANSFORMS)).not.toEqual(a[3]);
  });
});

describe('applyTransform', () => {
  const size = 6;
  const values = Float32Array.from({ length: 2 * size * size * 3 }, (_, i) => (i % 97) / 97);
  const at = (v: ArrayLike<number>, b: number, y: number, x: number, c: number) =>
    v[((b * size + y) * size + x) * 3 + c]!;

  it('shifts by whole pixels and fills with grey', () => {
    const out = applyTransform(tf.tensor4d(values, [2, size, size, 3]), { scaledSize: size, dy: 2, dx: -1 }).dataSync();
    for (let b = 0; b < 2; b++)
      for (let y = 0; y < size; y++)
        for (let x = 0; x < size; x++)
          for (let c = 0; c < 3; c++) {
            const sy = y - 2;
            const sx = x + 1;
            const expected = sy >= 0 && sy < size && sx >= 0 && sx < size ? at(values, b, sy, sx, c) : 0.5;
            expect(at(out, b, y, x, c)).toBeCloseTo(expected, 6);
          }
  });

  it('keeps the output size when scaling up or down, and passes gradients on wasm', () => {
    for (const scaledSize of [5, 7]) {
      const x = tf.tensor4d(values, [2, size, size, 3]);
      const t = { scaledSize, dy: 1, dx: 1 };
      expect(applyTransform(x, t).shape).toEqual([2, size, size, 3]);
      const g = Array.from(
        tf
          .grad((v: tf.Tensor) => tf.sum(applyTransform(v as tf.Tensor4D, t)))(x)
          .dataSync(),
      );
      // Every output pixel is a convex combination of inputs or grey: gradients sum to the count of
      // output values that come from the image (not from padding), all non-negative.
      expect(Math.min(...g)).toBeGreaterThanOrEqual(-1e-6);
      const total = g.reduce((s, v) => s + v, 0);
      expect(total).toBeGreaterThan(0);
      expect(total).toBeLessThanOrEqual(2 * size * size * 3 + 1e-3);
    }
  });
});

import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend';
import { maxPoolBackward, maxPoolFastGrad } from './fast-pool';

/** tf.grad of a function of a 4-D tensor (tf.grad's own typing takes only plain Tensor parameters). */
const grad4 = (f: (x: tf.Tensor4D) => tf.Tensor) =>
  tf.grad((x: tf.Tensor) => f(x as tf.Tensor4D)) as (x: tf.Tensor4D) => tf.Tensor4D;

/** Same positions receive gradient, same values up to float summation order. */
function expectSameGradient(got: ArrayLike<number>, reference: ArrayLike<number>): void {
  expect(got.length).toBe(reference.length);
  const nonzero = (a: ArrayLike<number>) => Array.from(a, (v) => v !== 0);
  expect(nonzero(got)).toEqual(nonzero(reference));
  let worst = 0;
  for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i]! - reference[i]!));
  expect(worst).toBeLessThan(1e-6);
}

describe('max pooling with the typed-array gradient', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });

  it('sends each gradient to the first maximum of its window (hand-computed)', () => {
    // 1 x 3 x 4 x 1 input, 2x2 windows, stride 2 ('valid'): windows {0,1,4,5} and {2,3,6,7}.
    const x = new Float32Array([1, 5, 7, 7, 5, 2, 0, 7, 9, 9, 9, 9]);
    const dx = maxPoolBackward(x, [1, 3, 4, 1], new Float32Array([10, 20]), 1, 2, {
      kernel: 2,
      stride: 2,
      padTop: 0,
      padLeft: 0,
    });
    // First window max 5 at index 1 (the 5 at index 4 ties but comes later); second: 7 at index 2.
    expect(Array.from(dx)).toEqual([0, 10, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it("equals the cpu backend's MaxPoolGrad, ties included, for 'valid' and 'same'", () => {
    tf.tidy(() => {
      for (const [shape, k, s, pad] of [
        [[2, 9, 7, 5], 3, 2, 'valid'],
        [[2, 9, 7, 5], 3, 2, 'same'],
        [[2, 8, 10, 4], 3, 1, 'same'],
        [[1, 10, 12, 3], 3, 2, 'same'],
      ] as const) {
        // Values quantized to 0..3 so that windows often hold several equal maxima.
        const x = tf.round(tf.randomUniform([...shape], 0, 3, 'float32', 5)) as tf.Tensor4D;
        const weights = tf.randomNormal(tf.maxPool(x, k, s, pad).shape, 0, 1, 'float32', 6);
        const reference = grad4((a: tf.Tensor4D) => tf.sum(tf.mul(tf.maxPool(a, k, s, pad), weights)))(x);
        const got = grad4((a: tf.Tensor4D) => tf.sum(tf.mul(maxPoolFastGrad(a, k, s, pad), weights)))(x);
        expectSameGradient(got.dataSync(), reference.dataSync());
      }
    });
  });

  it('works on wasm and matches the cpu reference there too', async () => {
    const x = tf.tidy(() => tf.round(tf.randomUniform([2, 8, 9, 6], 0, 3, 'float32', 7)));
    const w = tf.tidy(() => tf.randomNormal([2, 4, 5, 6], 0, 1, 'float32', 8));
    const f = (pool: typeof maxPoolFastGrad) => (a: tf.Tensor4D) => tf.sum(tf.mul(pool(a, 3, 2, 'same'), w));
    const reference = grad4(f((a, kk, ss, pp) => tf.maxPool(a, kk, ss, pp)))(x as tf.Tensor4D).dataSync();
    await initBackend('wasm');
    const got = grad4(f(maxPoolFastGrad))(x as tf.Tensor4D).dataSync();
    expectSameGradient(got, reference);
    await initBackend('cpu');
  });
});

import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend';
import { FastConv2D } from './fast-conv';

/** tf.grad of a function of a 4-D tensor (tf.grad's own typing takes only plain Tensor parameters). */
const grad4 = (f: (x: tf.Tensor4D) => tf.Tensor) =>
  tf.grad((x: tf.Tensor) => f(x as tf.Tensor4D)) as (x: tf.Tensor4D) => tf.Tensor4D;

function maxAbs(t: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(t)).dataSync()[0]!);
}

// Kernel sizes, strides and pads of GoogLeNet and beyond; unequal H and W; odd sizes where the
// last rows/cols do not reach a full window.
const CASES: Array<[k: number, stride: number, pad: number, h: number, w: number]> = [
  [1, 1, 0, 9, 7],
  [3, 1, 1, 9, 7],
  [5, 1, 2, 8, 11],
  [3, 1, 0, 6, 5],
  [7, 2, 3, 13, 10],
  [7, 2, 3, 16, 15],
  [3, 2, 0, 9, 8],
  [3, 2, 1, 10, 9],
  [5, 2, 1, 12, 9],
  [4, 3, 1, 11, 13],
];

describe.each(['wasm', 'cpu'] as const)('FastConv2D on %s', (backend) => {
  beforeAll(async () => {
    await initBackend(backend);
  });
  afterAll(() => tf.disposeVariables());

  it.each(CASES)('input gradient equals tf.grad of conv2d (k=%i stride=%i pad=%i, %ix%i)', (k, stride, pad, h, w) => {
    tf.tidy(() => {
      const x = tf.randomNormal([2, h, w, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
      const filter = tf.randomNormal([k, k, 3, 5], 0, 1, 'float32', 2) as tf.Tensor4D;
      const bias = tf.randomNormal([5], 0, 1, 'float32', 3) as tf.Tensor1D;
      for (const relu of [false, true]) {
        const layer = new FastConv2D(filter.clone(), bias.clone(), stride, pad, relu);
        const y = layer.apply(x);
        const weights = tf.randomNormal(y.shape, 0, 1, 'float32', 4);
        const reference = grad4((a: tf.Tensor4D) => {
          const z = tf.add(tf.conv2d(a, filter, stride, pad), bias);
          return tf.sum(tf.mul(relu ? tf.relu(z) : z, weights));
        })(x);
        const got = grad4((a: tf.Tensor4D) => tf.sum(tf.mul(layer.apply(a), weights)))(x);
        expect(y.shape).toEqual(tf.conv2d(x, filter, stride, pad).shape);
        expect(
          maxAbs(
            tf.sub(
              y,
              relu
                ? tf.relu(tf.add(tf.conv2d(x, filter, stride, pad), bias))
                : tf.add(tf.conv2d(x, filter, stride, pad), bias),
            ),
          ),
        ).toBeLessThan(1e-4 * maxAbs(y));
        expect(got.shape).toEqual(x.shape);
        expect(maxAbs(reference)).toBeGreaterThan(0.1);
        expect(maxAbs(tf.sub(got, reference))).toBeLessThanOrEqual(1e-4 * maxAbs(reference));
        layer.dispose();
      }
    });
  });

  it('leaks no tensors across forward and backward passes', () => {
    const layer = new FastConv2D(tf.ones([3, 3, 2, 4]), tf.zeros([4]), 2, 1, true);
    const x = tf.ones([1, 6, 5, 2]) as tf.Tensor4D;
    grad4((a: tf.Tensor4D) => tf.sum(layer.apply(a)))(x).dispose(); // builds the backward plan
    const before = tf.memory().numTensors;
    grad4((a: tf.Tensor4D) => tf.sum(layer.apply(a)))(x).dispose();
    tf.tidy(() => {
      layer.apply(x);
    });
    expect(tf.memory().numTensors).toBe(before);
    layer.dispose();
    x.dispose();
  });
});

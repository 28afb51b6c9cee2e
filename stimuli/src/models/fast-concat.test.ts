import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { initBackend } from '../backend';
import { concatChannelsFastGrad, splitLastAxis } from './fast-concat';

describe('channel concatenation with the typed-array gradient', () => {
  it('splits the last axis (hand-computed)', () => {
    // 2 pixels x 5 channels -> parts of 2, 1, 2 channels.
    const parts = splitLastAxis(new Float32Array([0, 1, 2, 3, 4, 10, 11, 12, 13, 14]), [2, 1, 2]);
    expect(parts.map((p) => Array.from(p))).toEqual([
      [0, 1, 10, 11],
      [2, 12],
      [3, 4, 13, 14],
    ]);
  });

  it.each(['wasm', 'cpu'] as const)('equals tf.concat and its gradient on %s', async (backend) => {
    await initBackend(backend);
    tf.tidy(() => {
      const parts = [3, 5, 2].map((c, i) => tf.randomNormal([2, 4, 3, c], 0, 1, 'float32', i) as tf.Tensor4D);
      const w = tf.randomNormal([2, 4, 3, 10], 0, 1, 'float32', 9);
      const loss =
        (concat: (p: tf.Tensor4D[]) => tf.Tensor4D) =>
        (...p: tf.Tensor[]) =>
          tf.sum(tf.mul(concat(p as tf.Tensor4D[]), w));
      const reference = tf.grads(loss((p) => tf.concat(p, 3)))(parts);
      const got = tf.grads(loss(concatChannelsFastGrad))(parts);
      expect(Array.from(concatChannelsFastGrad(parts).dataSync())).toEqual(Array.from(tf.concat(parts, 3).dataSync()));
      got.forEach((g, i) => {
        expect(g.shape).toEqual(parts[i]!.shape);
        expect(Array.from(g.dataSync())).toEqual(Array.from(reference[i]!.dataSync()));
      });
    });
  });
});

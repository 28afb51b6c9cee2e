import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { createNormalRng } from '@orthostim/rdm';
import { leanGrads } from './lean-gradients';
import { shareIdentityOnWasm } from './wasm-shared-identity';

const normal = createNormalRng(4);
const rand = (shape: number[]) =>
  tf.tensor(
    Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => normal()),
    shape,
  );

/** A small network-like function: conv, relu, pooling, concat/split, reuse of a tensor, broadcasting, a custom gradient. */
function net(filter: tf.Tensor4D, bias: tf.Tensor1D) {
  const custom = tf.customGrad((a, save) => {
    const v = tf.tanh(a as tf.Tensor);
    (save as tf.GradSaveFunc)([v]);
    return { value: v, gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(dy, tf.sub(1, tf.square(saved[0]!))) };
  });
  return (x: tf.Tensor, w: tf.Tensor) => {
    const h = tf.relu(tf.add(tf.conv2d(x as tf.Tensor4D, filter, 1, 'same'), bias));
    const [a, b] = tf.split(h, 2, 3);
    const p = tf.maxPool(tf.concat([b!, a!], 3) as tf.Tensor4D, 2, 2, 'same');
    const q = custom(tf.mul(p, w)) as tf.Tensor;
    return tf.sum(tf.add(tf.square(q), tf.mul(q, tf.mean(x))));
  };
}

describe.each(['cpu', 'wasm'])('leanGrads on %s', (backend) => {
  beforeAll(async () => {
    await tf.setBackend(backend);
    if (backend === 'wasm') shareIdentityOnWasm();
  });

  it('equals tf.grads and leaves no tensors behind', () => {
    const filter = rand([3, 3, 2, 4]) as tf.Tensor4D;
    const bias = rand([4]) as tf.Tensor1D;
    const x = rand([2, 5, 6, 2]);
    const w = rand([1, 1, 1, 4]);
    const f = net(filter, bias);
    const expected = tf.grads(f)([x, w]);
    const before = tf.memory().numTensors;
    const got = leanGrads(f, [x, w]);
    expect(tf.memory().numTensors).toBe(before + 2);
    for (let k = 0; k < 2; k++) {
      const e = expected[k]!.dataSync();
      const g = got[k]!.dataSync();
      expect(Math.max(...Array.from(e, Math.abs))).toBeGreaterThan(1e-3);
      e.forEach((v, i) => expect(g[i]).toBeCloseTo(v, 4));
    }
  });

  it('takes a custom dy and returns zeros for an input that does not reach the output', () => {
    const a = rand([3]);
    const b = rand([3]);
    const dy = tf.tensor1d([1, 2, 3]);
    const [ga, gb] = leanGrads((u) => tf.mul(u, 2), [a, b], dy);
    expect(Array.from(ga!.dataSync())).toEqual([2, 4, 6]);
    expect(dy.isDisposed).toBe(false);
    expect(Array.from(gb!.dataSync())).toEqual([0, 0, 0]);
  });
});

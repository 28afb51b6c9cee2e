import { beforeAll, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { createNormalRng } from '@orthostim/rdm';
import { prepareRowsTf } from '../rdm-tf';
import { centredUnitRows } from './centred-unit-rows';

beforeAll(async () => {
  await tf.setBackend('wasm');
});

it('gives the values and gradient of prepareRowsTf(x, "correlation")', () => {
  const normal = createNormalRng(2);
  const x = tf.tensor2d(
    Float32Array.from({ length: 5 * 37 }, () => 3 + normal()),
    [5, 37],
  );
  const w = tf.tensor2d(
    Float32Array.from({ length: 5 * 37 }, () => normal()),
    [5, 37],
  );
  const ours = centredUnitRows(x).dataSync();
  const theirs = prepareRowsTf(x, 'correlation').dataSync();
  ours.forEach((v, i) => expect(v).toBeCloseTo(theirs[i]!, 6));
  const loss = (f: (t: tf.Tensor2D) => tf.Tensor2D) => (t: tf.Tensor) =>
    tf.sum(tf.mul(tf.square(tf.add(f(t as tf.Tensor2D), 0.1)), w));
  const g1 = tf.grad(loss(centredUnitRows))(x).dataSync();
  const g2 = tf
    .grad(loss((t) => prepareRowsTf(t, 'correlation')))(x)
    .dataSync();
  expect(Math.max(...g2.map(Math.abs))).toBeGreaterThan(0.01);
  g1.forEach((v, i) => expect(v).toBeCloseTo(g2[i]!, 5));
});

import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '@orthostim/rdm';
import { GOOGLENET_WEIGHTS, requireShared } from '@orthostim/test';
import type { ActivationNetwork } from '../activation-network';
import { initBackend } from '../backend';
import { DEFAULT_RDM_LAYERS } from './googlenet-layers';
import { loadNetwork, resolveNetworkSource } from './network-source';

// GoogLeNet exported to ONNX and run by onnxruntime-node against the TF.js GoogLeNet (the one
// checked against the BVLC golden activations), on the real weights, layer by layer.
const LAYERS = [
  'pixels',
  ...DEFAULT_RDM_LAYERS,
  'inception_4c/5x5',
  'inception_3a/pool',
  'norm1',
  'pool5',
  'logits',
  'prob',
];
let ours: ActivationNetwork;
let reference: ActivationNetwork;

beforeAll(async () => {
  await initBackend('wasm');
  const source = resolveNetworkSource({ weights: requireShared(GOOGLENET_WEIGHTS) });
  reference = await loadNetwork(source, { engine: 'tfjs' });
  ours = await loadNetwork(source, { engine: 'onnxruntime', threads: 2 });
});
afterAll(() => {
  ours?.dispose();
  reference?.dispose();
});

/** NCHW (onnxruntime's layout) -> NHWC (TF.js's), for rank-4 activations. */
const toNhwc = (t: tf.Tensor) => (t.rank === 4 ? tf.transpose(t, [0, 2, 3, 1]) : t);

describe('GoogLeNet on onnxruntime-node', () => {
  it('gives the activations of the TF.js GoogLeNet on every layer (1e-4 of the largest value)', async () => {
    const rng = createRng(5);
    const x = tf.tensor4d(
      Float32Array.from({ length: 2 * 160 * 160 * 3 }, () => rng()),
      [2, 160, 160, 3],
    );
    const expected = await reference.forward(x, LAYERS);
    const got = await ours.forward(x, LAYERS);
    for (const layer of LAYERS) {
      const e = expected[layer]!;
      const g = layer === 'pixels' ? tf.reverse(toNhwc(got[layer]!), 3) : toNhwc(got[layer]!); // pixels: BGR vs RGB
      expect(g.shape, layer).toEqual(e.shape);
      const maxAbs = tf.max(tf.abs(e)).dataSync()[0]!;
      const maxDiff = tf.max(tf.abs(tf.sub(e, g))).dataSync()[0]!;
      expect(maxDiff, `${layer}: ${maxDiff} of ${maxAbs}`).toBeLessThanOrEqual(1e-4 * maxAbs);
    }
    tf.dispose([x, ...Object.values(expected), ...Object.values(got)]);
  });
});

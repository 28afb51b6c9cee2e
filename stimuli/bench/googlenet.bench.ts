/**
 * GoogLeNet on the active backend (ORTHOSTIM_BACKEND or the automatic choice): forward
 * throughput at 224 px, and one forward + input-gradient pass of 16 images at 224 px, the unit of
 * work of synthesis (loss: sum over the 11 default RDM layers of the mean squared activation).
 * Weights: $ORTHOSTIM_WEIGHTS, else ../shared/models/bvlc-googlenet/weights, else the cache.
 */
import * as tf from '@tensorflow/tfjs';
import {
  GOOGLENET_WEIGHTS,
  describeLoad,
  sharedPath,
  timeRuns,
  type Benchmark,
  type BenchResult,
} from '@orthostim/test';
import { formatBackend, initBackend } from '../src/backend';
import { GoogLeNet } from '../src/models/googlenet';
import { DEFAULT_RDM_LAYERS } from '../src/models/googlenet-layers';
import { loadGoogLeNetWeights } from '../src/models/resolve-weights';

const BATCH = 16;
const SIZE = 224;

async function setUp(): Promise<{ net: GoogLeNet; x: tf.Tensor4D; backend: string }> {
  const backend = await initBackend();
  const weights = loadGoogLeNetWeights(process.env.ORTHOSTIM_WEIGHTS ?? sharedPath(GOOGLENET_WEIGHTS) ?? undefined);
  const net = GoogLeNet.fromWeights(weights);
  const x = tf.randomUniform([BATCH, SIZE, SIZE, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
  return { net, x, backend: formatBackend(backend) };
}

export const benchmarks: Benchmark[] = [
  {
    name: 'googlenet-forward',
    description: `GoogLeNet forward to inception_5b, batch ${BATCH}, ${SIZE} px (median of 3 after 1 warm-up)`,
    async run(): Promise<BenchResult[]> {
      const { net, x, backend } = await setUp();
      const t = await timeRuns(() => {
        const acts = net.forward(x, ['inception_5b']);
        acts.inception_5b!.dataSync();
        tf.dispose(acts);
      });
      return [
        { metric: 'forward throughput', value: (BATCH * 1000) / t.medianMs, unit: 'images/s', note: backend },
        { metric: `forward, batch of ${BATCH}`, value: t.medianMs, unit: 'ms', note: describeLoad() },
        { metric: `forward, batch of ${BATCH}, CPU time`, value: t.medianCpuMs, unit: 'ms' },
      ];
    },
  },
  {
    name: 'googlenet-forward-backward',
    description: `one forward + input-gradient pass of ${BATCH} images at ${SIZE} px, loss over the 11 default layers (median of 3 after 1 warm-up)`,
    async run(): Promise<BenchResult[]> {
      const { net, x, backend } = await setUp();
      const layers = [...DEFAULT_RDM_LAYERS];
      const grad = tf.grad((input: tf.Tensor) => {
        const acts = net.forward(input as tf.Tensor4D, layers);
        return tf.addN(layers.map((l) => tf.mean(tf.square(acts[l]!)))) as tf.Scalar;
      });
      const t = await timeRuns(() => {
        const g = grad(x);
        g.dataSync();
        g.dispose();
      });
      return [
        { metric: `forward + input gradient, ${BATCH} images`, value: t.medianMs, unit: 'ms', note: backend },
        { metric: 'same, CPU time', value: t.medianCpuMs, unit: 'ms', note: describeLoad() },
      ];
    },
  },
];

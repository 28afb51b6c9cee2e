import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GOOGLENET_DIR, GOOGLENET_WEIGHTS, hasShared, requireShared } from '@orthostim/test';
import { initBackend } from '../backend';
import { GoogLeNet, caffePoolOutputSize, googlenetStageShapes, maxPoolCeil } from './googlenet';
import { DEFAULT_RDM_LAYERS } from './googlenet-layers';
import { readRawWeights } from './weights-raw';
import type { GoogLeNetWeights } from './weights';
import { randomGoogLeNetWeights } from '../../test/support/random-googlenet-weights';

/** tf.grad of a function of a 4-D tensor (tf.grad's own typing takes only plain Tensor parameters). */
const grad4 = (f: (x: tf.Tensor4D) => tf.Tensor) =>
  tf.grad((x: tf.Tensor) => f(x as tf.Tensor4D)) as (x: tf.Tensor4D) => tf.Tensor4D;

interface GoldenLayer {
  shape: number[];
  mean: number[];
  std: number[];
  samples: Array<{ index: [number, number, number, number]; value: number }>;
}
interface Golden {
  inputs: Array<{ name: string }>;
  layers: Record<string, GoldenLayer>;
  top5: Array<{ input: string; classes: Array<{ index: number; logit: number }> }>;
}

/** The three formula-defined inputs of golden.json, RGB in [0, 1], 224 x 224. */
function goldenInputs(): tf.Tensor4D {
  const s = 224;
  const d = new Float32Array(3 * s * s * 3);
  for (let y = 0; y < s; y++) {
    for (let x = 0; x < s; x++) {
      const px = (n: number) => ((n * s + y) * s + x) * 3;
      d.fill(0.5, px(0), px(0) + 3); // gray
      d.set([x / 223, y / 223, 0.5 * (1 - x / 223)], px(1)); // gradient
      d.set(
        [
          0.5 + 0.5 * Math.sin((2 * Math.PI * 7 * x) / 223),
          0.5 + 0.5 * Math.cos((2 * Math.PI * 5 * y) / 223),
          (Math.floor((8 * x) / 223) + Math.floor((8 * y) / 223)) % 2,
        ],
        px(2),
      ); // pattern
    }
  }
  return tf.tensor4d(d, [3, s, s, 3]);
}

/** Mean and population standard deviation of each image of an activation, in float64. */
function perImageMoments(values: Float32Array, n: number): Array<{ mean: number; std: number }> {
  const per = values.length / n;
  return Array.from({ length: n }, (_, i) => {
    let sum = 0;
    for (let j = i * per; j < (i + 1) * per; j++) sum += values[j]!;
    const mean = sum / per;
    let ss = 0;
    for (let j = i * per; j < (i + 1) * per; j++) ss += (values[j]! - mean) ** 2;
    return { mean, std: Math.sqrt(ss / per) };
  });
}

function relErr(got: number, expected: number, floor: number): number {
  return Math.abs(got - expected) / Math.max(Math.abs(expected), floor);
}

describe('Caffe ceil-mode max pooling', () => {
  it('computes output sizes with ceil rounding', () => {
    expect(caffePoolOutputSize(112, 3, 2)).toBe(56);
    expect(caffePoolOutputSize(14, 3, 2)).toBe(7);
    expect(caffePoolOutputSize(7, 3, 2)).toBe(3); // floor would give 3 too
    expect(caffePoolOutputSize(8, 3, 2)).toBe(4); // floor: 3
    expect(caffePoolOutputSize(9, 3, 2)).toBe(4);
  });

  it('pools odd and even sizes like Caffe (hand-computed windows)', async () => {
    await initBackend('cpu');
    // 1 x 4 x 5 x 1, values 0..19 row-major: windows of 3 at stride 2 start at rows 0, 2 and
    // cols 0, 2 (4 -> ceil(1/2)+1 = 2 rows, 5 -> 2 cols); the last row window is rows 2..3 only.
    const x = tf.tensor4d(
      Array.from({ length: 20 }, (_, i) => i),
      [1, 4, 5, 1],
    );
    const y = maxPoolCeil(x, 3, 2);
    expect(y.shape).toEqual([1, 2, 2, 1]);
    expect(Array.from(y.dataSync())).toEqual([12, 14, 17, 19]);
    // Negative values: padding must act as -inf, not 0.
    const neg = maxPoolCeil(tf.neg(tf.add(x, 1)) as tf.Tensor4D, 3, 2);
    expect(Array.from(neg.dataSync())).toEqual([-1, -3, -11, -13]);
  });
});

describe.skipIf(!hasShared(GOOGLENET_WEIGHTS))('BVLC GoogLeNet', () => {
  let weights: GoogLeNetWeights;
  beforeAll(() => {
    weights = readRawWeights(requireShared(GOOGLENET_WEIGHTS));
  });
  afterAll(() => tf.disposeVariables());

  it('reproduces golden.json on wasm: shapes, moments, samples, top-5 logits', async () => {
    await initBackend('wasm');
    const golden = JSON.parse(readFileSync(join(requireShared(GOOGLENET_DIR), 'golden.json'), 'utf8')) as Golden;
    expect(golden.inputs.map((i) => i.name)).toEqual(['gray', 'gradient', 'pattern']);
    expect(Object.keys(golden.layers)).toEqual([...DEFAULT_RDM_LAYERS]);
    const net = GoogLeNet.fromWeights(weights);
    const x = goldenInputs();
    const acts = net.forward(x, [...DEFAULT_RDM_LAYERS, 'logits']);
    for (const [name, g] of Object.entries(golden.layers)) {
      const a = acts[name]!;
      expect(a.shape, name).toEqual(g.shape);
      const values = a.dataSync() as Float32Array;
      const moments = perImageMoments(values, 3);
      moments.forEach((m, i) => {
        expect(relErr(m.mean, g.mean[i]!, 0), `${name} mean ${i}`).toBeLessThan(1e-4);
        expect(relErr(m.std, g.std[i]!, 0), `${name} std ${i}`).toBeLessThan(1e-4);
      });
      const [, h, w, c] = g.shape as [number, number, number, number];
      for (const {
        index: [n, yy, xx, ch],
        value,
      } of g.samples) {
        const got = values[((n * h + yy) * w + xx) * c + ch]!;
        // Relative to the value, or to 1e-3 of the layer's spread for values near zero.
        expect(relErr(got, value, 1e-3 * g.std[n]!), `${name}[${n},${yy},${xx},${ch}]`).toBeLessThan(1e-4);
      }
    }
    const logits = acts.logits!.arraySync() as number[][];
    for (const t of golden.top5) {
      const row = logits[golden.inputs.findIndex((i) => i.name === t.input)]!;
      const top5 = row
        .map((v, i) => [v, i] as const)
        .sort((a, b) => b[0] - a[0])
        .slice(0, 5)
        .map(([, i]) => i);
      expect(top5, t.input).toEqual(t.classes.map((c) => c.index));
      for (const c of t.classes)
        expect(relErr(row[c.index]!, c.logit, 0), `${t.input} logit ${c.index}`).toBeLessThan(1e-4);
    }
    tf.dispose([x, acts]);
    net.dispose();
  });
});

// The architecture's own properties need no trained weights: seeded random ones keep these on
// wherever ../shared is missing.
describe('GoogLeNet architecture (random weights)', () => {
  const weights = randomGoogLeNetWeights(7);
  afterAll(() => tf.disposeVariables());

  it('wasm and cpu agree on every main layer to 1e-4 (2 images, 67 x 75 px)', async () => {
    const x = tf.tidy(() => tf.randomUniform([2, 67, 75, 3], 0, 1, 'float32', 11)) as tf.Tensor4D;
    const layers = ['pixels', ...DEFAULT_RDM_LAYERS, 'inception_4c/3x3', 'pool5', 'logits', 'prob'];
    const run = async (backend: 'wasm' | 'cpu') => {
      await initBackend(backend);
      const net = GoogLeNet.fromWeights(weights);
      const acts = net.forward(x, layers);
      const out = Object.fromEntries(
        Object.entries(acts).map(([k, t]) => [k, { shape: t.shape, values: t.dataSync() as Float32Array }]),
      );
      tf.dispose(acts);
      net.dispose();
      return out;
    };
    const wasm = await run('wasm');
    const cpu = await run('cpu');
    const shapes = googlenetStageShapes(67, 75);
    for (const layer of layers) {
      const a = wasm[layer]!;
      const b = cpu[layer]!;
      expect(a.shape, layer).toEqual(b.shape);
      const stageShape = layer in shapes ? shapes[layer as keyof typeof shapes] : null;
      if (stageShape) expect(a.shape.slice(1), layer).toEqual(stageShape);
      let scale = 0;
      for (const v of b.values) scale = Math.max(scale, Math.abs(v));
      let worst = 0;
      for (let i = 0; i < a.values.length; i++) worst = Math.max(worst, Math.abs(a.values[i]! - b.values[i]!));
      expect(scale, layer).toBeGreaterThan(0);
      expect(worst / scale, layer).toBeLessThan(1e-4);
    }
    x.dispose();
  });

  it('the fast input gradient equals the plain-op network gradient (wasm fast vs wasm and cpu plain)', async () => {
    const x = tf.tidy(() => tf.randomUniform([2, 48, 56, 3], 0, 1, 'float32', 12)) as tf.Tensor4D;
    const layers = ['conv1', 'conv2', 'inception_3a', 'inception_4c', 'inception_5b', 'logits'];
    const gradient = async (backend: 'wasm' | 'cpu', ops: 'fast' | 'plain') => {
      await initBackend(backend);
      const net = GoogLeNet.fromWeights(weights, { ops });
      const g = grad4((input: tf.Tensor4D) => {
        const acts = net.forward(input, layers);
        return tf.addN(layers.map((l) => tf.mean(tf.square(acts[l]!)))) as tf.Scalar;
      })(x);
      const values = g.dataSync() as Float32Array;
      g.dispose();
      net.dispose();
      return values;
    };
    const fast = await gradient('wasm', 'fast');
    for (const [backend, ops] of [
      ['wasm', 'plain'],
      ['cpu', 'plain'],
    ] as const) {
      const ref = await gradient(backend, ops);
      let scale = 0;
      let worst = 0;
      for (let i = 0; i < ref.length; i++) {
        scale = Math.max(scale, Math.abs(ref[i]!));
        worst = Math.max(worst, Math.abs(fast[i]! - ref[i]!));
      }
      expect(scale).toBeGreaterThan(0);
      expect(worst / scale, `${backend} ${ops}`).toBeLessThan(1e-4);
    }
    x.dispose();
  });

  it('computes only the stages it needs and leaks no tensors', async () => {
    await initBackend('wasm');
    const net = GoogLeNet.fromWeights(weights);
    const x = tf.zeros([1, 64, 64, 3]) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    const profile = await tf.profile(() => {
      const acts = net.forward(x, ['conv2d0', 'pixels']);
      expect(Object.keys(acts)).toEqual(['conv2d0', 'pixels']);
      expect(acts.conv2d0!.shape).toEqual([1, 32, 32, 64]);
      tf.dispose(acts);
    });
    const kernels = new Set(profile.kernels.map((k) => k.name));
    expect(kernels.has('MaxPool')).toBe(false);
    expect(kernels.has('LRN')).toBe(false);
    const logits = net.logits(x);
    expect(logits.shape).toEqual([1, 1000]);
    logits.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(() => net.forward(x, ['inception_9z'])).toThrow(/unknown layer "inception_9z"/);
    expect(() => net.forward(tf.zeros([1, 8, 8, 4]) as tf.Tensor4D, ['conv1'])).toThrow(
      /input must be NHWC RGB \[n, h, w, 3\]; got shape \[1, 8, 8, 4\]/,
    );
    x.dispose();
    net.dispose();
  });
});

import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '@orthostim/rdm';
import { initBackend } from '../../backend';
import { alexNetLike, GraphBuilder, resNetLike } from '../../../test/support/onnx-builder';
import { readOnnxModelFile } from './onnx-file';
import { OnnxGraph } from './onnx-graph';

// Every operator and two whole networks against onnxruntime-node, an independent ONNX executor.
const tmp = mkdtempSync(join(tmpdir(), 'orthostim-onnx-graph-'));
let fileCount = 0;

beforeAll(async () => {
  await initBackend('wasm');
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function randomImages(n: number, size: number, seed = 7): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: n * 3 * size * size }, () => rng() * 2 - 1);
}

/** Run the model in onnxruntime and in orthostim on the same NCHW input; return both, per output. */
async function runBoth(bytes: Uint8Array, outputs: string[], n: number, size: number) {
  const path = join(tmp, `m${++fileCount}.onnx`);
  writeFileSync(path, bytes);
  const nchw = randomImages(n, size, fileCount);
  const session = await ort.InferenceSession.create(path);
  const ref = await session.run({ input: new ort.Tensor('float32', nchw, [n, 3, size, size]) });
  const graph = new OnnxGraph(readOnnxModelFile(path));
  const x = tf.tidy(() => tf.transpose(tf.tensor4d(nchw, [n, 3, size, size]), [0, 2, 3, 1])) as tf.Tensor4D;
  const ours = graph.run(x, outputs, true);
  const result = outputs.map((name, i) => ({
    name,
    expected: { dims: [...ref[name]!.dims], data: Float32Array.from(ref[name]!.data as Float32Array) },
    got: { dims: ours[i]!.shape, data: Float32Array.from(ours[i]!.dataSync()) },
  }));
  tf.dispose([x, ...ours]);
  graph.dispose();
  return result;
}

function expectClose(r: Awaited<ReturnType<typeof runBoth>>[number], relTol = 1e-4) {
  expect(r.got.dims, r.name).toEqual(r.expected.dims);
  let maxAbs = 0;
  let maxDiff = 0;
  for (let i = 0; i < r.expected.data.length; i++) {
    maxAbs = Math.max(maxAbs, Math.abs(r.expected.data[i]!));
    maxDiff = Math.max(maxDiff, Math.abs(r.expected.data[i]! - r.got.data[i]!));
  }
  expect(maxDiff, `${r.name}: max |difference| ${maxDiff} vs max |value| ${maxAbs}`).toBeLessThanOrEqual(
    relTol * Math.max(maxAbs, 1e-6),
  );
}

type Case = { name: string; opset?: number; size?: number; build: (g: GraphBuilder) => string };

const CASES: Case[] = [
  {
    name: 'Conv, pads and strides',
    build: (g) =>
      g.node('Conv', ['input', g.weight([4, 3, 3, 3]), g.weight([4])], { pads: [1, 0, 2, 1], strides: [2, 1] }),
  },
  {
    name: 'Conv, dilations',
    build: (g) => g.node('Conv', ['input', g.weight([5, 3, 3, 3])], { dilations: [2, 2], pads: [2, 2, 2, 2] }),
  },
  {
    name: 'Conv, groups',
    build: (g) =>
      g.node('Conv', [g.node('Conv', ['input', g.weight([6, 3, 1, 1])]), g.weight([4, 3, 3, 3])], { group: 2 }),
  },
  {
    name: 'Conv, depthwise',
    build: (g) => g.node('Conv', ['input', g.weight([6, 1, 3, 3]), g.weight([6])], { group: 3, pads: [1, 1, 1, 1] }),
  },
  {
    name: 'Conv, auto_pad SAME_UPPER',
    build: (g) => g.node('Conv', ['input', g.weight([2, 3, 4, 4])], { auto_pad: 'SAME_UPPER', strides: [2, 2] }),
  },
  {
    name: 'Conv, auto_pad SAME_LOWER',
    build: (g) => g.node('Conv', ['input', g.weight([2, 3, 4, 4])], { auto_pad: 'SAME_LOWER' }),
  },
  {
    name: 'ConvTranspose',
    build: (g) =>
      g.node('ConvTranspose', ['input', g.weight([3, 4, 3, 3]), g.weight([4])], {
        strides: [2, 2],
        pads: [1, 1, 0, 0],
        output_padding: [1, 1],
      }),
  },
  {
    name: 'MaxPool, ceil mode and pads',
    build: (g) =>
      g.node('MaxPool', ['input'], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceil_mode: 1 }),
  },
  {
    name: 'MaxPool, auto_pad SAME_UPPER',
    build: (g) => g.node('MaxPool', ['input'], { kernel_shape: [2, 3], strides: [2, 2], auto_pad: 'SAME_UPPER' }),
  },
  {
    name: 'AveragePool, pads excluded',
    build: (g) => g.node('AveragePool', ['input'], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }),
  },
  {
    name: 'AveragePool, pads counted',
    build: (g) =>
      g.node('AveragePool', ['input'], {
        kernel_shape: [3, 3],
        strides: [2, 2],
        pads: [1, 1, 1, 1],
        count_include_pad: 1,
      }),
  },
  {
    name: 'AveragePool, ceil mode',
    build: (g) => g.node('AveragePool', ['input'], { kernel_shape: [3, 3], strides: [2, 2], ceil_mode: 1 }),
  },
  { name: 'GlobalAveragePool', build: (g) => g.node('GlobalAveragePool', ['input']) },
  { name: 'GlobalMaxPool', build: (g) => g.node('GlobalMaxPool', ['input']) },
  {
    name: 'LRN',
    build: (g) =>
      g.node('LRN', [g.node('Conv', ['input', g.weight([7, 3, 1, 1])])], {
        size: 5,
        alpha: { float: 0.01 },
        beta: { float: 0.75 },
        bias: { float: 2 },
      }),
  },
  {
    name: 'BatchNormalization',
    build: (g) =>
      g.node('BatchNormalization', ['input', g.positive([3]), g.weight([3]), g.weight([3]), g.positive([3])], {
        epsilon: { float: 1e-3 },
      }),
  },
  {
    name: 'Add, per-channel broadcast',
    build: (g) =>
      g.node('Add', [g.node('Relu', [g.node('Conv', ['input', g.weight([4, 3, 1, 1])])]), g.weight([1, 4, 1, 1])]),
  },
  {
    name: 'Mul, rank-3 broadcast',
    build: (g) => g.node('Mul', [g.node('MaxPool', ['input'], { kernel_shape: [1, 1] }), g.weight([3, 1, 1])]),
  },
  {
    name: 'Sub, width broadcast',
    build: (g) => g.node('Sub', [g.weight([7]), g.node('AveragePool', ['input'], { kernel_shape: [1, 1] })]),
    size: 7,
  },
  { name: 'Div', build: (g) => g.node('Div', ['input', g.positive([1, 3, 1, 1])]) },
  { name: 'LeakyRelu', build: (g) => g.node('LeakyRelu', ['input'], { alpha: { float: 0.2 } }) },
  { name: 'Sigmoid and Tanh', build: (g) => g.node('Tanh', [g.node('Sigmoid', ['input'])]) },
  {
    name: 'Clip, opset 11 inputs',
    opset: 11,
    build: (g) => g.node('Clip', ['input', g.floats([], [-0.3]), g.floats([], [0.5])]),
  },
  {
    name: 'Clip, opset 7 attributes',
    opset: 7,
    build: (g) => g.node('Clip', ['input'], { min: { float: -0.2 }, max: { float: 0.1 } }),
  },
  { name: 'Identity and Dropout', build: (g) => g.node('Dropout', [g.node('Identity', ['input'])]) },
  {
    name: 'Flatten axis 2 and Gemm transA',
    build: (g) =>
      g.node(
        'Gemm',
        [
          g.node('Flatten', [g.node('Transpose', ['input'], { perm: [1, 0, 2, 3] })], { axis: 1 }),
          g.weight([2 * 6 * 6, 5]),
        ],
        { transA: 0, alpha: { float: 0.5 } },
      ),
    size: 6,
  },
  { name: 'MatMul, batched by a matrix', build: (g) => g.node('MatMul', ['input', g.weight([6, 4])]), size: 6 },
  { name: 'Softmax, opset 13 axis 1', build: (g) => g.node('Softmax', ['input'], { axis: 1 }) },
  { name: 'Softmax, opset 11 (2D coercion)', opset: 11, build: (g) => g.node('Softmax', ['input'], { axis: 1 }) },
  { name: 'Reshape with 0 and -1', build: (g) => g.node('Reshape', ['input', g.ints([0, -1, 4])]), size: 4 },
  {
    name: 'Squeeze and Unsqueeze, opset 13 inputs',
    build: (g) =>
      g.node('Squeeze', [
        g.node('Unsqueeze', [g.node('GlobalAveragePool', ['input']), g.ints([2])]),
        g.ints([2, 3, 4]),
      ]),
  },
  {
    name: 'Squeeze and Unsqueeze, opset 11 attributes',
    opset: 11,
    build: (g) =>
      g.node('Unsqueeze', [g.node('Squeeze', [g.node('GlobalMaxPool', ['input'])], { axes: [2, 3] })], { axes: [0] }),
  },
  {
    name: 'Concat of NHWC and NCHW values',
    build: (g) =>
      g.node(
        'Concat',
        [
          g.node('Conv', ['input', g.weight([2, 3, 1, 1])]),
          g.node('Transpose', [g.node('Transpose', ['input'], { perm: [0, 2, 3, 1] })], { perm: [0, 3, 1, 2] }),
        ],
        { axis: 1 },
      ),
  },
  {
    name: 'Pad, constant',
    opset: 11,
    build: (g) => g.node('Pad', ['input', g.ints([0, 0, 1, 2, 0, 1, 0, 3]), g.floats([], [0.5])]),
  },
  {
    name: 'Pad, reflect',
    build: (g) => g.node('Pad', ['input', g.ints([0, 0, 2, 1, 0, 0, 1, 2])], { mode: 'reflect' }),
  },
  { name: 'Pad, edge', build: (g) => g.node('Pad', ['input', g.ints([0, 0, 2, 1, 0, 0, 1, 2])], { mode: 'edge' }) },
  {
    name: 'Slice with steps',
    build: (g) =>
      g.node('Slice', ['input', g.ints([1, 0, 7]), g.ints([3, -1, 1]), g.ints([1, 2, 3]), g.ints([1, 2, -2])]),
    size: 9,
  },
  {
    name: 'Slice, opset 9 attributes',
    opset: 9,
    build: (g) => g.node('Slice', ['input'], { starts: [0, 1], ends: [2, 1000], axes: [1, 2] }),
  },
  {
    name: 'Shape, Gather, Concat, Cast, Reshape',
    build: (g) => {
      const s = g.node('Shape', ['input']);
      const n = g.node('Gather', [s, g.ints([0])], { axis: 0 });
      const c = g.node('Cast', [g.node('Gather', [s, g.ints([-3])], { axis: 0 })], { to: 7 });
      return g.node('Reshape', ['input', g.node('Concat', [n, c, g.ints([-1])], { axis: 0 })]);
    },
  },
  {
    name: 'Constant and ReduceMean',
    build: (g) =>
      g.node('ReduceMean', [g.node('Add', ['input', g.node('Constant', [], { value_float: { float: 0.25 } })])], {
        axes: [1, 3],
        keepdims: 0,
      }),
  },
];

describe('ONNX operators agree with onnxruntime-node', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const g = new GraphBuilder(11);
      const out = c.build(g);
      const [r] = await runBoth(g.encode({ outputs: [out], opset: c.opset ?? 13 }), [out], 2, c.size ?? 9);
      expectClose(r!);
    });
  }
});

describe('whole networks agree with onnxruntime-node on every layer', () => {
  it('an AlexNet-shaped network (LRN, ceil-mode pools, grouped conv, Gemm, softmax)', async () => {
    const { builder, layers } = alexNetLike();
    for (const r of await runBoth(builder.encode({ outputs: layers, opset: 10 }), layers, 3, 67)) expectClose(r);
  });

  it('a ResNet-shaped network (BatchNorm, residual Adds, projection shortcuts, shape-folding reshape)', async () => {
    const { builder, layers } = resNetLike();
    for (const r of await runBoth(builder.encode({ outputs: layers, opset: 13 }), layers, 3, 48)) expectClose(r);
  });

  it('input gradients through the graph match finite differences', () => {
    const { builder, layers } = resNetLike(5);
    const path = join(tmp, 'grad.onnx');
    builder.write(path, { outputs: layers, opset: 13 });
    const graph = new OnnxGraph(readOnnxModelFile(path));
    const x = tf.randomUniform([1, 16, 16, 3], -1, 1, 'float32', 3) as tf.Tensor4D;
    const layer = layers[3]!;
    const f = (t: tf.Tensor) => tf.sum(tf.square(graph.run(t as tf.Tensor4D, [layer])[0]!));
    const grad = tf.grad(f)(x);
    const eps = 1e-2;
    const g = grad.dataSync();
    const base = x.dataSync();
    for (const i of [5, 100, 401, 700]) {
      const plus = Float32Array.from(base);
      const minus = Float32Array.from(base);
      plus[i]! += eps;
      minus[i]! -= eps;
      const fd =
        (f(tf.tensor4d(plus, x.shape)).dataSync()[0]! - f(tf.tensor4d(minus, x.shape)).dataSync()[0]!) / (2 * eps);
      expect(Math.abs(fd - g[i]!)).toBeLessThanOrEqual(0.02 * Math.max(1, Math.abs(fd)));
    }
    graph.dispose();
  });
});

describe('reading ONNX files', () => {
  it('names an unsupported operator and its node in one error', () => {
    const g = new GraphBuilder();
    const out = g.node('Erf', ['input']);
    const path = join(tmp, 'erf.onnx');
    g.write(path, { outputs: [out] });
    expect(() => new OnnxGraph(readOnnxModelFile(path))).toThrow(
      /node n1 uses operator Erf, which orthostim cannot run/,
    );
  });

  it('refuses an opset outside 7-18 and a graph without an image input', () => {
    const g = new GraphBuilder();
    const out = g.node('Relu', ['input']);
    const old = join(tmp, 'opset6.onnx');
    g.write(old, { outputs: [out], opset: 6 });
    expect(() => new OnnxGraph(readOnnxModelFile(old))).toThrow(/opset 6; supported: 7 to 18/);
    const gray = join(tmp, 'gray.onnx');
    g.write(gray, { outputs: [out], channels: 1 });
    expect(() => new OnnxGraph(readOnnxModelFile(gray))).toThrow(/expected an NCHW image batch/);
  });

  it('reads external data beside the model and refuses a data file that leaves its folder', async () => {
    const dir = mkdtempSync(join(tmp, 'ext-'));
    const values = Float32Array.from({ length: 4 * 3 }, (_, i) => (i - 6) / 10);
    writeFileSync(join(dir, 'w.bin'), Buffer.concat([Buffer.alloc(8), Buffer.from(values.buffer)]));
    const g = new GraphBuilder();
    const w = g.floats([4, 3, 1, 1], values);
    const t = g.initializers.find((i) => i.name === w)!;
    t.rawData = undefined;
    t.dataLocation = 1;
    t.externalData = [
      { key: 'location', value: 'w.bin' },
      { key: 'offset', value: '8' },
      { key: 'length', value: String(values.byteLength) },
    ];
    const out = g.node('Conv', ['input', w]);
    const path = join(dir, 'model.onnx');
    g.write(path, { outputs: [out] });
    const session = await ort.InferenceSession.create(path);
    const nchw = randomImages(1, 5);
    const ref = (await session.run({ input: new ort.Tensor('float32', nchw, [1, 3, 5, 5]) }))[out]!.data;
    const graph = new OnnxGraph(readOnnxModelFile(path));
    const ours = graph.run(tf.transpose(tf.tensor4d(nchw, [1, 3, 5, 5]), [0, 2, 3, 1]) as tf.Tensor4D, [out], true)[0]!;
    const got = ours.dataSync();
    for (let i = 0; i < got.length; i++) expect(got[i]).toBeCloseTo((ref as Float32Array)[i]!, 5);
    graph.dispose();

    const outside = mkdtempSync(join(tmp, 'outside-'));
    writeFileSync(join(outside, 'secret.bin'), Buffer.alloc(64));
    symlinkSync(join(outside, 'secret.bin'), join(dir, 'link.bin'));
    t.externalData = [{ key: 'location', value: 'link.bin' }];
    g.write(path, { outputs: [out] });
    expect(() => readOnnxModelFile(path)).toThrow(/resolves outside the model's folder/);
  });
});

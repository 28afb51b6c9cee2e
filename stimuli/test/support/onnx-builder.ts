/**
 * Test-only builder of small ONNX graphs with seeded random weights: single operators for parity
 * tests against onnxruntime-node, and whole AlexNet- and ResNet-shaped networks.
 */
import { writeFileSync } from 'node:fs';
import onnxProto from 'onnx-proto';
import { createRng, type Rng } from '@orthostim/rdm';
import { floatTensor, onnxAttribute, type OnnxAttrValue } from '../../src/models/onnx/onnx-writer';

const { onnx } = onnxProto;
type NodeProto = onnxProto.onnx.INodeProto;
type TensorProto = onnxProto.onnx.ITensorProto;

export type AttrValue = OnnxAttrValue;

export class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  private count = 0;
  private readonly rng: Rng;

  constructor(
    seed = 1,
    private readonly encoding: 'raw' | 'float' = 'raw',
  ) {
    this.rng = createRng(seed);
  }

  /** Add a node; returns its (first) output name. */
  node(op: string, inputs: string[], attrs: Record<string, AttrValue> = {}, outputs = 1): string {
    const names = Array.from({ length: outputs }, () => `t${++this.count}`);
    this.nodes.push({
      opType: op,
      name: `n${this.count}`,
      input: inputs,
      output: names,
      attribute: Object.entries(attrs).map(([k, v]) => onnxAttribute(k, v)),
    });
    return names[0]!;
  }

  /** A float initializer of random values in [-scale, scale]. */
  weight(dims: number[], scale = 0.2): string {
    const n = dims.reduce((a, b) => a * b, 1);
    const values = Float32Array.from({ length: n }, () => (this.rng() * 2 - 1) * scale);
    return this.floats(dims, values);
  }

  /** A float initializer of given values. */
  floats(dims: number[], values: Float32Array | number[]): string {
    const name = `w${++this.count}`;
    this.initializers.push(floatTensor(name, dims, Float32Array.from(values), this.encoding));
    return name;
  }

  /** An int64 initializer (shapes, axes, pads). */
  ints(values: number[]): string {
    const name = `i${++this.count}`;
    this.initializers.push({
      name,
      dims: [values.length],
      dataType: onnx.TensorProto.DataType.INT64,
      int64Data: values,
    });
    return name;
  }

  /** Positive random values (variances). */
  positive(dims: number[]): string {
    const n = dims.reduce((a, b) => a * b, 1);
    return this.floats(
      dims,
      Float32Array.from({ length: n }, () => 0.5 + this.rng()),
    );
  }

  /** Serialize with one NCHW input [N, channels, size, size] (N symbolic) and the given outputs. */
  encode(opts: { outputs: string[]; opset?: number; channels?: number; size?: number | 'symbolic' }): Uint8Array {
    const size = opts.size ?? 'symbolic';
    const dim = (v: number | 'symbolic', param: string) => (v === 'symbolic' ? { dimParam: param } : { dimValue: v });
    const input = {
      name: 'input',
      type: {
        tensorType: {
          elemType: onnx.TensorProto.DataType.FLOAT,
          shape: { dim: [{ dimParam: 'N' }, { dimValue: opts.channels ?? 3 }, dim(size, 'H'), dim(size, 'W')] },
        },
      },
    };
    const model = onnx.ModelProto.create({
      irVersion: 8,
      opsetImport: [{ domain: '', version: opts.opset ?? 13 }],
      producerName: 'orthostim-tests',
      graph: {
        name: 'g',
        node: this.nodes,
        initializer: this.initializers,
        input: [input],
        output: opts.outputs.map((name) => ({ name, type: { tensorType: { elemType: 1 } } })),
      },
    });
    return onnx.ModelProto.encode(model).finish();
  }

  write(path: string, opts: Parameters<GraphBuilder['encode']>[0]): void {
    writeFileSync(path, this.encode(opts));
  }
}

/** conv -> (bn) -> relu, returning the relu output. */
function convBlock(g: GraphBuilder, x: string, inC: number, outC: number, k: number, stride: number, bn: boolean) {
  const pad = Math.floor(k / 2);
  const w = g.weight([outC, inC, k, k], Math.sqrt(2 / (inC * k * k)));
  let y = g.node('Conv', bn ? [x, w] : [x, w, g.weight([outC], 0.1)], {
    kernel_shape: [k, k],
    strides: [stride, stride],
    pads: [pad, pad, pad, pad],
  });
  if (bn)
    y = g.node('BatchNormalization', [
      y,
      g.positive([outC]),
      g.weight([outC], 0.1),
      g.weight([outC], 0.1),
      g.positive([outC]),
    ]);
  return y;
}

/** An AlexNet-shaped network: big strided conv, LRN, max pools with ceil mode, 3 convs, two Gemms. */
export function alexNetLike(seed = 3): { builder: GraphBuilder; layers: string[] } {
  const g = new GraphBuilder(seed, 'float');
  const c1 = g.node('Relu', [
    g.node('Conv', ['input', g.weight([16, 3, 11, 11], 0.05), g.weight([16], 0.1)], {
      kernel_shape: [11, 11],
      strides: [4, 4],
      pads: [2, 2, 2, 2],
    }),
  ]);
  const n1 = g.node('LRN', [c1], { size: 5, alpha: { float: 1e-4 }, beta: { float: 0.75 }, bias: { float: 1 } });
  const p1 = g.node('MaxPool', [n1], { kernel_shape: [3, 3], strides: [2, 2], ceil_mode: 1 });
  const c2 = g.node('Relu', [convBlock(g, p1, 16, 24, 5, 1, false)]);
  const p2 = g.node('MaxPool', [c2], { kernel_shape: [3, 3], strides: [2, 2] });
  const c3 = g.node('Relu', [convBlock(g, p2, 24, 32, 3, 1, false)]);
  const c4 = g.node('Relu', [
    g.node('Conv', [c3, g.weight([32, 16, 3, 3], 0.1), g.weight([32], 0.1)], {
      kernel_shape: [3, 3],
      pads: [1, 1, 1, 1],
      group: 2,
    }),
  ]);
  const p3 = g.node('AveragePool', [c4], { kernel_shape: [2, 2], strides: [2, 2], ceil_mode: 1 });
  const flat = g.node('Flatten', [p3], { axis: 1 });
  const fc1 = g.node('Relu', [
    g.node('Gemm', [flat, g.weight([40, 32 * 2 * 2], 0.05), g.weight([40], 0.1)], { transB: 1 }),
  ]);
  const drop = g.node('Dropout', [fc1]);
  const fc2 = g.node('Gemm', [drop, g.weight([40, 10], 0.1), g.weight([10], 0.1)]);
  const prob = g.node('Softmax', [fc2], { axis: 1 });
  return { builder: g, layers: [c1, p1, c2, c3, c4, fc1, fc2, prob] };
}

/** A ResNet-shaped network: stem, two residual stages with BatchNorm and projection shortcuts, GAP, FC. */
export function resNetLike(seed = 4): { builder: GraphBuilder; layers: string[] } {
  const g = new GraphBuilder(seed, 'raw');
  const stem = g.node('Relu', [convBlock(g, 'input', 3, 8, 7, 2, true)]);
  let x = g.node('MaxPool', [stem], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] });
  const layers = [stem, x];
  let c = 8;
  for (const [out, stride] of [
    [8, 1],
    [16, 2],
  ] as const) {
    const a = g.node('Relu', [convBlock(g, x, c, out, 3, stride, true)]);
    const b = convBlock(g, a, out, out, 3, 1, true);
    const shortcut = stride === 1 && out === c ? x : convBlock(g, x, c, out, 1, stride, true);
    x = g.node('Relu', [g.node('Add', [b, shortcut])]);
    layers.push(a, x);
    c = out;
  }
  const gap = g.node('GlobalAveragePool', [x]);
  const shape = g.node('Shape', [gap]);
  const batch = g.node('Gather', [shape, g.ints([0])], { axis: 0 });
  const target = g.node('Concat', [batch, g.ints([-1])], { axis: 0 });
  const flat = g.node('Reshape', [gap, target]);
  const fc = g.node('Gemm', [flat, g.weight([10, c], 0.2), g.weight([10], 0.1)], { transB: 1 });
  layers.push(gap, fc);
  return { builder: g, layers };
}

/** A VGG-shaped network: stacks of 3x3 convs with max pools, flatten, two dense layers (64 px input). */
export function vggLike(seed = 6): { builder: GraphBuilder; layers: string[] } {
  const g = new GraphBuilder(seed, 'raw');
  let x = 'input';
  let c = 3;
  const layers: string[] = [];
  for (const out of [8, 16, 16, 24, 24]) {
    x = g.node('Relu', [convBlock(g, x, c, out, 3, 1, false)]);
    x = g.node('MaxPool', [x], { kernel_shape: [2, 2], strides: [2, 2] });
    layers.push(x);
    c = out;
  }
  const flat = g.node('Flatten', [x]);
  const fc = g.node('Relu', [
    g.node('Gemm', [flat, g.weight([32, c * 2 * 2], 0.1), g.weight([32], 0.1)], { transB: 1 }),
  ]);
  layers.push(fc, g.node('Gemm', [fc, g.weight([10, 32], 0.2)], { transB: 1 }));
  return { builder: g, layers };
}

/**
 * Test-only writer of GoogLeNet ONNX files shaped like the ONNX model zoo's `googlenet-7.onnx`
 * (Caffe2 export of BVLC GoogLeNet: NCHW Conv with OIHW filters, Relu, MaxPool with asymmetric
 * pads for Caffe's ceil rounding, LRN, Concat, AveragePool, Dropout, Reshape with a shape
 * initializer, Gemm with transB=1, Softmax), so the ONNX reader and the fetch/cache path can be
 * tested without the internet.
 *
 * Deliberately unlike the zoo file in everything the reader must not depend on: tensor and node
 * names are meaningless (`t17`, `p42`), initializers are shuffled, the branches of each block are
 * emitted in a shuffled (still topological) order, and initializers are stored as raw_data or
 * float_data.
 *
 * The network comes from the raw per-layer files of ../shared (read here independently of the
 * reader under test: OHWI -> OIHW) or from a seeded random generator with the right shapes.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { createRng, type Rng } from '@orthostim/rdm';
import { GOOGLENET_CLASSIFIER, GOOGLENET_CONVS, INCEPTION_SPECS } from '../../src/models/googlenet-spec';

const { onnx } = onnxProto;
type NodeProto = onnxProto.onnx.INodeProto;
type TensorProto = onnxProto.onnx.ITensorProto;
type ModelProto = onnxProto.onnx.IModelProto;

/** Network parameters in ONNX layout: conv filters OIHW, classifier (out, in) as Gemm transB=1 wants. */
export interface OnnxNetwork {
  convs: Map<string, { filter: Float32Array; bias: Float32Array }>;
  classifier: { weight: Float32Array; bias: Float32Array };
}

function readLe(path: string): Float32Array {
  const buf = readFileSync(path);
  const out = new Float32Array(buf.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = buf.readFloatLE(i * 4);
  return out;
}

/** Read ../shared's raw layout ((out, kh, kw, in) filters) and reorder to OIHW. */
export function readRawAsOnnxNetwork(dir: string): OnnxNetwork {
  const convs = new Map<string, { filter: Float32Array; bias: Float32Array }>();
  for (const c of GOOGLENET_CONVS) {
    const ohwi = readLe(join(dir, `${c.name}_filter.bin`));
    const k = c.kernel;
    const oihw = new Float32Array(ohwi.length);
    for (let o = 0; o < c.outChannels; o++)
      for (let y = 0; y < k; y++)
        for (let x = 0; x < k; x++)
          for (let i = 0; i < c.inChannels; i++)
            oihw[((o * c.inChannels + i) * k + y) * k + x] = ohwi[((o * k + y) * k + x) * c.inChannels + i]!;
    convs.set(c.name, { filter: oihw, bias: readLe(join(dir, `${c.name}_bias.bin`)) });
  }
  const name = GOOGLENET_CLASSIFIER.name;
  return {
    convs,
    classifier: { weight: readLe(join(dir, `${name}_filter.bin`)), bias: readLe(join(dir, `${name}_bias.bin`)) },
  };
}

/** Random weights with GoogLeNet's shapes (not a working classifier; enough for I/O tests). */
export function seededOnnxNetwork(seed: number): OnnxNetwork {
  const rng = createRng(seed);
  const fill = (n: number) => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = (rng() - 0.5) * 0.2;
    return a;
  };
  const convs = new Map<string, { filter: Float32Array; bias: Float32Array }>();
  for (const c of GOOGLENET_CONVS)
    convs.set(c.name, { filter: fill(c.outChannels * c.inChannels * c.kernel * c.kernel), bias: fill(c.outChannels) });
  const { inFeatures, outFeatures } = GOOGLENET_CLASSIFIER;
  return { convs, classifier: { weight: fill(inFeatures * outFeatures), bias: fill(outFeatures) } };
}

export interface BuildOnnxOptions {
  /** How float initializers are stored: all raw_data, all float_data, or alternating (default). */
  encoding?: 'raw' | 'float' | 'mixed';
  /** Seed for the initializer and branch shuffles (default 1). */
  seed?: number;
  /** Classifier form: Gemm transB=1 like the zoo (default), Gemm transB=0, or MatMul + Add. */
  classifier?: 'gemm-transB' | 'gemm' | 'matmul-add';
}

/** The built model plus, for tests that tamper with it, each Caffe layer's node and initializer names. */
export interface BuiltOnnx {
  model: ModelProto;
  layers: Map<string, { node: NodeProto; weight: string; bias: string }>;
  /** The Concat node of each inception block, by block name. */
  concats: Map<string, NodeProto>;
}

function shuffle<T>(items: T[], rng: Rng): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

const ints = (name: string, values: number[]) => ({ name, ints: values, type: onnx.AttributeProto.AttributeType.INTS });
const int = (name: string, i: number) => ({ name, i, type: onnx.AttributeProto.AttributeType.INT });
const float = (name: string, f: number) => ({ name, f, type: onnx.AttributeProto.AttributeType.FLOAT });

export function buildGoogLeNetOnnx(net: OnnxNetwork, options: BuildOnnxOptions = {}): BuiltOnnx {
  const rng = createRng(options.seed ?? 1);
  const encoding = options.encoding ?? 'mixed';
  let counter = 0;
  const tensor = () => `t${counter++}`;
  const nodes: NodeProto[] = [];
  const initializers: TensorProto[] = [];
  const layers: BuiltOnnx['layers'] = new Map();
  const concats: BuiltOnnx['concats'] = new Map();

  const addFloat = (dims: number[], values: Float32Array): string => {
    const name = `p${counter++}`;
    const t: TensorProto = { name, dims, dataType: onnx.TensorProto.DataType.FLOAT };
    const useFloat = encoding === 'float' || (encoding === 'mixed' && initializers.length % 2 === 1);
    if (useFloat) t.floatData = Array.from(values);
    else t.rawData = new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
    initializers.push(t);
    return name;
  };
  const node = (
    list: NodeProto[],
    opType: string,
    inputs: string[],
    attribute: object[] = [],
    outputs = [tensor()],
  ): string => {
    list.push({ opType, input: inputs, output: outputs, name: `n${counter++}`, attribute });
    return outputs[0]!;
  };
  const conv = (list: NodeProto[], caffe: string, x: string): string => {
    const spec = GOOGLENET_CONVS.find((c) => c.name === caffe)!;
    const p = net.convs.get(caffe)!;
    const weight = addFloat([spec.outChannels, spec.inChannels, spec.kernel, spec.kernel], p.filter);
    const bias = addFloat([spec.outChannels], p.bias);
    const attrs = [
      ints('kernel_shape', [spec.kernel, spec.kernel]),
      ints('strides', [spec.stride, spec.stride]),
      ints('pads', Array(4).fill(spec.pad) as number[]),
    ];
    const out = node(list, 'Conv', [x, weight, bias], attrs);
    layers.set(caffe, { node: list[list.length - 1]!, weight, bias });
    return node(list, 'Relu', [out]);
  };
  // Caffe rounds pooled sizes up; the Caffe2 export pads the far edge by one to get the same size.
  const ceilPool = (x: string) =>
    node(nodes, 'MaxPool', [x], [ints('kernel_shape', [3, 3]), ints('strides', [2, 2]), ints('pads', [0, 0, 1, 1])]);
  const lrn = (x: string) =>
    node(nodes, 'LRN', [x], [int('size', 5), float('alpha', 1e-4), float('beta', 0.75), float('bias', 1)]);

  const input = 'image';
  let x = conv(nodes, 'conv1/7x7_s2', input);
  x = lrn(ceilPool(x));
  x = conv(nodes, 'conv2/3x3_reduce', x);
  x = lrn(conv(nodes, 'conv2/3x3', x));
  x = ceilPool(x);
  for (const block of INCEPTION_SPECS) {
    const b = block.name;
    const branches: Array<{ list: NodeProto[]; out: string }> = [];
    const branch = (make: (list: NodeProto[]) => string) => {
      const list: NodeProto[] = [];
      branches.push({ list, out: make(list) });
    };
    branch((l) => conv(l, `${b}/1x1`, x));
    branch((l) => conv(l, `${b}/3x3`, conv(l, `${b}/3x3_reduce`, x)));
    branch((l) => conv(l, `${b}/5x5`, conv(l, `${b}/5x5_reduce`, x)));
    branch((l) => {
      const pooled = node(
        l,
        'MaxPool',
        [x],
        [ints('kernel_shape', [3, 3]), ints('strides', [1, 1]), ints('pads', [1, 1, 1, 1])],
      );
      return conv(l, `${b}/pool_proj`, pooled);
    });
    for (const { list } of shuffle([...branches], rng)) nodes.push(...list);
    x = node(
      nodes,
      'Concat',
      branches.map((br) => br.out),
      [int('axis', 1)],
    );
    concats.set(b, nodes[nodes.length - 1]!);
    if (b === 'inception_3b' || b === 'inception_4e') x = ceilPool(x);
  }
  x = node(nodes, 'AveragePool', [x], [ints('kernel_shape', [7, 7]), ints('strides', [1, 1])]);
  x = node(nodes, 'Dropout', [x], [float('ratio', 0.4)], [tensor(), tensor()]);
  const shape: TensorProto = {
    name: `p${counter++}`,
    dims: [2],
    dataType: onnx.TensorProto.DataType.INT64,
    int64Data: [1, GOOGLENET_CLASSIFIER.inFeatures],
  };
  initializers.push(shape);
  x = node(nodes, 'Reshape', [x, shape.name!]);

  const { inFeatures, outFeatures } = GOOGLENET_CLASSIFIER;
  const { weight, bias } = net.classifier;
  const form = options.classifier ?? 'gemm-transB';
  if (form === 'gemm-transB') {
    x = node(
      nodes,
      'Gemm',
      [x, addFloat([outFeatures, inFeatures], weight), addFloat([outFeatures], bias)],
      [int('transB', 1)],
    );
  } else {
    const inOut = new Float32Array(weight.length);
    for (let o = 0; o < outFeatures; o++)
      for (let i = 0; i < inFeatures; i++) inOut[i * outFeatures + o] = weight[o * inFeatures + i]!;
    const w = addFloat([inFeatures, outFeatures], inOut);
    if (form === 'gemm') x = node(nodes, 'Gemm', [x, w, addFloat([outFeatures], bias)]);
    else x = node(nodes, 'Add', [node(nodes, 'MatMul', [x, w]), addFloat([1, outFeatures], bias)]);
  }
  const output = node(nodes, 'Softmax', [x], [int('axis', 1)]);

  const valueInfo = (name: string, dims: number[]) => ({
    name,
    type: {
      tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: dims.map((d) => ({ dimValue: d })) } },
    },
  });
  const model: ModelProto = {
    irVersion: 3,
    producerName: 'orthostim-test',
    opsetImport: [{ domain: '', version: 7 }],
    graph: {
      name: 'shuffled-googlenet',
      node: nodes,
      initializer: shuffle(initializers, rng),
      // Old exporters list every initializer as a graph input too; the reader must tell them apart.
      input: [
        valueInfo(input, [1, 3, 224, 224]),
        ...initializers.filter((_, i) => i % 3 === 0).map((t) => valueInfo(t.name!, (t.dims ?? []) as number[])),
      ],
      output: [valueInfo(output, [1, outFeatures])],
    },
  };
  return { model, layers, concats };
}

export function encodeOnnx(model: ModelProto): Uint8Array {
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}

/** Build and write an ONNX file; returns the path. */
export function writeGoogLeNetOnnx(path: string, net: OnnxNetwork, options: BuildOnnxOptions = {}): string {
  writeFileSync(path, encodeOnnx(buildGoogLeNetOnnx(net, options).model));
  return path;
}

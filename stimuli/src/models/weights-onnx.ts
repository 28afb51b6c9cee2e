/**
 * Reader for GoogLeNet weights in an ONNX file, such as the ONNX model zoo's `googlenet-7.onnx`
 * (the BVLC network converted from Caffe2: NCHW Conv nodes with OIHW filters, a Gemm classifier).
 *
 * Tensors are matched to layers by graph structure and shapes, never by names, so any export of
 * the same network works: the three stem convs form a chain from the graph input; every Concat of
 * four conv branches is an inception block, whose branches are told apart by what feeds their last
 * conv (the block input: 1x1; a reduce conv: 3x3 or 5x5 by kernel size; a max pool: pool_proj);
 * the one dense layer after the last block is the classifier. Every shape and conv attribute is
 * checked against GOOGLENET_CONVS, and the first mismatch is reported as one line.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import onnxProto from 'onnx-proto';
import { InputError } from '@orthostim/protocol';
import { GOOGLENET_CLASSIFIER, GOOGLENET_CONVS, GOOGLENET_LRN, INCEPTION_SPECS, type ConvSpec } from './googlenet-spec';
import type { ConvWeights, DenseWeights, GoogLeNetWeights } from './weights';
import { assertFiniteWeights, computeWeightsSha256, warnUnvouchedWeights } from './weights-digest';

const { onnx } = onnxProto;
type TensorProto = onnxProto.onnx.ITensorProto;
type AttributeProto = onnxProto.onnx.IAttributeProto;

/** Ops a BVLC GoogLeNet graph may contain; anything else (e.g. BatchNormalization) changes the math. */
const ALLOWED_OPS = new Set([
  'Conv',
  'Relu',
  'MaxPool',
  'LRN',
  'Concat',
  'AveragePool',
  'GlobalAveragePool',
  'Dropout',
  'Reshape',
  'Flatten',
  'Gemm',
  'MatMul',
  'Add',
  'Softmax',
  'Identity',
  'Constant',
  'Shape',
  'Gather',
  'Unsqueeze',
  'Squeeze',
]);
/** Ops that keep a tensor's channel layout, walked through when tracing where a tensor comes from. */
const LAYOUT_PRESERVING = new Set(['Relu', 'LRN', 'Dropout', 'Identity', 'MaxPool']);
const CLASSIFIER_PATH = new Set([
  'Relu',
  'Dropout',
  'Identity',
  'AveragePool',
  'GlobalAveragePool',
  'Reshape',
  'Flatten',
]);

interface GraphNode {
  /** Position in the file, for messages when the node has no name. */
  index: number;
  op: string;
  label: string;
  inputs: string[];
  outputs: string[];
  attrs: Map<string, AttributeProto>;
}

type LongLike = number | { toNumber(): number };
function toInt(v: LongLike | null | undefined): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'number' ? v : v.toNumber();
}

/** Thrown inside the walk; readOnnxWeights prefixes the file name. */
class Mismatch extends Error {}

function fail(message: string): never {
  throw new Mismatch(message);
}

function intsAttr(node: GraphNode, name: string): number[] | undefined {
  const a = node.attrs.get(name);
  return a ? (a.ints ?? []).map((v) => toInt(v as LongLike)) : undefined;
}

function intAttr(node: GraphNode, name: string, fallback: number): number {
  const a = node.attrs.get(name);
  return a ? toInt(a.i as LongLike) : fallback;
}

function floatAttr(node: GraphNode, name: string, fallback: number): number {
  const a = node.attrs.get(name);
  return a ? (a.f ?? fallback) : fallback;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** The float32 values of an initializer, from raw_data (little-endian bytes) or float_data. */
function tensorFloats(t: TensorProto, what: string): Float32Array {
  if (t.dataType !== onnx.TensorProto.DataType.FLOAT) {
    fail(`${what} has data type ${onnx.TensorProto.DataType[t.dataType ?? 0] ?? t.dataType}; expected FLOAT (float32)`);
  }
  const count = tensorDims(t).reduce((a, b) => a * b, 1);
  const raw = t.rawData;
  if (raw && raw.length > 0) {
    if (raw.length !== count * 4) fail(`${what} has ${raw.length} bytes of raw data; expected ${count * 4}`);
    if (LITTLE_ENDIAN) {
      // Copy into an aligned buffer: the protobuf slice can start at any byte offset.
      const out = new Float32Array(count);
      new Uint8Array(out.buffer).set(raw);
      return out;
    }
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
    return out;
  }
  const floats = t.floatData ?? [];
  if (floats.length !== count) {
    const external = (t.externalData ?? []).length > 0 || t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL;
    fail(
      external
        ? `${what} is stored in an external data file, which is not supported; save the model with its weights inside`
        : `${what} has ${floats.length} values; expected ${count}`,
    );
  }
  return Float32Array.from(floats);
}

function tensorDims(t: TensorProto): number[] {
  return (t.dims ?? []).map((d) => toInt(d as LongLike));
}

/** (out, in, kh, kw) -> HWIO (kh, kw, in, out). */
export function oihwToHwio(src: Float32Array, out: number, inC: number, kh: number, kw: number): Float32Array {
  const dst = new Float32Array(src.length);
  let s = 0;
  for (let o = 0; o < out; o++) {
    for (let i = 0; i < inC; i++) {
      for (let y = 0; y < kh; y++) {
        for (let x = 0; x < kw; x++) dst[((y * kw + x) * inC + i) * out + o] = src[s++]!;
      }
    }
  }
  return dst;
}

const sameDims = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((v, i) => v === b[i]);
const dimsText = (d: readonly number[]) => (d.length ? d.join('x') : 'a scalar');

/** The graph as producer/consumer maps plus a topological order. */
class Graph {
  readonly nodes: GraphNode[];
  readonly producer = new Map<string, GraphNode>();
  readonly consumers = new Map<string, GraphNode[]>();
  readonly constants = new Map<string, TensorProto>();
  readonly inputs: string[];
  readonly order: GraphNode[];

  constructor(graph: onnxProto.onnx.IGraphProto) {
    for (const t of graph.initializer ?? []) if (t.name) this.constants.set(t.name, t);
    this.nodes = (graph.node ?? []).map((n, index) => {
      const op = n.opType ?? '';
      const outputs = (n.output ?? []).filter(Boolean);
      return {
        index,
        op,
        label: `${op} "${n.name || outputs[0] || `#${index}`}"`,
        inputs: n.input ?? [],
        outputs,
        attrs: new Map((n.attribute ?? []).map((a) => [a.name ?? '', a])),
      };
    });
    for (const node of this.nodes) {
      if (!ALLOWED_OPS.has(node.op))
        fail(`node ${node.label} is not part of BVLC GoogLeNet (which has only ${[...ALLOWED_OPS].join(', ')})`);
      for (const out of node.outputs) this.producer.set(out, node);
      for (const inp of node.inputs) {
        if (!inp) continue;
        const list = this.consumers.get(inp) ?? [];
        list.push(node);
        this.consumers.set(inp, list);
      }
      if (node.op === 'Constant') {
        const t = node.attrs.get('value')?.t;
        if (t && node.outputs[0]) this.constants.set(node.outputs[0], t);
      }
    }
    this.inputs = (graph.input ?? []).map((i) => i.name ?? '').filter((n) => n && !this.constants.has(n));
    this.order = this.topologicalOrder();
  }

  private topologicalOrder(): GraphNode[] {
    const ready = new Set<string>(['', ...this.inputs, ...this.constants.keys()]);
    const pending = new Map(this.nodes.map((n) => [n, n.inputs.filter((i) => !ready.has(i)).length]));
    const queue = this.nodes.filter((n) => pending.get(n) === 0);
    const order: GraphNode[] = [];
    while (queue.length) {
      const node = queue.shift()!;
      order.push(node);
      for (const out of node.outputs) {
        if (ready.has(out)) continue;
        ready.add(out);
        for (const c of this.consumers.get(out) ?? []) {
          const left = pending.get(c)! - c.inputs.filter((i) => i === out).length;
          pending.set(c, left);
          if (left === 0) queue.push(c);
        }
      }
    }
    if (order.length !== this.nodes.length) {
      const stuck = this.nodes.find((n) => !order.includes(n))!;
      fail(
        `node ${stuck.label} has an input that no node or initializer provides: ${stuck.inputs.filter((i) => !ready.has(i)).join(', ')}`,
      );
    }
    return order;
  }

  /** Follow `tensor` back through ops in `through` (first input); the tensor reached and its producer. */
  trace(
    tensor: string,
    through: ReadonlySet<string>,
  ): { tensor: string; node: GraphNode | undefined; passed: GraphNode[] } {
    const passed: GraphNode[] = [];
    let node = this.producer.get(tensor);
    while (node && through.has(node.op)) {
      passed.push(node);
      tensor = node.inputs[0] ?? '';
      node = this.producer.get(tensor);
    }
    return { tensor, node, passed };
  }

  constant(name: string | undefined, what: string): TensorProto {
    const t = name ? this.constants.get(name) : undefined;
    if (!t) fail(`${what} is not a constant initializer`);
    return t;
  }
}

const RELU_ONLY = new Set(['Relu', 'Identity']);

interface Block {
  concat: GraphNode;
  /** The block's input tensor, shared by all four branches. */
  input: string;
  /** Conv nodes in GOOGLENET_CONVS order: 1x1, 3x3_reduce, 3x3, 5x5_reduce, 5x5, pool_proj. */
  convs: GraphNode[];
}

type Role = '1x1' | '3x3' | '5x5' | 'pool_proj';
const BRANCH_ORDER: Role[] = ['1x1', '3x3', '5x5', 'pool_proj'];

/** Read an inception block from its Concat: the four branches, their roles and the shared input. */
function readBlock(g: Graph, concat: GraphNode, name: string): Block {
  const where = `${name} (${concat.label})`;
  if (concat.inputs.length !== 4) fail(`${where} concatenates ${concat.inputs.length} tensors; expected 4 branches`);
  const axis = intAttr(concat, 'axis', 1);
  if (axis !== 1) fail(`${where} concatenates on axis ${axis}; expected the channel axis 1 (NCHW)`);
  const heads = concat.inputs.map((t) => {
    const { node } = g.trace(t, RELU_ONLY);
    if (node?.op !== 'Conv') fail(`${where}: branch input "${t}" does not come from a Conv through a Relu`);
    return node;
  });
  // The reduce branches are unambiguous (conv -> relu -> conv); their reduce conv reads the block input.
  const reduceOf = heads.map((h) => {
    const { node } = g.trace(h.inputs[0] ?? '', RELU_ONLY);
    return node?.op === 'Conv' ? node : undefined;
  });
  const reduces = reduceOf.filter((r): r is GraphNode => r !== undefined);
  if (reduces.length !== 2)
    fail(`${where} has ${reduces.length} branches with a reduce conv; expected 2 (3x3 and 5x5)`);
  const input = reduces[0]!.inputs[0] ?? '';
  if (reduces.some((r) => r.inputs[0] !== input))
    fail(`${where}: the reduce convs read different tensors; expected one block input`);

  const roles = heads.map((h, j): Role => {
    const reduce = reduceOf[j];
    if (reduce) {
      const k = intsAttr(h, 'kernel_shape')?.[0] ?? tensorDims(g.constant(h.inputs[1], `${where} weights`))[2];
      if (k === 3) return '3x3';
      if (k === 5) return '5x5';
      fail(`${where}: a reduced branch has a ${k}x${k} conv; expected 3x3 or 5x5`);
    }
    if (h.inputs[0] === input) return '1x1';
    const pool = g.producer.get(h.inputs[0] ?? '');
    if (pool?.op === 'MaxPool' && pool.inputs[0] === input) return 'pool_proj';
    fail(
      `${where}: branch ${j + 1} (${h.label}) reads neither the block input, a reduce conv nor a max pool of the block input`,
    );
  });
  const got = roles.join(', ');
  if (got !== BRANCH_ORDER.join(', '))
    fail(`${where} has branches ${got}; expected ${BRANCH_ORDER.join(', ')} in this concatenation order`);
  const [c1, c3, c5, cp] = heads as [GraphNode, GraphNode, GraphNode, GraphNode];
  return { concat, input, convs: [c1, reduceOf[1]!, c3, reduceOf[2]!, c5, cp] };
}

/** Check a Conv node's weights and attributes against its spec; return the TF.js-native weights. */
function readConv(g: Graph, node: GraphNode, spec: ConvSpec): ConvWeights {
  const where = `${spec.name} (${node.label})`;
  const w = g.constant(node.inputs[1], `${where} weights`);
  const expected = [spec.outChannels, spec.inChannels, spec.kernel, spec.kernel];
  if (!sameDims(tensorDims(w), expected))
    fail(`${where} has weights ${dimsText(tensorDims(w))}; expected ${dimsText(expected)} (out, in, kh, kw)`);
  if (!node.inputs[2]) fail(`${where} has no bias; expected ${spec.outChannels} biases`);
  const b = g.constant(node.inputs[2], `${where} bias`);
  if (!sameDims(tensorDims(b), [spec.outChannels]))
    fail(`${where} has bias ${dimsText(tensorDims(b))}; expected ${spec.outChannels}`);
  const checks: Array<[string, number[] | undefined, number[]]> = [
    ['strides', intsAttr(node, 'strides'), [spec.stride, spec.stride]],
    ['pads', intsAttr(node, 'pads'), [spec.pad, spec.pad, spec.pad, spec.pad]],
    ['dilations', intsAttr(node, 'dilations'), [1, 1]],
  ];
  for (const [attr, got, want] of checks) {
    const value = got ?? (attr === 'pads' ? [0, 0, 0, 0] : [1, 1]);
    if (!sameDims(value, want)) fail(`${where} has ${attr} [${value.join(', ')}]; expected [${want.join(', ')}]`);
  }
  const group = intAttr(node, 'group', 1);
  if (group !== 1) fail(`${where} has group ${group}; expected 1`);
  const autoPad = node.attrs.get('auto_pad')?.s;
  const autoPadText = autoPad ? new TextDecoder().decode(autoPad) : 'NOTSET';
  if (autoPadText !== 'NOTSET' && !(autoPadText === 'VALID' && spec.pad === 0))
    fail(`${where} has auto_pad ${autoPadText}; expected explicit pads`);
  return {
    shape: [spec.kernel, spec.kernel, spec.inChannels, spec.outChannels],
    filter: oihwToHwio(
      tensorFloats(w, `${where} weights`),
      spec.outChannels,
      spec.inChannels,
      spec.kernel,
      spec.kernel,
    ),
    bias: tensorFloats(b, `${where} bias`),
  };
}

/** The classifier: one Gemm (either transB) or MatMul + Add, 1024 -> 1000, fed by the last block. */
function readClassifier(g: Graph, lastConcat: GraphNode): DenseWeights {
  const { name, inFeatures, outFeatures } = GOOGLENET_CLASSIFIER;
  const dense = g.order.filter((n) => n.op === 'Gemm' || n.op === 'MatMul');
  if (dense.length !== 1)
    fail(`found ${dense.length} Gemm/MatMul nodes; expected one classifier (${name}, ${inFeatures} -> ${outFeatures})`);
  const node = dense[0]!;
  const where = `${name} (${node.label})`;
  const from = g.trace(node.inputs[0] ?? '', CLASSIFIER_PATH);
  if (from.node !== lastConcat)
    fail(`${where} does not read the output of inception_5b through pooling, dropout and reshape`);
  const w = g.constant(node.inputs[1], `${where} weights`);
  const dims = tensorDims(w);
  let transB = 0;
  let biasName: string | undefined;
  if (node.op === 'Gemm') {
    transB = intAttr(node, 'transB', 0);
    if (intAttr(node, 'transA', 0) !== 0) fail(`${where} has transA 1; expected 0`);
    for (const attr of ['alpha', 'beta']) {
      const v = floatAttr(node, attr, 1);
      if (v !== 1) fail(`${where} has ${attr} ${v}; expected 1`);
    }
    biasName = node.inputs[2];
  } else {
    const adds = (g.consumers.get(node.outputs[0] ?? '') ?? []).filter((c) => c.op === 'Add');
    biasName = adds[0]?.inputs.find((i) => i !== node.outputs[0]);
  }
  const expected = transB ? [outFeatures, inFeatures] : [inFeatures, outFeatures];
  if (!sameDims(dims, expected))
    fail(
      `${where} has weights ${dimsText(dims)}; expected ${dimsText(expected)}${node.op === 'Gemm' ? ` (transB ${transB})` : ''}`,
    );
  if (!biasName) fail(`${where} has no bias; expected ${outFeatures} biases`);
  const b = g.constant(biasName, `${where} bias`);
  const bDims = tensorDims(b);
  if (bDims.reduce((a, c) => a * c, 1) !== outFeatures || bDims.some((d) => d !== 1 && d !== outFeatures)) {
    fail(`${where} has bias ${dimsText(bDims)}; expected ${outFeatures}`);
  }
  const values = tensorFloats(w, `${where} weights`);
  return {
    shape: [inFeatures, outFeatures],
    // (out, in) -> (in, out) is the OIHW -> HWIO reorder of a 1x1 filter.
    kernel: transB ? oihwToHwio(values, outFeatures, inFeatures, 1, 1) : values,
    bias: tensorFloats(b, `${where} bias`),
  };
}

/** LRN is part of the architecture the model module hard-codes; a different LRN is another network. */
function checkLrns(g: Graph): void {
  for (const node of g.order.filter((n) => n.op === 'LRN')) {
    const size = intAttr(node, 'size', 0);
    const alpha = floatAttr(node, 'alpha', 1e-4);
    const beta = floatAttr(node, 'beta', 0.75);
    const close = (a: number, b: number) => Math.abs(a - b) <= 1e-6 * Math.abs(b);
    if (size !== GOOGLENET_LRN.localSize || !close(alpha, GOOGLENET_LRN.alpha) || !close(beta, GOOGLENET_LRN.beta)) {
      fail(
        `${node.label} has size ${size}, alpha ${alpha}, beta ${beta}; expected size ${GOOGLENET_LRN.localSize}, alpha ${GOOGLENET_LRN.alpha}, beta ${GOOGLENET_LRN.beta}`,
      );
    }
  }
}

/** Match the graph to the architecture; returns the conv nodes by Caffe name and the weights. */
function readGraph(g: Graph): { convs: Map<string, ConvWeights>; classifier: DenseWeights } {
  if (g.inputs.length !== 1)
    fail(
      `the graph has ${g.inputs.length} non-constant inputs (${g.inputs.join(', ') || 'none'}); expected one image input`,
    );
  checkLrns(g);
  const blocks: Block[] = [];
  const isInceptionConcat = (n: GraphNode) =>
    n.op === 'Concat' && n.inputs.length > 0 && n.inputs.every((t) => g.trace(t, RELU_ONLY).node?.op === 'Conv');
  for (const concat of g.order.filter(isInceptionConcat)) {
    const name = INCEPTION_SPECS[blocks.length]?.name ?? `inception block ${blocks.length + 1}`;
    blocks.push(readBlock(g, concat, name));
  }
  if (blocks.length !== INCEPTION_SPECS.length)
    fail(`found ${blocks.length} inception blocks (Concat of conv branches); expected ${INCEPTION_SPECS.length}`);

  const inBlocks = new Set(blocks.flatMap((b) => b.convs));
  const stem = g.order.filter((n) => n.op === 'Conv' && !inBlocks.has(n));
  const stemSpecs = GOOGLENET_CONVS.slice(0, 3);
  if (stem.length !== stemSpecs.length)
    fail(
      `found ${stem.length} convs outside the inception blocks; expected ${stemSpecs.length} (${stemSpecs.map((s) => s.name).join(', ')})`,
    );

  // Each layer must read the one before it, through layout-preserving ops only.
  const requireSource = (tensor: string, expected: GraphNode | string, what: string, expectedText: string) => {
    const { tensor: reached, node } = g.trace(tensor, LAYOUT_PRESERVING);
    const ok = typeof expected === 'string' ? node === undefined && reached === expected : node === expected;
    if (!ok) fail(`${what} does not read ${expectedText}`);
  };
  requireSource(
    stem[0]!.inputs[0] ?? '',
    g.inputs[0]!,
    `conv1/7x7_s2 (${stem[0]!.label})`,
    `the graph input "${g.inputs[0]}"`,
  );
  for (let i = 1; i < stem.length; i++)
    requireSource(
      stem[i]!.inputs[0] ?? '',
      stem[i - 1]!,
      `${stemSpecs[i]!.name} (${stem[i]!.label})`,
      stemSpecs[i - 1]!.name,
    );
  blocks.forEach((b, k) => {
    const prev = k === 0 ? stem[stem.length - 1]! : blocks[k - 1]!.concat;
    const prevName = k === 0 ? stemSpecs[stemSpecs.length - 1]!.name : INCEPTION_SPECS[k - 1]!.name;
    requireSource(b.input, prev, `${INCEPTION_SPECS[k]!.name} (${b.concat.label})`, prevName);
  });

  const nodes = [...stem, ...blocks.flatMap((b) => b.convs)];
  const convs = new Map<string, ConvWeights>();
  GOOGLENET_CONVS.forEach((spec, i) => convs.set(spec.name, readConv(g, nodes[i]!, spec)));
  return { convs, classifier: readClassifier(g, blocks[blocks.length - 1]!.concat) };
}

/** Read GoogLeNet weights from an ONNX file; any file that is not this network is an InputError. */
export function readOnnxWeights(file: string): GoogLeNetWeights {
  if (!existsSync(file) || !statSync(file).isFile()) throw new InputError(`${file}: ONNX file not found`);
  let model: onnxProto.onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(readFileSync(file));
  } catch (err) {
    throw new InputError(
      `${file}: not a readable ONNX file (${(err as Error).message}); the file may be truncated or of another format`,
    );
  }
  if (!model.graph || (model.graph.node ?? []).length === 0)
    throw new InputError(`${file}: not an ONNX model (no graph nodes); the file may be truncated or of another format`);
  try {
    const { convs, classifier } = readGraph(new Graph(model.graph));
    assertFiniteWeights(convs, classifier, resolve(file));
    const sha256 = computeWeightsSha256(convs, classifier);
    const sums = join(dirname(resolve(file)), 'SHA256SUMS');
    warnUnvouchedWeights(sha256, resolve(file), existsSync(sums) ? sums : null);
    return {
      convs,
      classifier,
      sha256,
      format: 'onnx',
      source: resolve(file),
    };
  } catch (err) {
    if (err instanceof Mismatch) throw new InputError(`${file}: not BVLC GoogLeNet: ${err.message}`);
    throw err;
  }
}

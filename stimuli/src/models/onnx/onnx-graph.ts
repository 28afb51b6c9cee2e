/**
 * An ONNX graph run eagerly with TF.js ops: any feed-forward network whose ops are in the registry
 * (Conv, pools, normalizations, element-wise and matrix ops, shape-folding chains). Input
 * gradients come from TF.js autodiff, so synthesis can use any imported network.
 *
 * Only the nodes that the requested tensors depend on run. Initializers are uploaded once.
 */
import * as tf from '@tensorflow/tfjs';
import { InputError } from '@orthostim/protocol';
import type { OnnxModelFile, OnnxNode } from './onnx-file';
import { MATH_OPS } from './onnx-ops-math';
import { NN_OPS } from './onnx-ops-nn';
import { SHAPE_OPS } from './onnx-ops-shape';
import { type OpFn, type Value, graphShape, nhwcValue, plain, toPlain } from './onnx-values';

export const ONNX_OPS: Readonly<Record<string, OpFn>> = { ...NN_OPS, ...MATH_OPS, ...SHAPE_OPS };
export const SUPPORTED_ONNX_OPS = Object.keys(ONNX_OPS).sort();
/** The opsets whose semantics the ops follow (attributes moved to inputs at 10, 11 and 13). */
export const ONNX_OPSET_RANGE = [7, 18] as const;

export interface OnnxTensorInfo {
  name: string;
  op: string;
  /** Shape as the graph sees it (NCHW for images), for one image. */
  shape: number[];
}

export class OnnxGraph {
  private readonly constants = new Map<string, tf.Tensor>();
  private readonly producer = new Map<string, OnnxNode>();
  readonly inputName: string;

  constructor(readonly model: OnnxModelFile) {
    checkModel(model);
    for (const n of model.nodes) for (const o of n.outputs) if (o) this.producer.set(o, n);
    for (const [name, d] of model.initializers) this.constants.set(name, tf.tensor(d.values, d.dims, d.dtype));
    this.inputName = model.inputs[0]!.name;
  }

  /** Every tensor a layer can be: node outputs and graph outputs, in graph order. */
  tensorNames(): string[] {
    return this.model.nodes.flatMap((n) => n.outputs.filter(Boolean));
  }

  hasTensor(name: string): boolean {
    return this.producer.has(name);
  }

  /**
   * Run the graph on `x` (NHWC storage of the NCHW graph input, already normalized) and return the
   * requested tensors in the graph's layout as stored: rank-4 image tensors stay NHWC storage
   * unless `graphLayout` is set.
   */
  run(x: tf.Tensor4D, names: readonly string[], graphLayout = false): tf.Tensor[] {
    return tf.tidy(() => {
      const values = new Map<string, Value>([[this.inputName, nhwcValue(x)]]);
      for (const node of this.nodesFor(names)) this.runNode(node, values);
      return names.map((n) => {
        const v = values.get(n)!;
        return graphLayout ? toPlain(v) : v.t;
      });
    });
  }

  /** Shapes (as the graph sees them) of every float tensor, from one pass on a blank image of `size`. */
  describeTensors(size: number): OnnxTensorInfo[] {
    const names = this.tensorNames();
    return tf.tidy(() => {
      const values = new Map<string, Value>([[this.inputName, nhwcValue(tf.zeros([1, size, size, 3]))]]);
      for (const node of this.nodesFor(names)) this.runNode(node, values);
      return names
        .filter((n) => values.get(n)?.t.dtype === 'float32')
        .map((n) => ({ name: n, op: this.producer.get(n)!.op, shape: graphShape(values.get(n)!) }));
    });
  }

  dispose(): void {
    for (const t of this.constants.values()) t.dispose();
    this.constants.clear();
  }

  /** The nodes needed for `names`, in graph (topological) order. */
  private nodesFor(names: readonly string[]): OnnxNode[] {
    const needed = new Set<OnnxNode>();
    const stack = [...names];
    while (stack.length) {
      const name = stack.pop()!;
      const node = this.producer.get(name);
      if (!node) {
        if (name === this.inputName || this.constants.has(name) || name === '') continue;
        throw new InputError(`${this.model.path}: no tensor named ${JSON.stringify(name)} in the graph`);
      }
      if (needed.has(node)) continue;
      needed.add(node);
      stack.push(...node.inputs);
    }
    return this.model.nodes.filter((n) => needed.has(n));
  }

  private runNode(node: OnnxNode, values: Map<string, Value>): void {
    const inputs = node.inputs.map((name) => {
      if (name === '') return undefined;
      const c = this.constants.get(name);
      return c ? plain(c) : values.get(name);
    });
    const outputs = ONNX_OPS[node.op]!({ node, inputs, opset: this.model.opset, modelPath: this.model.path });
    outputs.forEach((v, i) => {
      const name = node.outputs[i];
      if (name) values.set(name, v);
    });
  }
}

function checkModel(model: OnnxModelFile): void {
  const unsupported = model.nodes.find((n) => !(n.op in ONNX_OPS));
  if (unsupported)
    throw new InputError(
      `${model.path}: node ${unsupported.label} uses operator ${unsupported.op}, which orthostim cannot run; supported: ${SUPPORTED_ONNX_OPS.join(', ')}`,
    );
  const [lo, hi] = ONNX_OPSET_RANGE;
  if (model.opset < lo || model.opset > hi)
    throw new InputError(`${model.path}: exported for ONNX opset ${model.opset}; supported: ${lo} to ${hi}`);
  if (model.inputs.length !== 1)
    throw new InputError(
      `${model.path}: the graph has ${model.inputs.length} inputs (${model.inputs.map((i) => i.name).join(', ')}); expected one image input`,
    );
  const dims = model.inputs[0]!.dims;
  if (dims.length !== 4 || (dims[1] !== -1 && dims[1] !== 3))
    throw new InputError(
      `${model.path}: the graph input has shape [${dims.join(', ')}]; expected an NCHW image batch [N, 3, H, W]`,
    );
}

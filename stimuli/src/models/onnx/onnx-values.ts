/**
 * Tensors flowing through an imported ONNX graph, and the layout rule that lets TF.js run it.
 *
 * ONNX image tensors are NCHW; TF.js convolutions and pools want NHWC. A rank-4 value that comes
 * out of a convolution, pool or normalization is therefore *stored* NHWC (`nhwc: true`) while it
 * still *means* the NCHW tensor of the graph: ops that care about axes (Concat, Flatten, Reshape,
 * Softmax...) translate axes or convert it back to plain NCHW first. Chains of convolutions thus
 * never transpose, and every op sees the semantics of the ONNX specification.
 */
import * as tf from '@tensorflow/tfjs';
import { InputError } from '@orthostim/protocol';
import type { OnnxAttribute, OnnxNode } from './onnx-file';

export interface Value {
  t: tf.Tensor;
  /** A rank-4 NCHW tensor of the graph stored as NHWC. */
  nhwc: boolean;
}

export interface OpContext {
  node: OnnxNode;
  /** Inputs in node order; undefined where an optional input is omitted. */
  inputs: (Value | undefined)[];
  opset: number;
  modelPath: string;
}

export type OpFn = (ctx: OpContext) => Value[];

/** NCHW axis -> the axis that holds it in NHWC storage. */
export const NCHW_TO_NHWC_AXIS = [0, 3, 1, 2] as const;

export const plain = (t: tf.Tensor): Value => ({ t, nhwc: false });
export const nhwcValue = (t: tf.Tensor): Value => ({ t, nhwc: true });

/** The tensor in the graph's own layout (NCHW for images). */
export function toPlain(v: Value): tf.Tensor {
  return v.nhwc ? tf.transpose(v.t, [0, 3, 1, 2]) : v.t;
}

/** A rank-4 value as NHWC storage (for convolutions and pools). */
export function toNhwc(v: Value, ctx: OpContext): tf.Tensor4D {
  if (v.nhwc) return v.t as tf.Tensor4D;
  if (v.t.rank !== 4) opError(ctx, `needs a rank-4 NCHW input; got shape [${v.t.shape.join(', ')}]`);
  return tf.transpose(v.t, [0, 2, 3, 1]) as tf.Tensor4D;
}

/** The shape the graph sees (NCHW for stored-NHWC values). */
export function graphShape(v: Value): number[] {
  const s = v.t.shape;
  return v.nhwc ? [s[0]!, s[3]!, s[1]!, s[2]!] : [...s];
}

/** Normalize a possibly negative axis of a tensor of rank `rank`. */
export function normalizeAxis(axis: number, rank: number, ctx: OpContext): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) opError(ctx, `axis ${axis} is outside a tensor of rank ${rank}`);
  return a;
}

export function opError(ctx: Pick<OpContext, 'node' | 'modelPath'>, message: string): never {
  throw new InputError(`${ctx.modelPath}: node ${ctx.node.label} (${ctx.node.op}) ${message}`);
}

export function input(ctx: OpContext, i: number): Value {
  const v = ctx.inputs[i];
  if (!v) opError(ctx, `needs input ${i + 1}, which is missing`);
  return v;
}

function attr(ctx: OpContext, name: string): OnnxAttribute | undefined {
  return ctx.node.attrs.get(name);
}

export function intAttr(ctx: OpContext, name: string, fallback: number): number {
  const a = attr(ctx, name);
  return a?.kind === 'int' ? a.value : fallback;
}

export function intsAttr(ctx: OpContext, name: string): number[] | undefined {
  const a = attr(ctx, name);
  return a?.kind === 'ints' ? a.value : undefined;
}

export function floatAttr(ctx: OpContext, name: string, fallback: number): number {
  const a = attr(ctx, name);
  return a?.kind === 'float' ? a.value : a?.kind === 'int' ? a.value : fallback;
}

export function stringAttr(ctx: OpContext, name: string, fallback: string): string {
  const a = attr(ctx, name);
  return a?.kind === 'string' ? a.value : fallback;
}

export function tensorAttr(ctx: OpContext, name: string): tf.Tensor | undefined {
  const a = attr(ctx, name);
  if (a?.kind !== 'tensor') return undefined;
  return tf.tensor(a.value.values, a.value.dims, a.value.dtype);
}

/** The integer values of a small constant-like input (shapes, axes, pads), read back from the tensor. */
export function intValues(v: Value): number[] {
  return Array.from(toPlain(v).dataSync(), (x) => Math.trunc(x));
}

/** Integers from an attribute (older opsets) or from input `i` (newer ones); undefined when neither. */
export function intsFromAttrOrInput(ctx: OpContext, name: string, i: number): number[] | undefined {
  const fromAttr = intsAttr(ctx, name);
  if (fromAttr) return fromAttr;
  const v = ctx.inputs[i];
  return v ? intValues(v) : undefined;
}

/**
 * Bring two operands of a broadcasting op into one storage layout. Where one is stored NHWC, the
 * other is right-aligned to rank 4 in NCHW terms (numpy broadcasting) and transposed to match.
 */
export function alignForBroadcast(a: Value, b: Value): { a: tf.Tensor; b: tf.Tensor; nhwc: boolean } {
  if (a.nhwc === b.nhwc) return { a: a.t, b: b.t, nhwc: a.nhwc };
  const toStored = (v: Value): tf.Tensor => {
    if (v.nhwc) return v.t;
    if (v.t.rank > 4) return toPlain(v);
    const shape4 = [...new Array<number>(4 - v.t.rank).fill(1), ...v.t.shape];
    return tf.transpose(tf.reshape(v.t, shape4), [0, 2, 3, 1]);
  };
  return { a: toStored(a), b: toStored(b), nhwc: true };
}

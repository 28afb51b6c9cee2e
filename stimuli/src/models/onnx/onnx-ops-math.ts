/**
 * Element-wise, activation and matrix ops of an imported ONNX graph. Element-wise ops keep the
 * storage layout of their inputs (see onnx-values.ts); matrix ops and softmax work on the graph's
 * own layout.
 */
import * as tf from '@tensorflow/tfjs';
import {
  type OpContext,
  type OpFn,
  type Value,
  alignForBroadcast,
  floatAttr,
  input,
  intAttr,
  intsAttr,
  normalizeAxis,
  opError,
  plain,
  toPlain,
} from './onnx-values';

/** Same layout in, same layout out. */
const unary =
  (f: (t: tf.Tensor, ctx: OpContext) => tf.Tensor): OpFn =>
  (ctx) => {
    const x = input(ctx, 0);
    return [{ t: f(x.t, ctx), nhwc: x.nhwc }];
  };

const binary =
  (f: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor): OpFn =>
  (ctx) => {
    const { a, b, nhwc } = alignForBroadcast(input(ctx, 0), input(ctx, 1));
    return [{ t: f(a, b), nhwc }];
  };

/** Integer division truncates toward zero in ONNX (shape arithmetic); float division is ordinary. */
function divide(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  if (a.dtype === 'int32' && b.dtype === 'int32') return tf.cast(tf.div(a, b), 'int32');
  return tf.div(a, b);
}

function clip(t: tf.Tensor, ctx: OpContext): tf.Tensor {
  const bound = (attr: string, i: number, fallback: number) => {
    if (ctx.opset < 11) return floatAttr(ctx, attr, fallback);
    const v = ctx.inputs[i];
    return v ? v.t.dataSync()[0]! : fallback;
  };
  const lo = bound('min', 1, Number.NEGATIVE_INFINITY);
  const hi = bound('max', 2, Number.POSITIVE_INFINITY);
  return tf.minimum(tf.maximum(t, lo), hi);
}

function gemm(ctx: OpContext): Value[] {
  const [a, b] = [toPlain(input(ctx, 0)), toPlain(input(ctx, 1))];
  if (a.rank !== 2 || b.rank !== 2)
    opError(ctx, `needs 2D inputs; got [${a.shape.join(', ')}] and [${b.shape.join(', ')}]`);
  const transA = intAttr(ctx, 'transA', 0) === 1;
  const transB = intAttr(ctx, 'transB', 0) === 1;
  let y = tf.mul(tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D, transA, transB), floatAttr(ctx, 'alpha', 1));
  const c = ctx.inputs[2];
  if (c) y = tf.add(y, tf.mul(toPlain(c), floatAttr(ctx, 'beta', 1)));
  return [plain(y)];
}

function matMul(ctx: OpContext): Value[] {
  let a = toPlain(input(ctx, 0));
  let b = toPlain(input(ctx, 1));
  if (a.rank === 1) a = tf.expandDims(a, 0);
  const squeezeLast = b.rank === 1;
  if (squeezeLast) b = tf.expandDims(b, 1);
  if (b.rank === 2 && a.rank > 2) {
    // (..., n, k) x (k, m): fold the leading axes into rows.
    const lead = a.shape.slice(0, -1);
    const y = tf.matMul(tf.reshape(a, [-1, a.shape[a.rank - 1]!]) as tf.Tensor2D, b as tf.Tensor2D);
    return [plain(tf.reshape(y, [...lead, b.shape[1]!]))];
  }
  const y = tf.matMul(a, b);
  return [plain(squeezeLast ? tf.squeeze(y, [y.rank - 1]) : y)];
}

/**
 * Softmax: from opset 13 along one axis; before that, over the tensor flattened to 2D at `axis`
 * (the two agree for the usual (N, classes) input).
 */
function softmax(ctx: OpContext): Value[] {
  const x = toPlain(input(ctx, 0));
  if (ctx.opset >= 13) {
    const axis = normalizeAxis(intAttr(ctx, 'axis', -1), x.rank, ctx);
    if (axis === x.rank - 1) return [plain(tf.softmax(x))];
    const perm = [...Array(x.rank).keys()].filter((d) => d !== axis).concat(axis);
    const inverse = perm.map((_, i) => perm.indexOf(i));
    return [plain(tf.transpose(tf.softmax(tf.transpose(x, perm)), inverse))];
  }
  const axis = normalizeAxis(intAttr(ctx, 'axis', 1), x.rank, ctx);
  const rows = x.shape.slice(0, axis).reduce((p, d) => p * d, 1);
  return [plain(tf.reshape(tf.softmax(tf.reshape(x, [rows, -1])), x.shape))];
}

function reduceMean(ctx: OpContext): Value[] {
  const x = toPlain(input(ctx, 0));
  const given = intsAttr(ctx, 'axes') ?? (ctx.inputs[1] ? Array.from(ctx.inputs[1].t.dataSync()) : undefined);
  const axes = (given ?? [...Array(x.rank).keys()]).map((a) => normalizeAxis(a, x.rank, ctx));
  return [plain(tf.mean(x, axes, intAttr(ctx, 'keepdims', 1) === 1))];
}

export const MATH_OPS = {
  Add: binary(tf.add),
  Sub: binary(tf.sub),
  Mul: binary(tf.mul),
  Div: binary(divide),
  Relu: unary(tf.relu),
  LeakyRelu: unary((t, ctx) => tf.leakyRelu(t, floatAttr(ctx, 'alpha', 0.01))),
  Sigmoid: unary(tf.sigmoid),
  Tanh: unary(tf.tanh),
  Clip: unary(clip),
  Identity: unary((t) => t),
  Dropout: unary((t) => t),
  Gemm: gemm,
  MatMul: matMul,
  Softmax: softmax,
  ReduceMean: reduceMean,
} satisfies Record<string, OpFn>;

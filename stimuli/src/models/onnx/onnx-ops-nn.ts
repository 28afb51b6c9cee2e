/**
 * Convolution, pooling and normalization ops of an imported ONNX graph, on NHWC storage.
 * Padding (explicit pads, auto_pad, ceil_mode) is applied with `tf.pad` before a 'valid' kernel,
 * so every backend sees one well-supported form and gradients follow automatically.
 */
import * as tf from '@tensorflow/tfjs';
import {
  type OpContext,
  type OpFn,
  floatAttr,
  input,
  intAttr,
  intsAttr,
  nhwcValue,
  opError,
  stringAttr,
  toNhwc,
} from './onnx-values';

/** Begin/end padding of the two spatial axes: [[top, bottom], [left, right]]. */
type SpatialPads = [[number, number], [number, number]];

interface Window {
  kernel: [number, number];
  strides: [number, number];
  dilations: [number, number];
}

function pair(values: number[] | undefined, fallback: number, what: string, ctx: OpContext): [number, number] {
  if (!values) return [fallback, fallback];
  if (values.length !== 2) opError(ctx, `${what} must have 2 values (2D images); got [${values.join(', ')}]`);
  return [values[0]!, values[1]!];
}

function windowOf(ctx: OpContext, kernelFallback?: [number, number]): Window {
  const kernel = intsAttr(ctx, 'kernel_shape');
  if (!kernel && !kernelFallback) opError(ctx, 'has no kernel_shape');
  return {
    kernel: kernel ? pair(kernel, 1, 'kernel_shape', ctx) : kernelFallback!,
    strides: pair(intsAttr(ctx, 'strides'), 1, 'strides', ctx),
    dilations: pair(intsAttr(ctx, 'dilations'), 1, 'dilations', ctx),
  };
}

/** Pads from `pads` or `auto_pad`; with `ceilMode`, extra end padding so the last partial window counts. */
function spatialPads(ctx: OpContext, inHW: [number, number], w: Window, ceilMode = false): SpatialPads {
  const autoPad = stringAttr(ctx, 'auto_pad', 'NOTSET');
  const out: SpatialPads = [
    [0, 0],
    [0, 0],
  ];
  for (let a = 0; a < 2; a++) {
    const extent = (w.kernel[a]! - 1) * w.dilations[a]! + 1;
    const size = inHW[a]!;
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
      const total = Math.max(0, (Math.ceil(size / w.strides[a]!) - 1) * w.strides[a]! + extent - size);
      const small = Math.floor(total / 2);
      out[a] = autoPad === 'SAME_UPPER' ? [small, total - small] : [total - small, small];
    } else if (autoPad === 'NOTSET') {
      const pads = intsAttr(ctx, 'pads') ?? [0, 0, 0, 0];
      if (pads.length !== 4) opError(ctx, `pads must have 4 values; got [${pads.join(', ')}]`);
      out[a] = [pads[a]!, pads[a + 2]!];
    } else if (autoPad !== 'VALID')
      opError(ctx, `has auto_pad ${autoPad}; supported: NOTSET, SAME_UPPER, SAME_LOWER, VALID`);
    if (ceilMode) out[a]![1] += ceilExtra(size, out[a]!, extent, w.strides[a]!);
  }
  return out;
}

/** End padding that ceil_mode adds: windows may overhang the end, but must start inside input + begin pad. */
function ceilExtra(size: number, pads: [number, number], extent: number, stride: number): number {
  const span = size + pads[0] + pads[1] - extent;
  let outCeil = Math.ceil(span / stride) + 1;
  if ((outCeil - 1) * stride >= size + pads[0]) outCeil--;
  return Math.max(0, (outCeil - 1) * stride + extent - (size + pads[0] + pads[1]));
}

function padSpatial(x: tf.Tensor4D, pads: SpatialPads, value = 0): tf.Tensor4D {
  if (pads[0][0] + pads[0][1] + pads[1][0] + pads[1][1] === 0) return x;
  return tf.pad(x, [[0, 0], pads[0], pads[1], [0, 0]], value);
}

const hw = (x: tf.Tensor4D): [number, number] => [x.shape[1], x.shape[2]];

/** ONNX filter (M, C/group, kH, kW) -> TF.js HWIO. */
function filterHwio(w: tf.Tensor): tf.Tensor4D {
  return tf.transpose(w, [2, 3, 1, 0]) as tf.Tensor4D;
}

function convGroups(ctx: OpContext, x: tf.Tensor4D, w: tf.Tensor, win: Window, group: number): tf.Tensor4D {
  const [outC, inPerGroup] = [w.shape[0]!, w.shape[1]!];
  const inC = x.shape[3];
  if (inPerGroup * group !== inC)
    opError(ctx, `has a filter for ${inPerGroup * group} input channels in ${group} groups; the input has ${inC}`);
  if (group === 1) return tf.conv2d(x, filterHwio(w), win.strides, 'valid', 'NHWC', win.dilations);
  if (inPerGroup === 1 && outC % inC === 0) {
    // Depthwise: (C*mult, 1, kH, kW) -> (kH, kW, C, mult).
    const f = tf.transpose(tf.reshape(w, [inC, outC / inC, w.shape[2]!, w.shape[3]!]), [2, 3, 0, 1]) as tf.Tensor4D;
    return tf.depthwiseConv2d(x, f, win.strides, 'valid', 'NHWC', win.dilations);
  }
  const xs = tf.split(x, group, 3);
  const ws = tf.split(w, group, 0);
  return tf.concat(
    xs.map((xi, g) => tf.conv2d(xi as tf.Tensor4D, filterHwio(ws[g]!), win.strides, 'valid', 'NHWC', win.dilations)),
    3,
  ) as tf.Tensor4D;
}

const conv: OpFn = (ctx) => {
  const x = toNhwc(input(ctx, 0), ctx);
  const w = input(ctx, 1).t;
  if (w.rank !== 4) opError(ctx, `supports 2D convolutions only; its filter has shape [${w.shape.join(', ')}]`);
  const win = windowOf(ctx, [w.shape[2]!, w.shape[3]!]);
  const y = convGroups(ctx, padSpatial(x, spatialPads(ctx, hw(x), win)), w, win, intAttr(ctx, 'group', 1));
  const b = ctx.inputs[2];
  return [nhwcValue(b ? tf.add(y, b.t) : y)];
};

const convTranspose: OpFn = (ctx) => {
  const x = toNhwc(input(ctx, 0), ctx);
  const w = input(ctx, 1).t; // (C_in, M/group, kH, kW)
  const win = windowOf(ctx, [w.shape[2]!, w.shape[3]!]);
  if (intAttr(ctx, 'group', 1) !== 1 || win.dilations.some((d) => d !== 1))
    opError(ctx, 'is supported with group 1 and dilations 1 only');
  if (intsAttr(ctx, 'output_shape')) opError(ctx, 'uses output_shape, which is not supported; give pads instead');
  const pads = intsAttr(ctx, 'pads') ?? [0, 0, 0, 0];
  const outPad = pair(intsAttr(ctx, 'output_padding'), 0, 'output_padding', ctx);
  const [k, s] = [win.kernel, win.strides];
  const full: [number, number] = [s[0] * (x.shape[1] - 1) + k[0], s[1] * (x.shape[2] - 1) + k[1]];
  const f = tf.transpose(w, [2, 3, 1, 0]) as tf.Tensor4D; // (kH, kW, M, C_in)
  let y = tf.conv2dTranspose(x, f, [x.shape[0], full[0], full[1], f.shape[2]], s, 'valid');
  y = tf.pad(y, [
    [0, 0],
    [0, outPad[0]],
    [0, outPad[1]],
    [0, 0],
  ]);
  const size = [full[0] + outPad[0] - pads[0]! - pads[2]!, full[1] + outPad[1] - pads[1]! - pads[3]!];
  y = tf.slice(y, [0, pads[0]!, pads[1]!, 0], [-1, size[0]!, size[1]!, -1]);
  const b = ctx.inputs[2];
  return [nhwcValue(b ? tf.add(y, b.t) : y)];
};

const maxPool: OpFn = (ctx) => {
  const x = toNhwc(input(ctx, 0), ctx);
  const win = windowOf(ctx);
  if (win.dilations.some((d) => d !== 1)) opError(ctx, 'is supported with dilations 1 only');
  if (ctx.node.outputs.length > 1 && ctx.node.outputs[1]) opError(ctx, 'asks for Indices, which is not supported');
  const pads = spatialPads(ctx, hw(x), win, intAttr(ctx, 'ceil_mode', 0) === 1);
  return [nhwcValue(tf.maxPool(padSpatial(x, pads, Number.NEGATIVE_INFINITY), win.kernel, win.strides, 'valid'))];
};

/**
 * Average pooling as a windowed sum over a windowed count: count_include_pad decides whether the
 * explicit pads count, and the overhang that ceil_mode adds never counts (as onnxruntime and PyTorch).
 */
const averagePool: OpFn = (ctx) => {
  const x = toNhwc(input(ctx, 0), ctx);
  const win = windowOf(ctx);
  const declared = spatialPads(ctx, hw(x), win);
  const pads = spatialPads(ctx, hw(x), win, intAttr(ctx, 'ceil_mode', 0) === 1);
  const sums = tf.avgPool(padSpatial(x, pads), win.kernel, win.strides, 'valid');
  const ones = tf.ones([1, x.shape[1], x.shape[2], 1]) as tf.Tensor4D;
  const counted =
    intAttr(ctx, 'count_include_pad', 0) === 1
      ? padSpatial(padSpatial(ones, declared, 1), [
          [0, pads[0][1] - declared[0][1]],
          [0, pads[1][1] - declared[1][1]],
        ])
      : padSpatial(ones, pads);
  const counts = tf.avgPool(counted, win.kernel, win.strides, 'valid');
  return [nhwcValue(tf.div(sums, counts))];
};

const globalAveragePool: OpFn = (ctx) => [nhwcValue(tf.mean(toNhwc(input(ctx, 0), ctx), [1, 2], true))];
const globalMaxPool: OpFn = (ctx) => [nhwcValue(tf.max(toNhwc(input(ctx, 0), ctx), [1, 2], true))];

const lrn: OpFn = (ctx) => {
  const size = intAttr(ctx, 'size', 0);
  if (size < 1 || size % 2 !== 1) opError(ctx, `has size ${size}; supported: odd sizes`);
  const [alpha, beta, bias] = [floatAttr(ctx, 'alpha', 1e-4), floatAttr(ctx, 'beta', 0.75), floatAttr(ctx, 'bias', 1)];
  const x = toNhwc(input(ctx, 0), ctx);
  return [nhwcValue(tf.localResponseNormalization(x, (size - 1) / 2, bias, alpha / size, beta))];
};

const batchNormalization: OpFn = (ctx) => {
  const x = input(ctx, 0);
  const [scale, bias, mean, variance] = [1, 2, 3, 4].map((i) => tf.reshape(input(ctx, i).t, [-1]) as tf.Tensor1D);
  const eps = floatAttr(ctx, 'epsilon', 1e-5);
  if (x.t.rank === 2) return [{ t: tf.batchNorm(x.t, mean!, variance!, bias!, scale!, eps), nhwc: false }];
  return [nhwcValue(tf.batchNorm(toNhwc(x, ctx), mean!, variance!, bias!, scale!, eps))];
};

export const NN_OPS = {
  Conv: conv,
  ConvTranspose: convTranspose,
  MaxPool: maxPool,
  AveragePool: averagePool,
  GlobalAveragePool: globalAveragePool,
  GlobalMaxPool: globalMaxPool,
  LRN: lrn,
  BatchNormalization: batchNormalization,
} satisfies Record<string, OpFn>;

/**
 * Shape and layout ops of an imported ONNX graph: Flatten, Reshape, Transpose, Squeeze, Unsqueeze,
 * Concat, Pad, and the constant-folding chain (Constant, Shape, Gather, Slice, Cast) that exporters
 * emit to compute shapes. The graph runs eagerly, so a Shape is simply the actual shape of its
 * input, and the chain folds as it runs.
 */
import * as tf from '@tensorflow/tfjs';
import {
  NCHW_TO_NHWC_AXIS,
  type OpContext,
  type OpFn,
  type Value,
  floatAttr,
  graphShape,
  input,
  intAttr,
  intsAttr,
  intsFromAttrOrInput,
  intValues,
  normalizeAxis,
  opError,
  plain,
  stringAttr,
  tensorAttr,
  toPlain,
} from './onnx-values';

function flatten(ctx: OpContext): Value[] {
  const x = toPlain(input(ctx, 0));
  const axis = normalizeAxis(intAttr(ctx, 'axis', 1), x.rank + 1, ctx);
  const rows = x.shape.slice(0, axis).reduce((p, d) => p * d, 1);
  return [plain(tf.reshape(x, [rows, -1]))];
}

function reshape(ctx: OpContext): Value[] {
  const x = toPlain(input(ctx, 0));
  const wanted = intsFromAttrOrInput(ctx, 'shape', 1);
  if (!wanted) opError(ctx, 'has no target shape');
  const allowZero = intAttr(ctx, 'allowzero', 0) === 1;
  const shape = wanted.map((d, i) => (d === 0 && !allowZero ? x.shape[i]! : d));
  return [plain(tf.reshape(x, shape))];
}

function transpose(ctx: OpContext): Value[] {
  const x = toPlain(input(ctx, 0));
  const perm = intsAttr(ctx, 'perm') ?? [...Array(x.rank).keys()].reverse();
  return [plain(tf.transpose(x, perm))];
}

function squeeze(ctx: OpContext): Value[] {
  const x = toPlain(input(ctx, 0));
  const axes = intsFromAttrOrInput(ctx, 'axes', 1)?.map((a) => normalizeAxis(a, x.rank, ctx));
  return [plain(tf.squeeze(x, axes))];
}

function unsqueeze(ctx: OpContext): Value[] {
  const x = toPlain(input(ctx, 0));
  const axes = intsFromAttrOrInput(ctx, 'axes', 1);
  if (!axes) opError(ctx, 'has no axes');
  const rank = x.rank + axes.length;
  const sorted = axes.map((a) => normalizeAxis(a, rank, ctx)).sort((a, b) => a - b);
  const shape = [...x.shape];
  for (const a of sorted) shape.splice(a, 0, 1);
  return [plain(tf.reshape(x, shape))];
}

/** Concat keeps NHWC storage when every input has it (the inception case); else works in NCHW. */
function concat(ctx: OpContext): Value[] {
  const values = ctx.inputs.filter((v): v is Value => v !== undefined);
  const rank = graphShape(values[0]!).length;
  const axis = normalizeAxis(intAttr(ctx, 'axis', 1), rank, ctx);
  if (values.every((v) => v.nhwc))
    return [
      {
        t: tf.concat(
          values.map((v) => v.t),
          NCHW_TO_NHWC_AXIS[axis],
        ),
        nhwc: true,
      },
    ];
  const tensors = values.map(toPlain);
  const dtype = tensors.some((t) => t.dtype === 'float32') ? 'float32' : 'int32';
  return [
    plain(
      tf.concat(
        tensors.map((t) => (t.dtype === dtype ? t : tf.cast(t, dtype))),
        axis,
      ),
    ),
  ];
}

function shape(ctx: OpContext): Value[] {
  const dims = graphShape(input(ctx, 0));
  const start = intAttr(ctx, 'start', 0);
  const end = ctx.node.attrs.has('end') ? intAttr(ctx, 'end', dims.length) : dims.length;
  const norm = (a: number) => Math.max(0, Math.min(dims.length, a < 0 ? a + dims.length : a));
  return [plain(tf.tensor1d(dims.slice(norm(start), norm(end)), 'int32'))];
}

function gather(ctx: OpContext): Value[] {
  const data = toPlain(input(ctx, 0));
  const axis = normalizeAxis(intAttr(ctx, 'axis', 0), data.rank, ctx);
  const idx = input(ctx, 1).t;
  const size = data.shape[axis]!;
  const fixed = tf.tensor(
    Array.from(idx.dataSync(), (i) => (i < 0 ? i + size : i)),
    idx.shape,
    'int32',
  );
  return [plain(tf.gather(data, fixed, axis))];
}

function slice(ctx: OpContext): Value[] {
  const x = toPlain(input(ctx, 0));
  const starts = intsFromAttrOrInput(ctx, 'starts', 1);
  const ends = intsFromAttrOrInput(ctx, 'ends', 2);
  if (!starts || !ends) opError(ctx, 'has no starts or ends');
  const axes = intsFromAttrOrInput(ctx, 'axes', 3) ?? starts.map((_, i) => i);
  const steps = (ctx.opset >= 10 && ctx.inputs[4] ? intValues(ctx.inputs[4]) : undefined) ?? starts.map(() => 1);
  const begin = x.shape.map(() => 0);
  const end = [...x.shape];
  const stride = x.shape.map(() => 1);
  axes.forEach((a0, i) => {
    const a = normalizeAxis(a0, x.rank, ctx);
    const dim = x.shape[a]!;
    const step = steps[i]!;
    if (step === 0) opError(ctx, 'has a step of 0');
    const clampTo = (v: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, v < 0 ? v + dim : v));
    begin[a] = step > 0 ? clampTo(starts[i]!, 0, dim) : clampTo(starts[i]!, -1, dim - 1);
    end[a] = step > 0 ? clampTo(ends[i]!, 0, dim) : clampTo(ends[i]!, -1, dim - 1);
    stride[a] = step;
  });
  if (stride.every((s) => s === 1))
    return [
      plain(
        tf.slice(
          x,
          begin,
          begin.map((b, a) => Math.max(0, end[a]! - b)),
        ),
      ),
    ];
  // stridedSlice reads a negative end as counting from the back: an end of -1 (before the start) is a mask bit.
  const endMask = end.reduce((m, e, a) => (e < 0 ? m | (1 << a) : m), 0);
  return [plain(tf.stridedSlice(x, begin, end, stride, 0, endMask))];
}

function constant(ctx: OpContext): Value[] {
  const t = tensorAttr(ctx, 'value');
  if (t) return [plain(t)];
  const a = ctx.node.attrs.get('value_float') ?? ctx.node.attrs.get('value_floats');
  if (a?.kind === 'float') return [plain(tf.scalar(a.value))];
  if (a?.kind === 'floats') return [plain(tf.tensor1d(a.value))];
  const i = ctx.node.attrs.get('value_int') ?? ctx.node.attrs.get('value_ints');
  if (i?.kind === 'int') return [plain(tf.scalar(i.value, 'int32'))];
  if (i?.kind === 'ints') return [plain(tf.tensor1d(i.value, 'int32'))];
  opError(ctx, 'holds no value, value_float(s) or value_int(s) attribute');
}

/** ONNX Cast to float or integer types; the float types all become float32, the integer ones int32. */
function cast(ctx: OpContext): Value[] {
  const x = input(ctx, 0);
  const to = intAttr(ctx, 'to', 1);
  const FLOATS = [1, 10, 11, 16];
  const INTS = [2, 3, 4, 5, 6, 7, 12, 13];
  if (!FLOATS.includes(to) && !INTS.includes(to)) opError(ctx, `casts to data type ${to}, which is not supported`);
  return [{ t: tf.cast(x.t, FLOATS.includes(to) ? 'float32' : 'int32'), nhwc: x.nhwc }];
}

/** Indices along one axis for edge and reflect padding (gather keeps gradients). */
function padIndices(dim: number, before: number, after: number, mode: string): number[] {
  return Array.from({ length: dim + before + after }, (_, k) => {
    let i = k - before;
    if (mode === 'edge') return Math.max(0, Math.min(dim - 1, i));
    while (i < 0 || i >= dim) i = i < 0 ? -i : 2 * (dim - 1) - i;
    return i;
  });
}

function pad(ctx: OpContext): Value[] {
  const x = toPlain(input(ctx, 0));
  const pads = intsFromAttrOrInput(ctx, 'pads', 1);
  if (!pads || pads.length !== 2 * x.rank) opError(ctx, `needs ${2 * x.rank} pads for a rank-${x.rank} input`);
  if (pads.some((p) => p < 0)) opError(ctx, 'has negative pads, which are not supported');
  const mode = stringAttr(ctx, 'mode', 'constant');
  const pairs = x.shape.map((_, a) => [pads[a]!, pads[a + x.rank]!] as [number, number]);
  if (mode === 'constant') {
    const v = ctx.opset >= 11 ? (ctx.inputs[2]?.t.dataSync()[0] ?? 0) : floatAttr(ctx, 'value', 0);
    return [plain(tf.pad(x, pairs, v))];
  }
  if (mode !== 'edge' && mode !== 'reflect') opError(ctx, `has mode ${mode}; supported: constant, reflect, edge`);
  let y = x;
  pairs.forEach(([b, e], a) => {
    if (b + e > 0) y = tf.gather(y, tf.tensor1d(padIndices(x.shape[a]!, b, e, mode), 'int32'), a);
  });
  return [plain(y)];
}

export const SHAPE_OPS = {
  Flatten: flatten,
  Reshape: reshape,
  Transpose: transpose,
  Squeeze: squeeze,
  Unsqueeze: unsqueeze,
  Concat: concat,
  Shape: shape,
  Gather: gather,
  Slice: slice,
  Constant: constant,
  Cast: cast,
  Pad: pad,
} satisfies Record<string, OpFn>;

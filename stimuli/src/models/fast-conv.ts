/**
 * Convolution (+ bias + ReLU) with a fast input gradient, for backends whose own input-gradient
 * kernel is slow (wasm's Conv2DBackpropInput is a plain loop, while its forward Conv2D runs on
 * XNNPACK) or missing.
 *
 * The input gradient of a convolution is itself a convolution. For stride 1 and pad p:
 *   dx = conv2d(dy padded by K-1-p, W flipped in space with in/out channels swapped).
 * For stride s > 1 the gradient is split by output phase (polyphase): the input rows j with
 * j mod s = r only receive kernel taps k with k = (r + p) mod s (mod s), so dx at each of the s*s
 * phases is a stride-1 convolution of dy with the sub-kernel of those taps; the phases are then
 * interleaved. This does the same arithmetic as the forward pass (no zero-stuffing), all on the
 * backend's fast forward kernel.
 *
 * Only the gradient with respect to the input is produced: filters and biases are constants here.
 * The ReLU is fused: the saved output y gives its mask (y > 0), so x need not be kept for backward.
 */
import * as tf from '@tensorflow/tfjs';

export interface ConvGeometry {
  kernelH: number;
  kernelW: number;
  stride: number;
  /** Symmetric zero padding (Caffe `pad`). */
  pad: number;
}

/** One phase of the polyphase input gradient along one axis. */
interface AxisPhase {
  /** First kernel tap of this phase, and the number of taps (spaced by the stride). */
  k0: number;
  taps: number;
  /** Padding (negative: cropping) of dy before a valid correlation, given as top and the constant c. */
  padBefore: number;
}

function axisPhases(kernel: number, stride: number, pad: number): AxisPhase[] {
  const phases: AxisPhase[] = [];
  for (let r = 0; r < stride; r++) {
    const k0 = (((r + pad) % stride) + stride) % stride;
    const taps = k0 < kernel ? Math.ceil((kernel - k0) / stride) : 0;
    // dx[s*u + r] = sum_m dy[u - c - m] W[k0 + s*m] with c = (k0 - r - pad) / s (an integer).
    const c = (k0 - r - pad) / stride;
    phases.push({ k0, taps, padBefore: c + taps - 1 });
  }
  return phases;
}

/** Pad (positive) or crop (negative) rows/cols of an NHWC tensor. */
function padOrCrop(t: tf.Tensor4D, top: number, bottom: number, left: number, right: number): tf.Tensor4D {
  const [n, h, w, c] = t.shape;
  let out = t;
  if (top < 0 || bottom < 0 || left < 0 || right < 0) {
    const t0 = Math.max(0, -top);
    const l0 = Math.max(0, -left);
    out = tf.slice(out, [0, t0, l0, 0], [n, h - t0 - Math.max(0, -bottom), w - l0 - Math.max(0, -right), c]);
  }
  if (top > 0 || bottom > 0 || left > 0 || right > 0) {
    out = tf.pad(out, [
      [0, 0],
      [Math.max(0, top), Math.max(0, bottom)],
      [Math.max(0, left), Math.max(0, right)],
      [0, 0],
    ]);
  }
  return out;
}

/**
 * The precomputed backward kernels of one convolution: for each (row phase, col phase) the
 * flipped, in/out-swapped sub-kernel [tapsH, tapsW, out, in] (null where a phase gets no taps).
 */
export class ConvInputGradPlan {
  readonly geometry: ConvGeometry;
  readonly inChannels: number;
  private readonly rows: AxisPhase[];
  private readonly cols: AxisPhase[];
  private readonly kernels: Array<tf.Tensor4D | null>;

  /** `filter` is HWIO [kh, kw, in, out]; it is not retained. */
  constructor(filter: tf.Tensor4D, geometry: ConvGeometry) {
    const [kh, kw, inC] = filter.shape;
    this.geometry = geometry;
    this.inChannels = inC;
    this.rows = axisPhases(kh, geometry.stride, geometry.pad);
    this.cols = axisPhases(kw, geometry.stride, geometry.pad);
    this.kernels = [];
    const s = geometry.stride;
    for (const ph of this.rows) {
      for (const pw of this.cols) {
        if (ph.taps === 0 || pw.taps === 0) {
          this.kernels.push(null);
          continue;
        }
        // Kept: the plan may be built inside a gradient's tidy scope but lives as long as the layer.
        this.kernels.push(
          tf.keep(
            tf.tidy(() => {
              const sub = tf.stridedSlice(
                filter,
                [ph.k0, pw.k0, 0, 0],
                [kh, kw, filter.shape[2], filter.shape[3]],
                [s, s, 1, 1],
              ) as tf.Tensor4D;
              return tf.transpose(tf.reverse(sub, [0, 1]), [0, 1, 3, 2]);
            }),
          ),
        );
      }
    }
  }

  /** dL/dx for x of spatial size [inH, inW], given dL/dy (pre-activation) of shape [n, h, w, out]. */
  inputGrad(dy: tf.Tensor4D, inH: number, inW: number): tf.Tensor4D {
    return tf.tidy((): tf.Tensor4D => {
      const s = this.geometry.stride;
      const [n, h, w] = dy.shape;
      const uMaxH = Math.ceil(inH / s);
      const uMaxW = Math.ceil(inW / s);
      const parts: tf.Tensor4D[] = [];
      let i = 0;
      for (let rh = 0; rh < s; rh++) {
        for (let rw = 0; rw < s; rw++) {
          const ph = this.rows[rh]!;
          const pw = this.cols[rw]!;
          const kernel = this.kernels[i++];
          // Rows of dx in this phase (j < inH with j mod s = rh); computed up to uMax, cropped below.
          if (!kernel) {
            parts.push(tf.zeros([n, uMaxH, uMaxW, this.inChannels]));
            continue;
          }
          const pads = [
            ph.padBefore,
            uMaxH + ph.taps - 1 - h - ph.padBefore,
            pw.padBefore,
            uMaxW + pw.taps - 1 - w - pw.padBefore,
          ] as const;
          if (pads.every((p) => p >= 0)) {
            // Explicit padding inside the conv saves a PadV2 copy of dy.
            const explicit: tf.backend_util.ExplicitPadding = [
              [0, 0],
              [pads[0], pads[1]],
              [pads[2], pads[3]],
              [0, 0],
            ];
            parts.push(tf.conv2d(dy, kernel, 1, explicit));
          } else {
            parts.push(tf.conv2d(padOrCrop(dy, ...pads), kernel, 1, 'valid'));
          }
        }
      }
      if (s === 1) return parts[0]!;
      // Interleave phases: element (s*u + rh, s*v + rw) comes from part (rh, rw) at (u, v).
      const rowsOut: tf.Tensor4D[] = [];
      for (let rh = 0; rh < s; rh++) {
        const row = tf.stack(parts.slice(rh * s, rh * s + s), 3); // [n, uH, uW, s, c]
        rowsOut.push(tf.reshape(row, [n, uMaxH, uMaxW * s, this.inChannels]));
      }
      const full = tf.reshape(tf.stack(rowsOut, 2), [n, uMaxH * s, uMaxW * s, this.inChannels]) as tf.Tensor4D;
      return tf.slice(full, [0, 0, 0, 0], [n, inH, inW, this.inChannels]);
    });
  }

  dispose(): void {
    for (const k of this.kernels) k?.dispose();
  }
}

/**
 * A convolution layer with constant weights: y = [relu](conv2d(x, filter, stride, pad) + bias),
 * forward on the backend's fused kernel, input gradient through ConvInputGradPlan (built on first
 * use). Gradients flow to x only.
 */
export class FastConv2D implements ConvLayer {
  readonly filter: tf.Tensor4D;
  readonly bias: tf.Tensor1D | null;
  readonly geometry: ConvGeometry;
  readonly relu: boolean;
  private plan: ConvInputGradPlan | null = null;
  private readonly op: (x: tf.Tensor4D) => tf.Tensor4D;

  constructor(filter: tf.Tensor4D, bias: tf.Tensor1D | null, stride: number, pad: number, relu: boolean) {
    this.filter = filter;
    this.bias = bias;
    this.relu = relu;
    this.geometry = { kernelH: filter.shape[0], kernelW: filter.shape[1], stride, pad };
    this.op = tf.customGrad((x, save) => {
      const input = x as tf.Tensor4D;
      // The FusedConv2D kernel directly: tf.fused.conv2d falls back to conv + add + relu whenever a
      // gradient is being recorded, though only this customGrad's own gradient is needed here.
      const inputs: tf.NamedTensorMap = bias ? { x: input, filter, bias } : { x: input, filter };
      const attrs = {
        strides: [stride, stride],
        pad,
        dataFormat: 'NHWC',
        dilations: [1, 1],
        activation: relu ? 'relu' : 'linear',
      };
      const y = tf.engine().runKernel('FusedConv2D', inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor4D;
      if (relu) (save as tf.GradSaveFunc)([y]);
      const [, inH, inW] = input.shape;
      return {
        value: y,
        gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor[]) => {
          const g = relu ? (tf.mul(dy, tf.step(saved[0]!)) as tf.Tensor4D) : dy;
          return [this.gradPlan().inputGrad(g, inH, inW)];
        },
      };
    }) as (x: tf.Tensor4D) => tf.Tensor4D;
  }

  private gradPlan(): ConvInputGradPlan {
    this.plan ??= new ConvInputGradPlan(this.filter, this.geometry);
    return this.plan;
  }

  apply(x: tf.Tensor4D): tf.Tensor4D {
    return this.op(x);
  }

  /** Disposes the weights too. */
  dispose(): void {
    this.filter.dispose();
    this.bias?.dispose();
    this.plan?.dispose();
  }
}

/** A conv layer with constant weights: what the network builder needs. */
export interface ConvLayer {
  apply(x: tf.Tensor4D): tf.Tensor4D;
  dispose(): void;
}

/** The same layer from plain ops with tfjs's own gradients (the reference for FastConv2D). */
export class PlainConv2D implements ConvLayer {
  constructor(
    readonly filter: tf.Tensor4D,
    readonly bias: tf.Tensor1D | null,
    readonly stride: number,
    readonly pad: number,
    readonly relu: boolean,
  ) {}

  apply(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      let y = tf.conv2d(x, this.filter, this.stride, this.pad);
      if (this.bias) y = tf.add(y, this.bias);
      return this.relu ? tf.relu(y) : y;
    });
  }

  dispose(): void {
    this.filter.dispose();
    this.bias?.dispose();
  }
}

/**
 * BVLC GoogLeNet (Inception-V1), the deploy network of deploy.prototxt, from plain TF.js ops with
 * the weights as constant tensors (no tfjs-layers: its fused convolutions compute filter
 * gradients on every backward pass, and the wasm backend has no kernel for them).
 *
 * Public input: NHWC RGB in [0, 1], any batch, 224 x 224 by default, other sizes allowed (every
 * output size is computed from the input size with Caffe's rules). The Caffe convention of the
 * weights (BGR, 0-255, mean [104, 117, 123] subtracted) is applied inside (the BGR order by
 * reversing conv1's input channels).
 *
 * Caffe details reproduced: max pooling rounds output sizes up (ceil), emulated by padding the
 * bottom/right with -inf (or TF's 'same' where that is the same geometry, as at 224); LRN scales
 * alpha by the window size (tf's alpha = 1e-4 / 5 with depthRadius 2, bias 1, beta 0.75); inception
 * branches are concatenated in the order 1x1, 3x3, 5x5, pool_proj; pool5 is a global average pool.
 *
 * Convolutions use FastConv2D (fused bias + ReLU forward, input gradient as forward convolutions:
 * see fast-conv.ts), max pooling and the branch concatenation with typed-array gradients
 * (fast-pool.ts, fast-concat.ts) unless `ops: 'plain'` asks for tfjs's own ops and gradients.
 */
import * as tf from '@tensorflow/tfjs';
import { InputError } from '@orthostim/protocol';
import {
  GOOGLENET_BGR_MEAN,
  GOOGLENET_CONVS,
  GOOGLENET_LRN,
  INCEPTION_SPECS,
  type ConvSpec,
  type InceptionSpec,
} from './googlenet-spec';
import { GOOGLENET_STAGES, getLayerInfo, type GoogLeNetStage } from './googlenet-layers';
import { FastConv2D, PlainConv2D, type ConvLayer } from './fast-conv';
import { concatChannelsFastGrad } from './fast-concat';
import { maxPoolFastGrad } from './fast-pool';
import type { GoogLeNetWeights } from './weights';

export interface GoogLeNetOptions {
  /**
   * `fast` (default): FastConv2D, and max pooling and concatenation with typed-array gradients;
   * `plain`: tf.conv2d + add + relu and tf.maxPool with tfjs's own gradients (the reference).
   */
  ops?: 'fast' | 'plain';
}

/** Caffe's pooling output size (ceil rounding, last window must start inside the padded input). */
export function caffePoolOutputSize(size: number, kernel: number, stride: number, pad = 0): number {
  let out = Math.ceil((size + 2 * pad - kernel) / stride) + 1;
  if (pad > 0 && (out - 1) * stride >= size + pad) out--;
  return out;
}

/** Caffe's convolution output size (floor rounding). */
export function caffeConvOutputSize(size: number, kernel: number, stride: number, pad: number): number {
  return Math.floor((size + 2 * pad - kernel) / stride) + 1;
}

type MaxPoolFn = (x: tf.Tensor4D, kernel: number, stride: number, pad: 'same' | 'valid') => tf.Tensor4D;
const tfMaxPool: MaxPoolFn = (x, kernel, stride, pad) => tf.maxPool(x, kernel, stride, pad);

/** Max pooling kernel x kernel / stride with Caffe's ceil rounding and no padding. */
export function maxPoolCeil(
  x: tf.Tensor4D,
  kernel: number,
  stride: number,
  maxPool: MaxPoolFn = tfMaxPool,
): tf.Tensor4D {
  const [, h, w] = x.shape;
  const oh = caffePoolOutputSize(h, kernel, stride);
  const ow = caffePoolOutputSize(w, kernel, stride);
  if (oh < 1 || ow < 1)
    throw new InputError(
      `GoogLeNet: input too small; a ${h}x${w} feature map cannot be max-pooled ${kernel}x${kernel}/${stride}`,
    );
  const padB = (oh - 1) * stride + kernel - h;
  const padR = (ow - 1) * stride + kernel - w;
  if (padB === 0 && padR === 0) return maxPool(x, kernel, stride, 'valid');
  // TF's 'same' pads floor(total/2) on top/left: identical to Caffe's geometry when the total is <= 1.
  if (oh === Math.ceil(h / stride) && ow === Math.ceil(w / stride) && padB <= 1 && padR <= 1) {
    return maxPool(x, kernel, stride, 'same');
  }
  return maxPool(
    tf.pad(
      x,
      [
        [0, 0],
        [0, padB],
        [0, padR],
        [0, 0],
      ],
      -Infinity,
    ),
    kernel,
    stride,
    'valid',
  );
}

/** Caffe LRN across channels: x / (k + alpha/size * sum over the size-channel window of x^2)^beta. */
export function lrnCaffe(x: tf.Tensor4D): tf.Tensor4D {
  const { localSize, alpha, beta, k } = GOOGLENET_LRN;
  return tf.localResponseNormalization(x, (localSize - 1) / 2, k, alpha / localSize, beta);
}

interface InceptionLayers {
  spec: InceptionSpec;
  /**
   * 1x1, 3x3_reduce and 5x5_reduce. Kept separate: merging them into one conv (they read the same
   * input) and splitting the output was slower on wasm, whose channel slices are JS loops.
   */
  reduce: [ConvLayer, ConvLayer, ConvLayer];
  conv3: ConvLayer;
  conv5: ConvLayer;
  poolProj: ConvLayer;
}

type Activations = Map<string, tf.Tensor>;

export class GoogLeNet {
  /** Container-independent digest of the weights (see weights-digest.ts). */
  readonly weightsSha256: string;
  readonly ops: 'fast' | 'plain';
  private readonly conv1: ConvLayer;
  private readonly conv2Reduce: ConvLayer;
  private readonly conv2: ConvLayer;
  private readonly blocks: Map<string, InceptionLayers>;
  private readonly classifierKernel: tf.Tensor2D;
  private readonly classifierBias: tf.Tensor1D;
  private readonly mean: tf.Tensor1D;
  private readonly maxPool: MaxPoolFn;

  private constructor(w: GoogLeNetWeights, options: GoogLeNetOptions) {
    this.weightsSha256 = w.sha256;
    this.ops = options.ops ?? 'fast';
    this.maxPool = this.ops === 'fast' ? maxPoolFastGrad : tfMaxPool;
    const make = (filter: tf.Tensor4D, bias: tf.Tensor1D, spec: ConvSpec): ConvLayer =>
      this.ops === 'fast'
        ? new FastConv2D(filter, bias, spec.stride, spec.pad, true)
        : new PlainConv2D(filter, bias, spec.stride, spec.pad, true);
    const specs = new Map(GOOGLENET_CONVS.map((s) => [s.name, s]));
    const tensors = (name: string): [tf.Tensor4D, tf.Tensor1D] => {
      const cw = w.convs.get(name);
      if (!cw) throw new InputError(`${w.source}: weights for conv layer ${name} are missing`);
      return [tf.tensor4d(cw.filter, cw.shape), tf.tensor1d(cw.bias)];
    };
    const layer = (name: string) => make(...tensors(name), specs.get(name)!);
    // The input stays in RGB order: conv1's input channels are reversed instead (exact, and it
    // saves a Reverse op and its gradient on every pass).
    const [conv1Bgr, conv1Bias] = tensors('conv1/7x7_s2');
    const conv1Rgb = tf.reverse(conv1Bgr, 2);
    conv1Bgr.dispose();
    this.conv1 = make(conv1Rgb, conv1Bias, specs.get('conv1/7x7_s2')!);
    this.conv2Reduce = layer('conv2/3x3_reduce');
    this.conv2 = layer('conv2/3x3');
    this.blocks = new Map();
    for (const spec of INCEPTION_SPECS) {
      this.blocks.set(spec.name, {
        spec,
        reduce: [layer(`${spec.name}/1x1`), layer(`${spec.name}/3x3_reduce`), layer(`${spec.name}/5x5_reduce`)],
        conv3: layer(`${spec.name}/3x3`),
        conv5: layer(`${spec.name}/5x5`),
        poolProj: layer(`${spec.name}/pool_proj`),
      });
    }
    this.classifierKernel = tf.tensor2d(w.classifier.kernel, w.classifier.shape);
    this.classifierBias = tf.tensor1d(w.classifier.bias);
    this.mean = tf.tensor1d(GOOGLENET_BGR_MEAN.slice().reverse());
  }

  static fromWeights(weights: GoogLeNetWeights, options: GoogLeNetOptions = {}): GoogLeNet {
    return new GoogLeNet(weights, options);
  }

  /**
   * Caffe preprocessing, kept in RGB order: RGB [0,1] -> 0-255 minus the channel means (R 123,
   * G 117, B 104). This is the `pixels` pseudo-layer; conv1's filter is reversed to match.
   */
  preprocess(x: tf.Tensor4D): tf.Tensor4D {
    if (x.rank !== 4 || x.shape[3] !== 3) {
      throw new InputError(`GoogLeNet: input must be NHWC RGB [n, h, w, 3]; got shape [${x.shape.join(', ')}]`);
    }
    return tf.tidy(() => tf.sub(tf.mul(x, 255), this.mean));
  }

  private inception(x: tf.Tensor4D, b: InceptionLayers, out: Activations): tf.Tensor4D {
    const [b1, r3, r5] = b.reduce.map((l) => l.apply(x)) as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
    const b3 = b.conv3.apply(r3);
    const b5 = b.conv5.apply(r5);
    const pool = this.maxPool(x, 3, 1, 'same');
    const bp = b.poolProj.apply(pool);
    const y = this.ops === 'fast' ? concatChannelsFastGrad([b1, b3, b5, bp]) : tf.concat([b1, b3, b5, bp], 3);
    const n = b.spec.name;
    out.set(`${n}/1x1`, b1).set(`${n}/3x3_reduce`, r3).set(`${n}/3x3`, b3);
    out.set(`${n}/5x5_reduce`, r5).set(`${n}/5x5`, b5).set(`${n}/pool`, pool).set(`${n}/pool_proj`, bp);
    return y;
  }

  /**
   * Activations of the named layers (canonical names or aliases; see googlenet-layers.ts), keyed
   * by the names as given. Computes only up to the last stage needed. Works under tf.grad.
   */
  forward(x: tf.Tensor4D, layers: readonly string[]): Record<string, tf.Tensor> {
    const wanted = layers.map((name) => ({ name, info: getLayerInfo(name) }));
    const last = Math.max(-1, ...wanted.map((l) => l.info.stage));
    return tf.tidy(() => {
      const acts: Activations = new Map();
      let h = this.preprocess(x);
      const steps: Record<GoogLeNetStage, () => tf.Tensor> = {
        pixels: () => h,
        conv1: () => this.conv1.apply(h),
        pool1: () => maxPoolCeil(h, 3, 2, this.maxPool),
        norm1: () => lrnCaffe(h),
        'conv2/3x3_reduce': () => this.conv2Reduce.apply(h),
        conv2: () => this.conv2.apply(h),
        norm2: () => lrnCaffe(h),
        pool2: () => maxPoolCeil(h, 3, 2, this.maxPool),
        inception_3a: () => this.inception(h, this.blocks.get('inception_3a')!, acts),
        inception_3b: () => this.inception(h, this.blocks.get('inception_3b')!, acts),
        pool3: () => maxPoolCeil(h, 3, 2, this.maxPool),
        inception_4a: () => this.inception(h, this.blocks.get('inception_4a')!, acts),
        inception_4b: () => this.inception(h, this.blocks.get('inception_4b')!, acts),
        inception_4c: () => this.inception(h, this.blocks.get('inception_4c')!, acts),
        inception_4d: () => this.inception(h, this.blocks.get('inception_4d')!, acts),
        inception_4e: () => this.inception(h, this.blocks.get('inception_4e')!, acts),
        pool4: () => maxPoolCeil(h, 3, 2, this.maxPool),
        inception_5a: () => this.inception(h, this.blocks.get('inception_5a')!, acts),
        inception_5b: () => this.inception(h, this.blocks.get('inception_5b')!, acts),
        pool5: () => tf.mean(h, [1, 2]),
        logits: () => tf.add(tf.matMul(acts.get('pool5') as tf.Tensor2D, this.classifierKernel), this.classifierBias),
        prob: () => tf.softmax(acts.get('logits') as tf.Tensor2D),
      };
      for (let s = 0; s <= last; s++) {
        const name = GOOGLENET_STAGES[s]!;
        const y = steps[name]();
        acts.set(name, y);
        if (y.rank === 4) h = y as tf.Tensor4D;
      }
      const result: Record<string, tf.Tensor> = {};
      for (const { name, info } of wanted) result[name] = acts.get(info.name)!;
      return result;
    });
  }

  /** Classifier logits [n, 1000]. */
  logits(x: tf.Tensor4D): tf.Tensor2D {
    return this.forward(x, ['logits']).logits as tf.Tensor2D;
  }

  /** Class probabilities [n, 1000] (softmax of the logits). */
  probabilities(x: tf.Tensor4D): tf.Tensor2D {
    return this.forward(x, ['prob']).prob as tf.Tensor2D;
  }

  dispose(): void {
    this.conv1.dispose();
    this.conv2Reduce.dispose();
    this.conv2.dispose();
    for (const b of this.blocks.values()) {
      for (const l of b.reduce) l.dispose();
      b.conv3.dispose();
      b.conv5.dispose();
      b.poolProj.dispose();
    }
    this.classifierKernel.dispose();
    this.classifierBias.dispose();
    this.mean.dispose();
  }
}

/** Output shape [h, w, c] (or [c] for pool5/logits/prob) of each stage for an input of h x w. */
export function googlenetStageShapes(height: number, width: number): Record<GoogLeNetStage, number[]> {
  let h = height;
  let w = width;
  const conv = (k: number, s: number, p: number) => {
    h = caffeConvOutputSize(h, k, s, p);
    w = caffeConvOutputSize(w, k, s, p);
  };
  const pool = () => {
    h = caffePoolOutputSize(h, 3, 2);
    w = caffePoolOutputSize(w, 3, 2);
  };
  const block = (name: string) => INCEPTION_SPECS.find((b) => b.name === name)!.outChannels;
  const shapes = {} as Record<GoogLeNetStage, number[]>;
  shapes.pixels = [h, w, 3];
  conv(7, 2, 3);
  shapes.conv1 = [h, w, 64];
  pool();
  shapes.pool1 = [h, w, 64];
  shapes.norm1 = [h, w, 64];
  shapes['conv2/3x3_reduce'] = [h, w, 64];
  shapes.conv2 = [h, w, 192];
  shapes.norm2 = [h, w, 192];
  pool();
  shapes.pool2 = [h, w, 192];
  shapes.inception_3a = [h, w, block('inception_3a')];
  shapes.inception_3b = [h, w, block('inception_3b')];
  pool();
  shapes.pool3 = [h, w, 480];
  for (const b of ['inception_4a', 'inception_4b', 'inception_4c', 'inception_4d', 'inception_4e'] as const)
    shapes[b] = [h, w, block(b)];
  pool();
  shapes.pool4 = [h, w, 832];
  shapes.inception_5a = [h, w, block('inception_5a')];
  shapes.inception_5b = [h, w, block('inception_5b')];
  shapes.pool5 = [1024];
  shapes.logits = [1000];
  shapes.prob = [1000];
  return shapes;
}

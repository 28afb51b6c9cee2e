/**
 * Channel concatenation (NHWC, last axis) whose gradient splits dy on typed arrays in JavaScript.
 * tfjs's gradient is tf.split, which on wasm runs one Slice per part, each copying the whole
 * input out of the wasm heap before a per-pixel copy: ~2.5x slower than one read and a single
 * pass here (measured on a [16, 56, 56, 192] split into 4).
 */
import * as tf from '@tensorflow/tfjs';

/** Split the last axis of row-major data [pixels, sum(sizes)] into parts [pixels, size]. */
export function splitLastAxis(values: Float32Array, sizes: readonly number[]): Float32Array[] {
  const channels = sizes.reduce((a, b) => a + b, 0);
  const pixels = values.length / channels;
  let offset = 0;
  return sizes.map((size) => {
    const out = new Float32Array(pixels * size);
    for (let p = 0; p < pixels; p++) {
      const src = p * channels + offset;
      const dst = p * size;
      for (let j = 0; j < size; j++) out[dst + j] = values[src + j]!;
    }
    offset += size;
    return out;
  });
}

/** tf.concat(parts, 3) with the typed-array split as its gradient. */
export function concatChannelsFastGrad(parts: tf.Tensor4D[]): tf.Tensor4D {
  const op = tf.customGrad((...args) => {
    const inputs = args.slice(0, parts.length) as tf.Tensor4D[];
    const sizes = inputs.map((t) => t.shape[3]);
    return {
      value: tf.concat(inputs, 3),
      gradFunc: (dy: tf.Tensor4D) =>
        splitLastAxis(dy.dataSync() as Float32Array, sizes).map((v, i) => tf.tensor4d(v, inputs[i]!.shape)),
    };
  });
  return op(...parts) as tf.Tensor4D;
}

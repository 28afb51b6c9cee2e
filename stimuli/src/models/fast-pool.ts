/**
 * Max pooling whose gradient is computed on typed arrays in JavaScript instead of by the
 * backend's MaxPoolGrad kernel: the wasm backend's MaxPoolGrad takes ~0.3-0.5 s for one GoogLeNet
 * pool of 16 images at 224 px, about 10x a channel-innermost loop here.
 *
 * Semantics equal TF's: each output's gradient goes to the first maximum of its window in
 * row-major order; padded positions ('same') never win.
 */
import * as tf from '@tensorflow/tfjs';

export interface PoolGeometry {
  kernel: number;
  stride: number;
  /** Rows/cols of implicit -inf padding before the input (the rest of the window may run past the end). */
  padTop: number;
  padLeft: number;
}

/**
 * dL/dx of y = maxpool(x): for every output position and channel, dy goes to the first maximum
 * of its window. `x` is [n, h, w, c] row-major, `dy` is [n, oh, ow, c].
 */
export function maxPoolBackward(
  x: Float32Array,
  xShape: readonly [number, number, number, number],
  dy: Float32Array,
  outH: number,
  outW: number,
  g: PoolGeometry,
): Float32Array {
  const [n, h, w, c] = xShape;
  const dx = new Float32Array(x.length);
  const best = new Float32Array(c);
  const pos = new Int32Array(c);
  for (let b = 0; b < n; b++) {
    const xBase = b * h * w * c;
    for (let oy = 0; oy < outH; oy++) {
      const y0 = Math.max(0, oy * g.stride - g.padTop);
      const y1 = Math.min(h, oy * g.stride - g.padTop + g.kernel);
      for (let ox = 0; ox < outW; ox++) {
        const x0 = Math.max(0, ox * g.stride - g.padLeft);
        const x1 = Math.min(w, ox * g.stride - g.padLeft + g.kernel);
        best.fill(-Infinity);
        pos.fill(-1);
        for (let yy = y0; yy < y1; yy++) {
          for (let xx = x0; xx < x1; xx++) {
            const off = xBase + (yy * w + xx) * c;
            for (let ch = 0; ch < c; ch++) {
              const v = x[off + ch]!;
              if (v > best[ch]!) {
                best[ch] = v;
                pos[ch] = off + ch;
              }
            }
          }
        }
        const dyOff = ((b * outH + oy) * outW + ox) * c;
        for (let ch = 0; ch < c; ch++) {
          const p = pos[ch]!;
          if (p >= 0) dx[p] = dx[p]! + dy[dyOff + ch]!;
        }
      }
    }
  }
  return dx;
}

/** TF's padding for 'same'/'valid' pooling, top and left. */
function poolPadding(size: number, kernel: number, stride: number, pad: 'same' | 'valid'): number {
  if (pad === 'valid') return 0;
  const out = Math.ceil(size / stride);
  return Math.floor(Math.max(0, (out - 1) * stride + kernel - size) / 2);
}

/** tf.maxPool (square kernel) with the typed-array gradient above. */
export function maxPoolFastGrad(x: tf.Tensor4D, kernel: number, stride: number, pad: 'same' | 'valid'): tf.Tensor4D {
  const op = tf.customGrad((input, save) => {
    const xin = input as tf.Tensor4D;
    const y = tf.maxPool(xin, kernel, stride, pad);
    (save as tf.GradSaveFunc)([xin]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor[]) => {
        const xs = saved[0] as tf.Tensor4D;
        const [, h, w] = xs.shape;
        const g: PoolGeometry = {
          kernel,
          stride,
          padTop: poolPadding(h, kernel, stride, pad),
          padLeft: poolPadding(w, kernel, stride, pad),
        };
        const dx = maxPoolBackward(
          xs.dataSync() as Float32Array,
          xs.shape,
          dy.dataSync() as Float32Array,
          dy.shape[1],
          dy.shape[2],
          g,
        );
        return [tf.tensor4d(dx, xs.shape)];
      },
    };
  });
  return op(x) as tf.Tensor4D;
}

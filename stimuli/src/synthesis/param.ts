/**
 * Image parameterizations: how a flat vector of optimized numbers becomes an RGB image in [0, 1].
 * Each image owns a contiguous block of `perImage` parameters, so a worker can take any share of
 * the images. `toImages` is differentiable with ops whose gradients the wasm backend has;
 * `fromImage` inverts it (for `--init <image-dir>`); `initNoise` draws the random start.
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '@orthostim/rdm';

export interface ImageParameterization {
  readonly name: ParamName;
  /** Image side in pixels. */
  readonly size: number;
  /** Parameters per image. */
  readonly perImage: number;
  /** [B, perImage] parameters -> [B, size, size, 3] RGB in [0, 1]. Differentiable. */
  toImages(params: tf.Tensor2D): tf.Tensor4D;
  /** Parameters whose image is `image` (HWC, [0, 1], size x size x 3), up to the logit clamp. */
  fromImage(image: ArrayLike<number>): Float32Array;
  /** A random start for one image, from a standard-normal source. */
  initNoise(normal: Rng): Float32Array;
  /** Release the constant tensors (bases). */
  dispose(): void;
}

export type ParamName = 'fourier' | 'pixel';

/** Standard deviation of the random start (Lucid's default). */
export const INIT_NOISE_SD = 0.01;

/** A random start: `perImage` values of INIT_NOISE_SD times a standard-normal source. */
export function noiseParams(perImage: number, normal: Rng): Float32Array {
  const p = new Float32Array(perImage);
  for (let i = 0; i < perImage; i++) p[i] = INIT_NOISE_SD * normal();
  return p;
}

/** Decorrelated colour values (NHWC) -> RGB in [0, 1]: the colour matrix `mix` (3 x 3), then a sigmoid. */
export function decorrelatedToRgbTf(x: tf.Tensor4D, mix: tf.Tensor2D): tf.Tensor4D {
  const [b, h, w] = x.shape;
  return tf.sigmoid(tf.matMul(x.reshape([b * h * w, 3]), mix)).reshape([b, h, w, 3]) as tf.Tensor4D;
}

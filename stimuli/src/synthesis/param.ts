/**
 * Image parameterizations: how a flat vector of optimized numbers becomes an RGB image in [0, 1].
 * Each image owns a contiguous block of `perImage` parameters, so a worker can take any share of
 * the images. `toImages` is differentiable with ops whose gradients the wasm backend has;
 * `fromImage` inverts it (for `--init <image-dir>`); `initNoise` draws the random start.
 */
import type * as tf from '@tensorflow/tfjs';
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

/**
 * What a network expects of its input, named: images arrive as NHWC RGB in [0, 1] (the 8-bit
 * pixels / 255 that a stimulus set stores), and each convention maps them to the network's input.
 *
 * - `imagenet`: torchvision's convention: RGB in [0, 1] minus mean (0.485, 0.456, 0.406), divided
 *   by std (0.229, 0.224, 0.225).
 * - `caffe`: BVLC Caffe's: BGR in [0, 255] minus the BVLC mean (B 104, G 117, R 123).
 * - `none`: RGB in [0, 1] unchanged.
 */
import * as tf from '@tensorflow/tfjs';
import { GOOGLENET_BGR_MEAN } from './googlenet-spec';

export type Normalization = (x: tf.Tensor4D) => tf.Tensor4D;

const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
const IMAGENET_STD = [0.229, 0.224, 0.225] as const;

export const NORMALIZATIONS = {
  imagenet: (x) => tf.div(tf.sub(x, tf.tensor1d([...IMAGENET_MEAN])), tf.tensor1d([...IMAGENET_STD])),
  caffe: (x) => tf.sub(tf.mul(tf.reverse(x, 3), 255), tf.tensor1d([...GOOGLENET_BGR_MEAN])),
  none: (x) => x,
} satisfies Record<string, Normalization>;

export type NormalizationName = keyof typeof NORMALIZATIONS;
export const NORMALIZATION_NAMES = Object.keys(NORMALIZATIONS) as NormalizationName[];

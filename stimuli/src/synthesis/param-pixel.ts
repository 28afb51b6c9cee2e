/**
 * The plain parameterization: one decorrelated-colour value per pixel and channel, then the
 * colour matrix and a sigmoid (Lucid `pixel_image` + `to_valid_rgb(decorrelate=True)`). A baseline
 * against the Fourier parameterization, which is the default.
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '@orthostim/rdm';
import { colorMixMatrix, imagesToDecorrelated } from './color';
import { decorrelatedToRgbTf, noiseParams, type ImageParameterization } from './param';

export function createPixelParam(size: number): ImageParameterization {
  const perImage = size * size * 3;
  const mix = tf.tensor2d(Float32Array.from(colorMixMatrix()), [3, 3]);
  return {
    name: 'pixel',
    size,
    perImage,
    toImages(params) {
      return tf.tidy(() => {
        const b = params.shape[0];
        return decorrelatedToRgbTf(params.reshape([b, size, size, 3]), mix);
      });
    },
    fromImage(image) {
      if (image.length !== perImage)
        throw new RangeError(`pixel fromImage: expected ${size}x${size}x3 = ${perImage} values; got ${image.length}`);
      return Float32Array.from(imagesToDecorrelated(image));
    },
    initNoise: (normal: Rng) => noiseParams(perImage, normal),
    dispose() {
      mix.dispose();
    },
  };
}

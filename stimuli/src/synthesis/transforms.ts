/**
 * Transformation robustness (feature-visualization practice): each optimization step sees the
 * images randomly scaled and shifted, so the optimized RDM structure cannot rest on pixel-exact
 * patterns. Scaling is a bilinear resize, the shift a pad (mid-grey) and a crop back to the output
 * size; both have gradients on wasm. One transform per step, shared by all images (an RDM compares
 * images, so they should be seen alike), drawn from a stream indexed by the step so a resumed run
 * draws the same ones. Final RDMs and figures use the untransformed images.
 */
import * as tf from '@tensorflow/tfjs';
import { createRng } from '@orthostim/rdm';
import { deriveSeed, SEED_STREAMS } from './seeds';

export interface TransformSettings {
  /** Largest shift in each direction, as a fraction of the image side. */
  jitter: number;
  /** Scale factors are drawn uniformly from [1 - scale, 1 + scale]. */
  scale: number;
}

export const DEFAULT_TRANSFORMS: TransformSettings = { jitter: 0.04, scale: 0.08 };

export interface DrawnTransform {
  /** Side of the resized image in pixels. */
  scaledSize: number;
  /** Shift in pixels (down, right). */
  dy: number;
  dx: number;
}

export const IDENTITY_TRANSFORM = (size: number): DrawnTransform => ({ scaledSize: size, dy: 0, dx: 0 });

export function drawTransform(seed: number, step: number, size: number, settings: TransformSettings): DrawnTransform {
  const rng = createRng(deriveSeed(seed, SEED_STREAMS.transform, step));
  const s = 1 + settings.scale * (2 * rng() - 1);
  const j = Math.round(settings.jitter * size);
  const shift = () => Math.min(j, Math.floor(rng() * (2 * j + 1)) - j);
  const dy = shift();
  const dx = shift();
  return { scaledSize: Math.max(1, Math.round(size * s)), dy, dx };
}

/** Apply a drawn transform to NHWC images of side `size`; the result has side `size` again. */
export function applyTransform(images: tf.Tensor4D, t: DrawnTransform): tf.Tensor4D {
  const [n, size, , c] = images.shape;
  if (t.scaledSize === size && t.dy === 0 && t.dx === 0) return images;
  return tf.tidy(() => {
    const scaled =
      t.scaledSize === size ? images : tf.image.resizeBilinear(images, [t.scaledSize, t.scaledSize], false, true);
    // Pad enough for the shift and for a shrunken image, then crop the output window.
    const shrink = Math.max(0, size - t.scaledSize);
    const pad = Math.max(Math.abs(t.dy), Math.abs(t.dx)) + Math.ceil(shrink / 2);
    const padded =
      pad > 0
        ? tf.pad(
            scaled,
            [
              [0, 0],
              [pad, pad],
              [pad, pad],
              [0, 0],
            ],
            0.5,
          )
        : scaled;
    const offset = Math.floor((t.scaledSize + 2 * pad - size) / 2);
    return tf.slice(padded, [0, offset - t.dy, offset - t.dx, 0], [n, size, size, c]);
  });
}

/**
 * The correlation distance's row preparation (centre each row, scale it to unit length; the same
 * values as `prepareRowsTf(x, 'correlation')` in rdm-tf.ts) as one op with a hand-written
 * gradient, so that the backward pass keeps only the output z and the row norms r instead of every
 * intermediate: for z = c / r, c = x - mean(x),
 *   dL/dx = (g - z (z . g) - mean(g)) / r      (g = dL/dz; z has zero mean).
 * This matters in the synthesis workers, whose memory is dominated by what the tape keeps.
 */
import * as tf from '@tensorflow/tfjs';

const op = tf.customGrad((x, save) => {
  const input = x as tf.Tensor2D;
  const [z, r] = tf.tidy(() => {
    const c = tf.sub(input, tf.mean(input, 1, true));
    const norm = tf.sqrt(tf.sum(tf.square(c), 1, true));
    return [tf.div(c, norm), norm];
  });
  (save as tf.GradSaveFunc)([z!, r!]);
  return {
    value: z!,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [zs, rs] = saved as [tf.Tensor2D, tf.Tensor2D];
      return tf.tidy(() => {
        const g = dy as tf.Tensor2D;
        const proj = tf.sum(tf.mul(zs, g), 1, true);
        return tf.div(tf.sub(tf.sub(g, tf.mul(zs, proj)), tf.mean(g, 1, true)), rs);
      });
    },
  };
});

/** Rows of `x` (n x p) centred and scaled to unit length; differentiable, lean backward. */
export function centredUnitRows(x: tf.Tensor2D): tf.Tensor2D {
  return op(x) as tf.Tensor2D;
}

/**
 * The Gram matrix Z Z^T of n rows of a very long feature vector (n = 16, features up to 800,000),
 * with the gradient dZ = (dG + dG^T) Z. Written out because the wasm backend's matMul is slow
 * whenever an operand is transposed with a long inner dimension (Z Z^T and tfjs's own backward
 * dG^T Z took ~0.3 s each for conv1 at 224 px), but fast as Z @ Zt with Zt stored [features, n]
 * (~0.04 s). The caller passes Zt, which it builds while gathering the rows anyway.
 */
import * as tf from '@tensorflow/tfjs';

/** [n, p] row-major -> [p, n] row-major. */
export function transposeRows(z: Float32Array, n: number): Float32Array {
  const p = z.length / n;
  const out = new Float32Array(z.length);
  for (let i = 0; i < n; i++) {
    const row = i * p;
    for (let f = 0, o = i; f < p; f++, o += n) out[o] = z[row + f]!;
  }
  return out;
}

/** Z Z^T for z [n, p] given also as zt [p, n] (a constant here: gradients flow through z only). */
export function gramTf(z: tf.Tensor2D, zt: tf.Tensor2D): tf.Tensor2D {
  const op = tf.customGrad((x) => ({
    value: tf.matMul(x as tf.Tensor2D, zt),
    gradFunc: (dy: tf.Tensor) => tf.tidy(() => tf.matMul(tf.add(dy, tf.transpose(dy)), x as tf.Tensor2D)),
  }));
  return op(z) as tf.Tensor2D;
}

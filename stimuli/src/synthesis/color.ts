/**
 * Colour handling of the image parameterizations, as in feature-visualization work (Lucid
 * `optvis/param/color.py`): parameters live in a decorrelated colour space; multiplying by the
 * square root of ImageNet's colour correlation matrix maps them to RGB, and a sigmoid maps RGB to
 * [0, 1]. Decorrelated parameters make all colour directions equally easy for the optimizer.
 */

/** Square root of the empirical ImageNet RGB colour correlation matrix (Lucid's values). */
export const COLOR_CORRELATION_SVD_SQRT: readonly (readonly [number, number, number])[] = [
  [0.26, 0.09, 0.02],
  [0.27, 0.0, -0.05],
  [0.27, -0.09, 0.03],
];

/** Row-major 3x3 matrix M with rgb = decorrelated @ M (Lucid: `t @ (C / max column norm).T`). */
export function colorMixMatrix(): Float64Array {
  const C = COLOR_CORRELATION_SVD_SQRT;
  let maxNorm = 0;
  for (let j = 0; j < 3; j++) maxNorm = Math.max(maxNorm, Math.hypot(C[0]![j]!, C[1]![j]!, C[2]![j]!));
  const m = new Float64Array(9);
  // M = (C / maxNorm)^T, so M[i][j] = C[j][i] / maxNorm.
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) m[i * 3 + j] = C[j]![i]! / maxNorm;
  return m;
}

/** Inverse of a row-major 3x3 matrix (for turning given images back into parameters). */
export function invert3x3(m: ArrayLike<number>): Float64Array {
  const [a, b, c, d, e, f, g, h, i] = Array.from({ length: 9 }, (_, k) => m[k]!) as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const A = e * i - f * h;
  const B = -(d * i - f * g);
  const C = d * h - e * g;
  const det = a * A + b * B + c * C;
  if (Math.abs(det) < 1e-12) throw new RangeError(`invert3x3: matrix is singular (determinant ${det})`);
  return Float64Array.from(
    [A, -(b * i - c * h), b * f - c * e, B, a * i - c * g, -(a * f - c * d), C, -(a * h - b * g), a * e - b * d].map(
      (v) => v / det,
    ),
  );
}

/**
 * Smallest distance from 0 and 1 that init-from-image keeps, so the logit stays finite. A quarter
 * of an 8-bit step: 0 and 255 still round back to 0 and 255.
 */
export const LOGIT_EPS = 0.25 / 255;

export function logit(p: number): number {
  const q = Math.min(1 - LOGIT_EPS, Math.max(LOGIT_EPS, p));
  return Math.log(q / (1 - q));
}

/**
 * Undo the colour and sigmoid stages for NHWC images in [0, 1]: the decorrelated pre-sigmoid
 * values (float64) whose forward map reproduces the images (up to the LOGIT_EPS clamp).
 */
export function imagesToDecorrelated(images: ArrayLike<number>): Float64Array {
  if (images.length % 3 !== 0)
    throw new RangeError(`imagesToDecorrelated: expected RGB values (a multiple of 3); got ${images.length}`);
  const inv = invert3x3(colorMixMatrix());
  const out = new Float64Array(images.length);
  for (let p = 0; p < images.length; p += 3) {
    const r = logit(images[p]!);
    const g = logit(images[p + 1]!);
    const b = logit(images[p + 2]!);
    // decorrelated = rgb @ inv(M)
    for (let j = 0; j < 3; j++) out[p + j] = r * inv[j]! + g * inv[3 + j]! + b * inv[6 + j]!;
  }
  return out;
}

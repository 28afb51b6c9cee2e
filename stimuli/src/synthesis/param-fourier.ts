/**
 * The Fourier parameterization of feature-visualization work (Lucid `fft_image` +
 * `to_valid_rgb(decorrelate=True)`): the parameters are the real and imaginary parts of each
 * colour channel's 2D real spectrum, scaled by 1/f (so all spatial frequencies start with equal
 * energy in the image, and the optimizer is not drawn to high-frequency patterns), then the inverse
 * real DFT, the colour matrix and a sigmoid.
 *
 * The wasm backend has no FFT kernels, so the inverse real DFT is two matrix products with
 * precomputed cos/sin bases: a complex inverse DFT along y, then a real-output inverse DFT along x
 * (numpy's `irfft2` exactly, including the dropped imaginary parts at kx = 0 and Nyquist).
 *
 * Layout per image: [2H][3][K] with K = floor(W/2) + 1; rows 0..H-1 hold the real parts, rows
 * H..2H-1 the imaginary parts, of spectrum[ky][channel][kx].
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '@orthostim/rdm';
import { colorMixMatrix, imagesToDecorrelated } from './color';
import { decorrelatedToRgbTf, noiseParams, type ImageParameterization } from './param';

export interface FourierGeometry {
  size: number;
  /** Number of kept x frequencies: floor(size / 2) + 1. */
  k: number;
  /** [size][k] spectrum scale: 1/f with f floored at 1/size, times Lucid's sqrt(HW)/4, over HW. */
  scale: Float64Array;
  /** Hermitian weight per kx: 1 for DC and (even sizes) Nyquist, 2 otherwise. */
  weights: Float64Array;
}

/** numpy.fft.fftfreq(n)[i]. */
function fftFreq(i: number, n: number): number {
  return (i < Math.ceil(n / 2) ? i : i - n) / n;
}

export function fourierGeometry(size: number, decayPower = 1): FourierGeometry {
  const H = size;
  const W = size;
  const k = Math.floor(W / 2) + 1;
  const scale = new Float64Array(H * k);
  // Lucid: scale = 1/max(f, 1/max(h,w))^decay * sqrt(w*h); image = irfft2(scale*spectrum) / 4.
  // irfft2 divides by HW; both constants are folded into the scale here.
  const norm = Math.sqrt(W * H) / 4 / (W * H);
  for (let ky = 0; ky < H; ky++) {
    const fy = fftFreq(ky, H);
    for (let kx = 0; kx < k; kx++) {
      const f = Math.hypot(fy, kx / W);
      scale[ky * k + kx] = norm / Math.max(f, 1 / Math.max(W, H)) ** decayPower;
    }
  }
  const weights = new Float64Array(k).fill(2);
  weights[0] = 1;
  if (W % 2 === 0) weights[k - 1] = 1;
  return { size, k, scale, weights };
}

/**
 * Synthesis bases. Y: [2H, 2H] = [[C, -S], [S, C]] (complex inverse DFT along y on stacked
 * real/imaginary rows); Xre, Xim: [K, W] with img = Tre @ Xre + Tim @ Xim.
 */
export function fourierBases(g: FourierGeometry): { y: Float32Array; xRe: Float32Array; xIm: Float32Array } {
  const H = g.size;
  const W = g.size;
  const { k } = g;
  const y = new Float32Array(4 * H * H);
  const row = 2 * H;
  for (let yy = 0; yy < H; yy++) {
    for (let ky = 0; ky < H; ky++) {
      const a = (2 * Math.PI * ((ky * yy) % H)) / H;
      const c = Math.cos(a);
      const s = Math.sin(a);
      y[yy * row + ky] = c;
      y[yy * row + H + ky] = -s;
      y[(H + yy) * row + ky] = s;
      y[(H + yy) * row + H + ky] = c;
    }
  }
  const xRe = new Float32Array(k * W);
  const xIm = new Float32Array(k * W);
  for (let kx = 0; kx < k; kx++) {
    for (let x = 0; x < W; x++) {
      const a = (2 * Math.PI * ((kx * x) % W)) / W;
      xRe[kx * W + x] = g.weights[kx]! * Math.cos(a);
      xIm[kx * W + x] = -g.weights[kx]! * Math.sin(a);
    }
  }
  return { y, xRe, xIm };
}

/**
 * Forward real 2D DFT (numpy `rfft2`, unnormalized) of one H x W channel, in float64:
 * returns [re, im], each [H][K].
 */
export function rfft2(channel: ArrayLike<number>, size: number): [Float64Array, Float64Array] {
  const H = size;
  const W = size;
  const k = Math.floor(W / 2) + 1;
  const cosW = new Float64Array(W);
  const sinW = new Float64Array(W);
  for (let i = 0; i < W; i++) {
    cosW[i] = Math.cos((2 * Math.PI * i) / W);
    sinW[i] = Math.sin((2 * Math.PI * i) / W);
  }
  const cosH = new Float64Array(H);
  const sinH = new Float64Array(H);
  for (let i = 0; i < H; i++) {
    cosH[i] = Math.cos((2 * Math.PI * i) / H);
    sinH[i] = Math.sin((2 * Math.PI * i) / H);
  }
  // Along x: R[y][kx] = sum_x v[y][x] e^{-2 pi i kx x / W}.
  const rRe = new Float64Array(H * k);
  const rIm = new Float64Array(H * k);
  for (let yy = 0; yy < H; yy++) {
    for (let kx = 0; kx < k; kx++) {
      let re = 0;
      let im = 0;
      for (let x = 0; x < W; x++) {
        const v = channel[yy * W + x]!;
        const t = (kx * x) % W;
        re += v * cosW[t]!;
        im -= v * sinW[t]!;
      }
      rRe[yy * k + kx] = re;
      rIm[yy * k + kx] = im;
    }
  }
  // Along y: S[ky][kx] = sum_y R[y][kx] e^{-2 pi i ky y / H}.
  const sRe = new Float64Array(H * k);
  const sIm = new Float64Array(H * k);
  for (let ky = 0; ky < H; ky++) {
    for (let yy = 0; yy < H; yy++) {
      const t = (ky * yy) % H;
      const c = cosH[t]!;
      const s = sinH[t]!;
      for (let kx = 0; kx < k; kx++) {
        const a = rRe[yy * k + kx]!;
        const b = rIm[yy * k + kx]!;
        // (a + ib)(c - is)
        sRe[ky * k + kx]! += a * c + b * s;
        sIm[ky * k + kx]! += b * c - a * s;
      }
    }
  }
  return [sRe, sIm];
}

export function createFourierParam(size: number, decayPower = 1): ImageParameterization {
  const g = fourierGeometry(size, decayPower);
  const H = size;
  const W = size;
  const { k } = g;
  const perImage = 2 * H * 3 * k;
  const bases = fourierBases(g);
  // The constants are built once per parameterization and reused every step.
  const yT = tf.tensor2d(bases.y, [2 * H, 2 * H]);
  const xReT = tf.tensor2d(bases.xRe, [k, W]);
  const xImT = tf.tensor2d(bases.xIm, [k, W]);
  const scaleRows = new Float32Array(2 * H * 3 * k);
  for (let r = 0; r < 2 * H; r++)
    for (let c = 0; c < 3; c++)
      for (let kx = 0; kx < k; kx++) scaleRows[(r * 3 + c) * k + kx] = g.scale[(r % H) * k + kx]!;
  const scaleT = tf.tensor2d(scaleRows, [2 * H, 3 * k]);
  const mix = tf.tensor2d(Float32Array.from(colorMixMatrix()), [3, 3]);

  return {
    name: 'fourier',
    size,
    perImage,
    toImages(params) {
      return tf.tidy(() => {
        const b = params.shape[0];
        const spec = tf.mul(params.reshape([b, 2 * H, 3 * k]), scaleT);
        const rows = tf.transpose(spec, [1, 0, 2]).reshape([2 * H, b * 3 * k]);
        const t = tf.matMul(yT, rows); // [2H, B*3*K]: complex inverse DFT along y
        const tRe = t.slice([0, 0], [H, b * 3 * k]).reshape([H * b * 3, k]);
        const tIm = t.slice([H, 0], [H, b * 3 * k]).reshape([H * b * 3, k]);
        const img = tf.add(tf.matMul(tRe, xReT), tf.matMul(tIm, xImT)); // [H*B*3, W]
        const nhwc = tf.transpose(img.reshape([H, b, 3, W]), [1, 0, 3, 2]); // [B, H, W, 3]
        return decorrelatedToRgbTf(nhwc as tf.Tensor4D, mix);
      });
    },
    fromImage(image) {
      if (image.length !== H * W * 3)
        throw new RangeError(`fourier fromImage: expected ${H}x${W}x3 = ${H * W * 3} values; got ${image.length}`);
      const dec = imagesToDecorrelated(image);
      const out = new Float32Array(perImage);
      const channel = new Float64Array(H * W);
      for (let c = 0; c < 3; c++) {
        for (let p = 0; p < H * W; p++) channel[p] = dec[p * 3 + c]!;
        const [re, im] = rfft2(channel, size);
        for (let ky = 0; ky < H; ky++) {
          for (let kx = 0; kx < k; kx++) {
            // The bases are the unnormalized inverse DFT (1/HW is folded into the scale).
            const s = g.scale[ky * k + kx]! * H * W;
            out[(ky * 3 + c) * k + kx] = re[ky * k + kx]! / s;
            out[((H + ky) * 3 + c) * k + kx] = im[ky * k + kx]! / s;
          }
        }
      }
      return out;
    },
    initNoise: (normal: Rng) => noiseParams(perImage, normal),
    dispose() {
      for (const t of [yT, xReT, xImT, scaleT, mix]) t.dispose();
    },
  };
}

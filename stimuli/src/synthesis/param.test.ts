import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { createNormalRng } from '@orthostim/rdm';
import { colorMixMatrix, invert3x3 } from './color';
import { fourierGeometry } from './param-fourier';
import { createParam, PARAM_NAMES } from './param-registry';

beforeAll(async () => {
  await tf.setBackend('wasm');
});

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** A decorrelated-space image v (HWC) and the RGB image sigmoid(v @ M) it should become. */
function plantedImage(size: number, seed: number): { v: Float64Array; rgb: Float64Array } {
  const normal = createNormalRng(seed);
  const v = Float64Array.from({ length: size * size * 3 }, () => 0.8 * normal());
  const M = colorMixMatrix();
  const rgb = new Float64Array(v.length);
  for (let p = 0; p < v.length; p += 3)
    for (let j = 0; j < 3; j++) rgb[p + j] = sigmoid(v[p]! * M[j]! + v[p + 1]! * M[3 + j]! + v[p + 2]! * M[6 + j]!);
  return { v, rgb };
}

/** Full complex 2D DFT, straight from the definition (independent of the matmul bases). */
function naiveDft2(ch: Float64Array, size: number): { re: Float64Array; im: Float64Array } {
  const re = new Float64Array(size * size);
  const im = new Float64Array(size * size);
  for (let ky = 0; ky < size; ky++)
    for (let kx = 0; kx < size; kx++)
      for (let y = 0; y < size; y++)
        for (let x = 0; x < size; x++) {
          const a = -2 * Math.PI * ((ky * y) / size + (kx * x) / size);
          re[ky * size + kx]! += ch[y * size + x]! * Math.cos(a);
          im[ky * size + kx]! += ch[y * size + x]! * Math.sin(a);
        }
  return { re, im };
}

function render(name: 'fourier' | 'pixel', size: number, params: Float32Array): Float32Array {
  const param = createParam(name, size);
  const img = param.toImages(tf.tensor2d(params, [1, param.perImage]));
  const out = img.dataSync() as Float32Array;
  img.dispose();
  param.dispose();
  return out;
}

describe('Fourier parameterization', () => {
  for (const size of [7, 8]) {
    it(`inverts a naive 2D DFT with its matmul inverse real DFT (size ${size})`, () => {
      const { v, rgb } = plantedImage(size, size);
      const g = fourierGeometry(size);
      const params = new Float32Array(2 * size * 3 * g.k);
      for (let c = 0; c < 3; c++) {
        const ch = Float64Array.from({ length: size * size }, (_, p) => v[p * 3 + c]!);
        const { re, im } = naiveDft2(ch, size);
        for (let ky = 0; ky < size; ky++)
          for (let kx = 0; kx < g.k; kx++) {
            const s = g.scale[ky * g.k + kx]! * size * size; // numpy irfft2 divides by HW
            params[(ky * 3 + c) * g.k + kx] = re[ky * size + kx]! / s;
            params[((size + ky) * 3 + c) * g.k + kx] = im[ky * size + kx]! / s;
          }
      }
      const out = render('fourier', size, params);
      for (let i = 0; i < rgb.length; i++) expect(out[i]).toBeCloseTo(rgb[i]!, 5);
    });
  }

  it('has a 1/f spectrum scale, flat below 1/size', () => {
    const g = fourierGeometry(8);
    const s = (ky: number, kx: number) => g.scale[ky * g.k + kx]!;
    expect(s(0, 0)).toBeCloseTo(s(0, 1), 12); // DC floored at f = 1/8
    expect(s(0, 2) / s(0, 4)).toBeCloseTo(2, 12);
    expect(s(7, 0)).toBeCloseTo(s(1, 0), 12); // ky = 7 is frequency -1/8
    expect(s(2, 2)).toBeCloseTo(s(0, 1) / (2 * Math.SQRT2), 12);
  });
});

describe.each(PARAM_NAMES)('%s parameterization', (name) => {
  it('reproduces an image it was initialized from', () => {
    const size = 10;
    const { rgb } = plantedImage(size, 3);
    const param = createParam(name, size);
    const p = param.fromImage(rgb);
    param.dispose();
    const out = render(name, size, p);
    for (let i = 0; i < rgb.length; i++) expect(out[i]).toBeCloseTo(rgb[i]!, 5);
  });

  it('passes gradients on wasm that match a finite difference', () => {
    expect(tf.getBackend()).toBe('wasm');
    const size = 9;
    const param = createParam(name, size);
    const normal = createNormalRng(11);
    const p0 = Float32Array.from({ length: 2 * param.perImage }, () => normal());
    const w = tf.tensor4d(
      Float32Array.from({ length: 2 * size * size * 3 }, () => normal()),
      [2, size, size, 3],
    );
    const f = (p: tf.Tensor) => tf.sum(tf.mul(param.toImages(p as tf.Tensor2D), w)) as tf.Scalar;
    const grad = tf
      .grad(f)(tf.tensor2d(p0, [2, param.perImage]))
      .dataSync();
    const d = Float32Array.from({ length: p0.length }, () => normal());
    const eps = 1e-2;
    const at = (sgn: number) =>
      f(
        tf.tensor2d(
          p0.map((x, i) => x + sgn * eps * d[i]!),
          [2, param.perImage],
        ),
      ).dataSync()[0]!;
    const numeric = (at(1) - at(-1)) / (2 * eps);
    let analytic = 0;
    for (let i = 0; i < d.length; i++) analytic += grad[i]! * d[i]!;
    expect(Math.abs(analytic)).toBeGreaterThan(1e-3);
    expect(analytic).toBeCloseTo(numeric, 2);
    param.dispose();
  });

  it('starts near grey from noise', () => {
    const param = createParam(name, 16);
    const out = render(name, 16, param.initNoise(createNormalRng(5)));
    param.dispose();
    for (const x of out) expect(Math.abs(x - 0.5)).toBeLessThan(0.05);
  });
});

it('invert3x3 inverts the colour matrix', () => {
  const M = colorMixMatrix();
  const inv = invert3x3(M);
  for (let i = 0; i < 3; i++)
    for (let j = 0; j < 3; j++) {
      let s = 0;
      for (let k = 0; k < 3; k++) s += M[i * 3 + k]! * inv[k * 3 + j]!;
      expect(s).toBeCloseTo(i === j ? 1 : 0, 12);
    }
});

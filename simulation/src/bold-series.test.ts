import { describe, expect, it } from 'vitest';
import { createRng } from '@orthostim/rdm';
import { heteroscedasticScale, spatialNoiseField } from './bold-series';

describe('spatially correlated noise', () => {
  it('has unit variance, the neighbour correlation of the Gaussian kernel, and AR(1) in time', () => {
    const dims = [16, 16, 16] as const;
    const T = 40;
    const fwhm = 2; // mm at 1 mm voxels: sigma 0.849 voxels
    const field = spatialNoiseField(T, { dims, voxelSizesMm: [1, 1, 1], fwhmMm: fwhm }, 0.5, createRng(3));
    const n = dims[0] * dims[1] * dims[2];
    // Expected neighbour correlation, from the sampled Gaussian written out here (radius 4 sigma).
    const sigma = fwhm / (2 * Math.sqrt(2 * Math.LN2));
    const r = Math.trunc(4 * sigma + 0.5);
    const w = Array.from({ length: 2 * r + 1 }, (_, i) => Math.exp(-0.5 * ((i - r) / sigma) ** 2));
    let same = 0;
    let shifted = 0;
    for (let i = 0; i < w.length; i++) {
      same += w[i]! ** 2;
      if (i + 1 < w.length) shifted += w[i]! * w[i + 1]!;
    }
    const expected = shifted / same;
    let vv = 0;
    let vn = 0;
    let lag = 0;
    let count = 0;
    for (let t = 0; t < T; t++) {
      for (let z = 5; z < 11; z++)
        for (let y = 5; y < 11; y++)
          for (let x = 5; x < 11; x++) {
            const g = x + 16 * (y + 16 * z);
            const a = field[t * n + g]!;
            vv += a * a;
            vn += a * field[t * n + g + 1]!;
            if (t > 0) lag += a * field[(t - 1) * n + g]!;
            count++;
          }
    }
    expect(vv / count).toBeGreaterThan(0.85);
    expect(vv / count).toBeLessThan(1.15);
    expect(vn / vv).toBeCloseTo(expected, 1);
    expect(lag / vv).toBeGreaterThan(0.4);
    expect(lag / vv).toBeLessThan(0.6);
  });
});

describe('heteroscedastic noise', () => {
  it('scales voxels by exp(h z), with mean square 1 and log-SD h', () => {
    const m = heteroscedasticScale(20000, 0.5, createRng(8));
    const ms = m.reduce((s, x) => s + x * x, 0) / m.length;
    expect(ms).toBeCloseTo(1, 6);
    const logs = Array.from(m, Math.log);
    const mean = logs.reduce((s, x) => s + x, 0) / logs.length;
    const sd = Math.sqrt(logs.reduce((s, x) => s + (x - mean) ** 2, 0) / logs.length);
    expect(sd).toBeGreaterThan(0.48);
    expect(sd).toBeLessThan(0.52);
  });
});

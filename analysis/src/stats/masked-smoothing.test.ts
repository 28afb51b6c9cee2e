import { describe, expect, it } from 'vitest';
import { createNormalRng } from '@orthostim/rdm';
import { createMaskedSmoother, fwhmToSigma } from './masked-smoothing';

/** Brute force: every pair of mask voxels, the 3D Gaussian weight within the per-axis truncation. */
function bruteForce(dims: number[], mm: number[], voxels: number[], values: number[], fwhm: number): number[] {
  const sig = mm.map((s) => fwhmToSigma(fwhm) / s);
  const r = sig.map((s) => Math.ceil(3 * s));
  const at = (g: number) => [g % dims[0]!, Math.floor(g / dims[0]!) % dims[1]!, Math.floor(g / (dims[0]! * dims[1]!))];
  return voxels.map((g) => {
    const c = at(g);
    let num = 0;
    let den = 0;
    voxels.forEach((h, u) => {
      const d = at(h).map((x, a) => x - c[a]!);
      if (d.some((x, a) => Math.abs(x) > r[a]!)) return;
      const w = Math.exp(-d.reduce((acc, x, a) => acc + (x * x) / (2 * sig[a]! ** 2), 0));
      num += w * values[u]!;
      den += w;
    });
    return num / den;
  });
}

describe('createMaskedSmoother', () => {
  it('a uniform map stays uniform in an irregular mask (normalized by the smoothed mask)', () => {
    const dims = [7, 8, 9] as const;
    const voxels: number[] = [];
    for (let g = 0; g < 7 * 8 * 9; g++) if ((g * 37) % 5 !== 0) voxels.push(g);
    const smooth = createMaskedSmoother({ dims, voxelSizeMm: [2, 2.5, 3], voxels }, 6);
    const out = new Float64Array(voxels.length);
    smooth(new Float64Array(voxels.length).fill(0.7), out);
    for (const x of out) expect(x).toBeCloseTo(0.7, 12);
  });

  it("a delta on a 7 x 1 x 1 line is spread by the Gaussian weights over each voxel's total weight", () => {
    // FWHM 4 mm on 2 mm voxels: sigma = 4 / 2.3548 / 2 = 0.8493 voxels, kernel radius 3.
    const sigma = 4 / (2 * Math.sqrt(2 * Math.log(2))) / 2;
    expect(sigma).toBeCloseTo(0.8493, 4);
    const w = (d: number) => (Math.abs(d) <= 3 ? Math.exp(-(d * d) / (2 * sigma * sigma)) : 0);
    const smooth = createMaskedSmoother({ dims: [7, 1, 1], voxelSizeMm: [2, 2, 2], voxels: [0, 1, 2, 3, 4, 5, 6] }, 4);
    const out = new Float64Array(7);
    smooth([0, 0, 0, 1, 0, 0, 0], out);
    for (let v = 0; v < 7; v++) {
      let total = 0;
      for (let u = 0; u < 7; u++) total += w(u - v);
      expect(out[v]).toBeCloseTo(w(v - 3) / total, 12);
    }
    // By hand at the centre: 1 / (1 + 2 e^-0.693 + 2 e^-2.773 + 2 e^-6.238) = 0.4700.
    expect(out[3]).toBeCloseTo(0.47, 3);
  });

  it('equals the brute-force 3D sum on a random map with an irregular mask and anisotropic voxels', () => {
    const dims = [6, 7, 5];
    const rng = createNormalRng(3);
    const voxels: number[] = [];
    for (let g = 0; g < 6 * 7 * 5; g++) if (rng() > -0.5) voxels.push(g);
    const values = voxels.map(() => rng());
    const smooth = createMaskedSmoother({ dims: [6, 7, 5], voxelSizeMm: [2, 3, 2.5], voxels }, 5);
    const out = new Float64Array(voxels.length);
    smooth(values, out);
    const ref = bruteForce(dims, [2, 3, 2.5], voxels, values, 5);
    ref.forEach((x, v) => expect(out[v]).toBeCloseTo(x, 10));
  });

  it('refuses a FWHM that is not a positive number', () => {
    expect(() => createMaskedSmoother({ dims: [2, 2, 2], voxelSizeMm: [1, 1, 1], voxels: [0] }, -1)).toThrow(
      /FWHM.*got -1/,
    );
  });
});

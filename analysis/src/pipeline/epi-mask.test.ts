import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { requireShared } from '@orthostim/test';
import { readNiftiMeanVolume } from '../io/nifti';
import { computeEpiMask, epiThreshold, smoothVoxels } from './epi-mask';

/** nilearn's compute_epi_mask transcribed with numpy/scipy on the same files (fixtures/epi-mask-reference.py). */
const reference = JSON.parse(
  readFileSync(new URL('./fixtures/epi-mask-reference.json', import.meta.url), 'utf8'),
) as Record<string, { dims: [number, number, number]; threshold: number; nVoxels: number; runs: [number, number][] }>;

describe('computeEpiMask (the approach of nilearn compute_epi_mask)', () => {
  for (const [file, ref] of Object.entries(reference)) {
    it(`gives the scipy reference mask of ${file}`, () => {
      const mean = readNiftiMeanVolume(join(requireShared('data'), file));
      expect(mean.dims.slice(0, 3)).toEqual(ref.dims);
      const { mask, threshold, nVoxels } = computeEpiMask(mean.data, ref.dims);
      expect(threshold).toBeCloseTo(ref.threshold, 3);
      const expected = new Uint8Array(mask.length);
      for (const [start, length] of ref.runs) expected.fill(1, start, start + length);
      expect(nVoxels).toBe(ref.nVoxels);
      expect(Buffer.from(mask).equals(Buffer.from(expected))).toBe(true);
    });
  }

  it('finds the largest gap between the cutoffs, and smooths with reflected edges', () => {
    // 10 values: cutoffs 0.2 and 0.85 search indices 2..8; the largest gap there is 5 -> 20.
    const v = Float64Array.from([0, 1, 2, 3, 4, 5, 20, 21, 22, 100]);
    expect(epiThreshold(v, 0.2, 0.85)).toBe(12.5);
    // A constant line stays constant; a single spike spreads symmetrically and keeps its sum.
    const line = Float64Array.from([0, 0, 0, 6, 0, 0, 0]);
    smoothVoxels(line, [7, 1, 1], 1 / Math.sqrt(8 * Math.LN2));
    expect(line[2]).toBeCloseTo(line[4]!, 12);
    expect(line.reduce((a, b) => a + b, 0)).toBeCloseTo(6, 12);
    const flat = new Float64Array(8).fill(3);
    smoothVoxels(flat, [2, 2, 2], 1 / Math.sqrt(8 * Math.LN2));
    flat.forEach((x) => expect(x).toBeCloseTo(3, 12));
  });
});

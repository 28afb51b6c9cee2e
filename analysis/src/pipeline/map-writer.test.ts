import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createRng } from '@orthostim/rdm';
import { readNifti } from '../io/nifti';
import { MapWriter, toGrid, type GridRef } from './map-writer';
import { OutputIndexBuilder } from './output-index';

const tmp = mkdtempSync(join(tmpdir(), 'orthostim-mapwriter-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('MapWriter.writeAt (maps built from values at voxels, in this thread or on encoder threads)', () => {
  const grid: GridRef = {
    dims: [7, 6, 5],
    affine: [-3, 0, 0, 90, 0, 3, 0, -126, 0, 0, 3.5, -72],
    reference: { qformCode: 1, sformCode: 4 },
  };
  const n = 7 * 6 * 5;
  const rng = createRng(5);
  const voxels = Int32Array.from(new Set(Array.from({ length: 60 }, () => Math.floor(rng() * n))));
  const values = Float32Array.from(voxels, () => rng() * 2 - 1);
  values[3] = 1; // Fisher z clamps r = 1 to a finite value

  for (const threads of [1, 2]) {
    it(`equals write(toGrid(...)) for r, and Fisher z of each value for z (${threads} thread(s))`, async () => {
      const dir = join(tmp, `t${threads}`);
      const index = new OutputIndexBuilder({ level: 'participant', space: 'MNI152NLin2009cAsym' });
      const writer = new MapWriter(dir, grid, index);
      writer.useEncoders(threads);
      writer.writeAt(
        'a_stat-r_statmap.nii.gz',
        values,
        voxels,
        { layer: 'conv1', method: 'standard', stat: 'r' },
        { intent: 'correlation', intentParams: [118] },
      );
      writer.writeAt(
        'a_stat-z_statmap.nii',
        values,
        voxels,
        { layer: 'conv1', method: 'standard', stat: 'z' },
        {},
        'fisher-z',
      );
      writer.write(
        'b_stat-r_statmap.nii.gz',
        toGrid(values, voxels, n),
        { layer: 'conv1', method: 'standard', stat: 'r' },
        { intent: 'correlation', intentParams: [118] },
      );
      await writer.flush();
      const a = readNifti(join(dir, 'a_stat-r_statmap.nii.gz'));
      const b = readNifti(join(dir, 'b_stat-r_statmap.nii.gz'));
      const z = readNifti(join(dir, 'a_stat-z_statmap.nii'));
      expect(a.dims).toEqual(b.dims);
      expect(a.affine).toEqual(b.affine);
      expect(z.affine).toEqual(b.affine);
      expect([a.header.sformCode, a.header.qformCode]).toEqual([4, 1]);
      expect(a.header.intentCode).toBe(b.header.intentCode);
      expect(a.header.intentParams[0]).toBe(118);
      const at = new Map(Array.from(voxels, (g, k) => [g, k]));
      for (let g = 0; g < n; g++) {
        const k = at.get(g);
        if (k === undefined) {
          expect(Number.isNaN(a.data[g]!) && Number.isNaN(z.data[g]!)).toBe(true);
        } else {
          expect(a.data[g]).toBe(b.data[g]);
          expect(a.data[g]).toBe(values[k]);
          const r = Math.min(Math.max(values[k]!, -0.9999999), 0.9999999);
          expect(z.data[g]).toBeCloseTo(0.5 * Math.log((1 + r) / (1 - r)), 5);
        }
      }
      expect(index.files.map((f) => f.path)).toEqual([
        'a_stat-r_statmap.nii.gz',
        'a_stat-z_statmap.nii',
        'b_stat-r_statmap.nii.gz',
      ]);
      expect(() => writer.writeAt('c.nii.gz', values.subarray(1), voxels, { stat: 'r' })).toThrow(
        /c\.nii\.gz has 59 values for 60 voxels|values for/,
      );
    });
  }

  it('fails the flush, naming the problem, when a voxel index is off the grid (encoder threads)', async () => {
    const writer = new MapWriter(join(tmp, 'bad'), grid, new OutputIndexBuilder({ level: 'participant' }));
    writer.useEncoders(2);
    writer.writeAt('bad.nii.gz', Float32Array.of(1), Int32Array.of(n + 5), { stat: 'r' });
    await expect(writer.flush()).rejects.toThrow(/voxel index 215 outside 0\.\.209/);
  });
});

/**
 * `orthostim searchlight --betas-table`: SPM-style betas, one 3D map per image and run listed in a
 * TSV, give the same maps as the same betas stacked in one 4D file per run (`--betas`), for the
 * correlation distance and for crossnobis with residual variances; bad tables are one-line errors.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNormalRng } from '@orthostim/rdm';
import { runCli, writeTestStimulusSet } from '@orthostim/test';
import { readNifti, writeNifti } from '../src/io/nifti';
import { readOutputIndex } from '../src/pipeline/output-index';
import { cosineRdm } from './tiny-study';

const tmp = mkdtempSync(join(tmpdir(), 'orthostim-betas-table-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const DIMS = [6, 7, 5] as const;
const N = DIMS[0] * DIMS[1] * DIMS[2];
const AFFINE = [3, 0, 0, -9, 0, 3, 0, -10, 0, 0, 3, -7, 0, 0, 0, 1];
const ids = ['face', 'house', 'cat', 'chair', 'shoe'];
const K = ids.length;
const RUNS = 3;

const runFiles: string[] = [];
const rvFiles: string[] = [];
let stimuli = '';
let table = '';

beforeAll(async () => {
  const normal = createNormalRng(7);
  const features = ids.map(() => Float64Array.from({ length: 3 }, () => normal()));
  stimuli = await writeTestStimulusSet(join(tmp, 'set'), K, 16, {
    ids,
    distance: 'correlation',
    rdms: {
      planted: Array.from(cosineRdm(features)),
      other: Array.from(cosineRdm(ids.map(() => Float64Array.from([normal(), normal()])))),
    },
  });
  const mask = Uint8Array.from({ length: N }, (_, g) => (g % DIMS[0] > 0 && g % DIMS[0] < 5 ? 1 : 0));
  writeNifti(join(tmp, 'mask.nii.gz'), { dims: DIMS, data: mask, affine: AFFINE }, { datatype: 'uint8' });
  const w = Array.from({ length: N }, () => [normal(), normal(), normal()]);
  mkdirSync(join(tmp, 'spm'));
  const rows: string[] = [];
  for (let r = 0; r < RUNS; r++) {
    const vol = new Float32Array(N * K);
    for (let m = 0; m < K; m++)
      for (let g = 0; g < N; g++)
        vol[m * N + g] = w[g]!.reduce((s, x, d) => s + x * features[m]![d]!, 0) + 0.5 * normal();
    runFiles.push(join(tmp, `run-${r + 1}_betas.nii.gz`));
    writeNifti(runFiles[r]!, { dims: [...DIMS, K], data: vol, affine: AFFINE });
    // SPM numbers its regressors across runs: beta_0001.nii ... beta_0015.nii, here listed backwards.
    for (let m = 0; m < K; m++) {
      const name = `beta_${String(r * K + m + 1).padStart(4, '0')}.nii`;
      writeNifti(join(tmp, 'spm', name), { dims: DIMS, data: vol.slice(m * N, (m + 1) * N), affine: AFFINE });
      rows.push(`${r === 1 ? join(tmp, 'spm', name) : name}\t${ids[m]}\t${r + 1}`);
    }
    rvFiles.push(join(tmp, `run-${r + 1}_rv.nii.gz`));
    writeNifti(rvFiles[r]!, {
      dims: DIMS,
      data: Float32Array.from({ length: N }, (_, g) => 0.4 + 0.05 * r + 0.01 * (g % 3)),
      affine: AFFINE,
    });
  }
  table = join(tmp, 'spm', 'betas.tsv');
  // Runs in order of first appearance (1, 2, 3); images in any order within a run.
  const byRun = [0, 1, 2].map((r) => rows.slice(r * K, (r + 1) * K).reverse());
  writeFileSync(table, `file\timage\trun\n${byRun.flat().join('\n')}\n`);
});

const searchlight = (input: string[], out: string, extra: string[] = []) =>
  runCli([
    'searchlight',
    ...input,
    '--mask',
    join(tmp, 'mask.nii.gz'),
    '--stimuli',
    stimuli,
    '--out',
    out,
    '--radius-vox',
    '1',
    '--threads',
    '2',
    '--no-report',
    ...extra,
  ]);

function maps(dir: string): Map<string, Float32Array> {
  const files = readOutputIndex(dir).files.filter((f) => f.path.endsWith('.nii.gz'));
  return new Map(files.map((f) => [f.path, readNifti(join(dir, f.path)).data as Float32Array]));
}

function expectSameMaps(a: string, b: string): void {
  const ma = maps(a);
  const mb = maps(b);
  expect([...mb.keys()].sort()).toEqual([...ma.keys()].sort());
  let finite = 0;
  for (const [path, x] of ma) {
    const y = mb.get(path)!;
    for (let g = 0; g < x.length; g++) {
      if (Number.isNaN(x[g]!)) expect(Number.isNaN(y[g]!)).toBe(true);
      else {
        expect(Math.abs(x[g]! - y[g]!)).toBeLessThan(1e-5);
        finite++;
      }
    }
  }
  expect(finite).toBeGreaterThan(100);
}

describe('orthostim searchlight --betas-table', () => {
  for (const distance of ['correlation', 'crossnobis'] as const) {
    it(`gives the maps of the same betas stacked in 4D files (${distance})`, async () => {
      const extra = ['--distance', distance, ...(distance === 'crossnobis' ? ['--residuals', ...rvFiles] : [])];
      const from4d = await searchlight(['--betas', ...runFiles], join(tmp, `4d-${distance}`), extra);
      expect(from4d.code).toBe(0);
      const fromTable = await searchlight(['--betas-table', table], join(tmp, `table-${distance}`), extra);
      expect(fromTable.stderr).not.toMatch(/error/);
      expect(fromTable.code).toBe(0);
      expect(fromTable.stdout).toMatch(/searchlight: 3 run\(s\), 140 mask voxels/);
      expectSameMaps(join(tmp, `4d-${distance}`), join(tmp, `table-${distance}`));
    });
  }

  it('refuses an image not in the set, a repeated image of a run, and --betas with --betas-table', async () => {
    const bad = join(tmp, 'spm', 'bad.tsv');
    writeFileSync(bad, 'file\timage\trun\nbeta_0001.nii\tface\t1\nbeta_0002.nii\tdog\t1\n');
    const r1 = await searchlight(['--betas-table', bad], join(tmp, 'bad1'));
    expect(r1.code).toBe(2);
    expect(r1.stderr).toMatch(/bad\.tsv: line 3: image "dog" is not an image of the stimulus set \(ids: face, house/);
    writeFileSync(bad, 'file\timage\trun\nbeta_0001.nii\tface\t1\nbeta_0002.nii\tface\t1\n');
    const r2 = await searchlight(['--betas-table', bad], join(tmp, 'bad2'));
    expect(r2.stderr).toMatch(/bad\.tsv: line 3: image "face" of run "1" already has a beta map \(line 2\)/);
    const r3 = await searchlight(['--betas', runFiles[0]!, '--betas-table', table], join(tmp, 'bad3'));
    expect(r3.code).toBe(2);
    expect(r3.stderr.trim()).toBe('orthostim: error: --betas and --betas-table exclude each other: give one');
  });
});

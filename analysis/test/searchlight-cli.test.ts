/**
 * `orthostim searchlight` through the real command line, on beta maps written by the test: one 4D
 * file per run, and the same betas stacked in one shuffled 4D file with a labels TSV. Checks a
 * centre's r against a hand computation with rdm's reference functions (run-averaged patterns ->
 * correlation-distance RDM -> Spearman with the layer RDM), that both input layouts give the same
 * maps, crossnobis with residual variances, and the one-line errors for bad input.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeRdm, createNormalRng, spearman } from '@orthostim/rdm';
import { runCli, writeTestStimulusSet } from '@orthostim/test';
import { readNifti, writeNifti } from '../src/io/nifti';
import { readOutputIndex } from '../src/pipeline/output-index';
import { computeSphereRdms, prepareSphereData } from '../src/searchlight/sphere-rdms';
import { cosineRdm } from './tiny-study';

const tmp = mkdtempSync(join(tmpdir(), 'orthostim-searchlight-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const DIMS = [7, 8, 9] as const;
const N = DIMS[0] * DIMS[1] * DIMS[2];
const AFFINE = [2.5, 0, 0, -8, 0, 2.5, 0, -10, 0, 0, 3, -12, 0, 0, 0, 1];
const K = 6;
const RUNS = 3;
const ids = ['a1', 'b2', 'c3', 'd4', 'e5', 'f6'];
const at = (i: number, j: number, k: number) => i + DIMS[0] * (j + DIMS[1] * k);

describe('orthostim searchlight', () => {
  const mask = new Uint8Array(N);
  const betas: Float32Array[] = []; // per run, K volumes
  let stimuli = '';
  let layerRdm: Float64Array;
  let otherRdm: Float64Array;
  const files: string[] = [];
  const rvFiles: string[] = [];

  beforeAll(async () => {
    for (let k = 1; k < 8; k++) for (let j = 1; j < 7; j++) for (let i = 1; i < 6; i++) mask[at(i, j, k)] = 1;
    const normal = createNormalRng(3);
    const features = ids.map(() => Float64Array.from({ length: 3 }, () => normal()));
    layerRdm = cosineRdm(features);
    const other = cosineRdm(ids.map(() => Float64Array.from({ length: 3 }, () => normal())));
    otherRdm = other;
    stimuli = await writeTestStimulusSet(join(tmp, 'set'), K, 16, {
      ids,
      distance: 'correlation',
      rdms: { planted: Array.from(layerRdm), other: Array.from(other) },
    });
    // Voxels with i <= 3 carry the planted layer's geometry; the rest is noise.
    const w = Array.from({ length: N }, () => Float64Array.from({ length: 3 }, () => normal()));
    for (let r = 0; r < RUNS; r++) {
      const vol = new Float32Array(N * K);
      for (let g = 0; g < N; g++) {
        if (!mask[g]) continue;
        const i = g % DIMS[0];
        for (let m = 0; m < K; m++) {
          const signal =
            i <= 3 ? w[g]![0]! * features[m]![0]! + w[g]![1]! * features[m]![1]! + w[g]![2]! * features[m]![2]! : 0;
          vol[m * N + g] = 2 * signal + 0.3 * normal();
        }
      }
      betas.push(vol);
      const p = join(tmp, `run-${r + 1}_betas.nii.gz`);
      writeNifti(p, { dims: [...DIMS, K], data: vol, affine: AFFINE });
      files.push(p);
      const rv = Float32Array.from({ length: N }, (_, g) => (mask[g] ? 0.5 + 0.1 * r : 0));
      const q = join(tmp, `run-${r + 1}_rv.nii.gz`);
      writeNifti(q, { dims: DIMS, data: rv, affine: AFFINE });
      rvFiles.push(q);
    }
    writeNifti(join(tmp, 'mask.nii.gz'), { dims: DIMS, data: mask, affine: AFFINE }, { datatype: 'uint8' });
  });

  it('writes r and z maps; a centre matches the hand computation; the planted side wins', async () => {
    const out = join(tmp, 'out-runs');
    const res = await runCli([
      'searchlight',
      '--betas',
      ...files,
      '--mask',
      join(tmp, 'mask.nii.gz'),
      '--stimuli',
      stimuli,
      '--out',
      out,
      '--radius-vox',
      '1',
      '--min-fraction',
      '0.8',
      '--threads',
      '2',
      '--method',
      'both',
    ]);
    expect(res.stderr).not.toMatch(/internal error/);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/searchlight: 3 run\(s\), 210 mask voxels/);
    const index = readOutputIndex(out);
    const rFile = index.files.find((f) => f.layer === 'planted' && f.method === 'standard' && f.stat === 'r')!;
    expect(rFile.path).toBe('desc-planted_rsa-standard_stat-r_statmap.nii.gz');
    const r = readNifti(join(out, rFile.path));
    // Centre (2, 3, 4): its radius-1 sphere is the centre and its 6 face neighbours, all in the mask.
    const sphere = [at(2, 3, 4), at(1, 3, 4), at(3, 3, 4), at(2, 2, 4), at(2, 4, 4), at(2, 3, 3), at(2, 3, 5)];
    const patterns = new Float64Array(K * sphere.length);
    for (let m = 0; m < K; m++)
      sphere.forEach((g, v) => (patterns[m * sphere.length + v] = betas.reduce((s, b) => s + b[m * N + g]!, 0) / RUNS));
    const expected = spearman(computeRdm(patterns, K, sphere.length, 'correlation'), layerRdm);
    expect(r.data[at(2, 3, 4)]).toBeCloseTo(expected, 5);
    const z = readNifti(
      join(out, index.files.find((f) => f.layer === 'planted' && f.method === 'standard' && f.stat === 'z')!.path),
    );
    expect(z.data[at(2, 3, 4)]).toBeCloseTo(Math.atanh(expected), 4);
    // Centres that do not have 80% of their sphere in the mask are NaN; outside the mask too.
    expect(Number.isNaN(r.data[at(1, 1, 1)]!)).toBe(true);
    expect(Number.isNaN(r.data[at(0, 0, 0)]!)).toBe(true);
    // Mean r of the planted layer: high where i <= 2 (spheres fully in the planted side), near 0 where i >= 5.
    const mean = (pick: (i: number) => boolean) => {
      let s = 0;
      let n = 0;
      for (let g = 0; g < N; g++) if (Number.isFinite(r.data[g]!) && pick(g % DIMS[0])) (s += r.data[g]!), n++;
      return s / n;
    };
    expect(mean((i) => i <= 2)).toBeGreaterThan(0.6);
    expect(Math.abs(mean((i) => i >= 5))).toBeLessThan(0.3);
    const sizes = readNifti(join(out, index.files.find((f) => f.stat === 'sphere-size')!.path));
    expect(sizes.data[at(2, 3, 4)]).toBe(7);
    expect(sizes.data[at(1, 1, 1)]).toBe(4); // centre, (2,1,1), (1,2,1), (1,1,2)
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('Layer maps: searchlight');
  });

  it("--model-rdm: a model RDM equal to a layer gives that layer's standard map, under its own name", async () => {
    const copy = join(tmp, 'copy.tsv');
    writeFileSync(copy, `${Array.from(layerRdm).join('\t')}\n`);
    const out = join(tmp, 'out-model');
    const res = await runCli([
      'searchlight',
      '--betas',
      ...files,
      '--mask',
      join(tmp, 'mask.nii.gz'),
      '--stimuli',
      stimuli,
      '--out',
      out,
      '--radius-vox',
      '1',
      '--min-fraction',
      '0.8',
      '--threads',
      '1',
      '--method',
      'residual',
      '--model-rdm',
      `copy=${copy}`,
    ]);
    expect(res.code, res.stderr).toBe(0);
    const index = readOutputIndex(out);
    const model = index.files.filter((f) => f.model === 'copy');
    expect(model.map((f) => [f.stat, f.method, f.layer])).toEqual([
      ['r', 'standard', undefined],
      ['z', 'standard', undefined],
    ]);
    const standard = readNifti(join(tmp, 'out-runs', 'desc-planted_rsa-standard_stat-r_statmap.nii.gz'));
    const r = readNifti(join(out, model[0]!.path));
    expect(Array.from(r.data)).toEqual(Array.from(standard.data));
    // The residual method's maps are those of the layers alone: the copy is not an "other layer"
    // (with it, the planted layer's residual would be 0 everywhere).
    const residual = index.files.find((f) => f.layer === 'planted' && f.stat === 'r')!;
    expect(residual.method).toBe('residual');
    const values = Array.from(readNifti(join(out, residual.path)).data).filter(Number.isFinite);
    expect(Math.max(...values)).toBeGreaterThan(0.5);
    // The report shows the model RDM's (standard) map although the run's method is residual.
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('copy (model RDM): Spearman r');
  });

  it('one stacked 4D file with --labels (volumes in any order) gives the same maps', async () => {
    const order: { run: number; m: number }[] = [];
    for (let r = 0; r < RUNS; r++) for (let m = 0; m < K; m++) order.push({ run: r, m });
    order.reverse();
    const stacked = new Float32Array(N * order.length);
    order.forEach((o, t) => stacked.set(betas[o.run]!.subarray(o.m * N, (o.m + 1) * N), t * N));
    writeNifti(join(tmp, 'stacked.nii'), { dims: [...DIMS, order.length], data: stacked, affine: AFFINE });
    writeFileSync(
      join(tmp, 'labels.tsv'),
      `condition\trun\n${order.map((o) => `${ids[o.m]}\trun${o.run + 1}`).join('\n')}\n`,
    );
    const out = join(tmp, 'out-stacked');
    const res = await runCli([
      'searchlight',
      '--betas',
      join(tmp, 'stacked.nii'),
      '--labels',
      join(tmp, 'labels.tsv'),
      '--mask',
      join(tmp, 'mask.nii.gz'),
      '--stimuli',
      stimuli,
      '--out',
      out,
      '--radius-vox',
      '1',
      '--min-fraction',
      '0.8',
      '--no-report',
    ]);
    expect(res.code).toBe(0);
    const a = readNifti(join(tmp, 'out-runs', 'desc-other_rsa-semipartial_stat-r_statmap.nii.gz'));
    const b = readNifti(join(out, 'desc-other_rsa-semipartial_stat-r_statmap.nii.gz'));
    for (let g = 0; g < N; g++) {
      if (Number.isNaN(a.data[g]!)) expect(Number.isNaN(b.data[g]!)).toBe(true);
      else expect(b.data[g]).toBeCloseTo(a.data[g]!, 5);
    }
    expect(readOutputIndex(out).files.some((f) => f.stat === 'report')).toBe(false);
  });

  it('--residual partial,activation: partial maps (three-variable partial correlation by hand); activation falls back to semipartial with a note', async () => {
    const out = join(tmp, 'out-variants');
    const res = await runCli([
      ...['searchlight', '--betas', ...files, '--mask', join(tmp, 'mask.nii.gz'), '--stimuli', stimuli, '--out', out],
      ...['--radius-vox', '1', '--min-fraction', '0.8', '--method', 'residual', '--residual', 'partial,activation'],
      '--no-report',
    ]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/note: the stimulus set holds no activation-residual RDMs/);
    const index = readOutputIndex(out);
    const entry = (layer: string, residual: string) =>
      index.files.find(
        (f) => f.layer === layer && f.method === 'residual' && f.residual === residual && f.stat === 'r',
      );
    // The set has no activation-residual RDMs: semipartial instead of activation; no standard maps.
    expect(entry('planted', 'activation')).toBeUndefined();
    expect(entry('planted', 'semipartial')!.path).toBe('desc-planted_rsa-semipartial_stat-r_statmap.nii.gz');
    expect(index.files.some((f) => f.method === 'standard')).toBe(false);
    const prov = JSON.parse(readFileSync(join(out, 'analysis.json'), 'utf8')) as { notes: string[] };
    expect(prov.notes.some((n) => n.includes('fell back to semipartial'))).toBe(true);
    // Partial Spearman correlation at centre (2, 3, 4): r_xy.z = (r_xy - r_xz r_yz) / sqrt((1 - r_xz^2)(1 - r_yz^2)).
    const sphere = [at(2, 3, 4), at(1, 3, 4), at(3, 3, 4), at(2, 2, 4), at(2, 4, 4), at(2, 3, 3), at(2, 3, 5)];
    const patterns = new Float64Array(K * sphere.length);
    for (let m = 0; m < K; m++)
      sphere.forEach((g, v) => (patterns[m * sphere.length + v] = betas.reduce((s, b) => s + b[m * N + g]!, 0) / RUNS));
    const x = computeRdm(patterns, K, sphere.length, 'correlation');
    const [rxy, rxz, ryz] = [spearman(x, layerRdm), spearman(x, otherRdm), spearman(layerRdm, otherRdm)];
    const want = (rxy - rxz * ryz) / Math.sqrt((1 - rxz ** 2) * (1 - ryz ** 2));
    const partial = readNifti(join(out, entry('planted', 'partial')!.path));
    expect(partial.data[at(2, 3, 4)]).toBeCloseTo(want, 5);
  });

  it('crossnobis with residual variances', async () => {
    const out = join(tmp, 'out-cn');
    const res = await runCli([
      'searchlight',
      '--betas',
      ...files,
      '--residuals',
      ...rvFiles,
      '--mask',
      join(tmp, 'mask.nii.gz'),
      '--stimuli',
      stimuli,
      '--out',
      out,
      '--radius-vox',
      '1',
      '--distance',
      'crossnobis',
      '--method',
      'standard',
      '--no-report',
    ]);
    expect(res.code).toBe(0);
    const r = readNifti(join(out, 'desc-planted_rsa-standard_stat-r_statmap.nii.gz'));
    // By hand at centre (2, 3, 4): noise-normalised run patterns, then for each image pair the mean
    // over ordered pairs of different runs of the dot product of their differences, divided by p.
    const sphere = [at(2, 3, 4), at(1, 3, 4), at(3, 3, 4), at(2, 2, 4), at(2, 4, 4), at(2, 3, 3), at(2, 3, 5)];
    const p = sphere.length;
    const rv = (run: number) => 0.5 + 0.1 * run;
    const pattern = (run: number, m: number) => sphere.map((g) => betas[run]![m * N + g]! / Math.sqrt(rv(run)));
    const expectedRdm: number[] = [];
    for (let i = 0; i < K; i++) {
      for (let j = i + 1; j < K; j++) {
        let sum = 0;
        for (let a = 0; a < RUNS; a++) {
          for (let b = 0; b < RUNS; b++) {
            if (a === b) continue;
            const pa = pattern(a, i).map((v, q) => v - pattern(a, j)[q]!);
            const pb = pattern(b, i).map((v, q) => v - pattern(b, j)[q]!);
            sum += pa.reduce((s, v, q) => s + v * pb[q]!, 0);
          }
        }
        expectedRdm.push(sum / (RUNS * (RUNS - 1) * p));
      }
    }
    expect(r.data[at(2, 3, 4)]).toBeCloseTo(spearman(expectedRdm, layerRdm), 5);
    const prov = JSON.parse(readFileSync(join(out, 'analysis.json'), 'utf8')) as {
      inputs: { residuals: string[] };
      settings: { resolved: { distance: string } };
    };
    expect(prov.inputs.residuals).toHaveLength(3);
    expect(prov.settings.resolved.distance).toBe('crossnobis');
  });

  it('crossnobis with multivariate noise normalisation from --residual-series', async () => {
    const normal = createNormalRng(17);
    const T = 12;
    const series = Array.from({ length: RUNS }, () =>
      Float32Array.from({ length: N * T }, (_, q) => (mask[q % N] ? normal() : 0)),
    );
    const seriesFiles = series.map((e, r) => {
      const q = join(tmp, `run-${r + 1}_residuals.nii.gz`);
      writeNifti(q, { dims: [...DIMS, T], data: e, affine: AFFINE });
      return q;
    });
    const out = join(tmp, 'out-mnn');
    const args = ['--mask', join(tmp, 'mask.nii.gz'), '--stimuli', stimuli, '--radius-vox', '1'];
    const res = await runCli([
      'searchlight',
      '--betas',
      ...files,
      '--residual-series',
      ...seriesFiles,
      ...args,
      '--out',
      out,
      '--distance',
      'crossnobis',
      '--noise-normalization',
      'multivariate',
      '--method',
      'standard',
      '--no-report',
    ]);
    expect(res.stderr).not.toMatch(/internal error/);
    expect(res.code).toBe(0);
    const r = readNifti(join(out, 'desc-planted_rsa-standard_stat-r_statmap.nii.gz'));
    // The same sphere through the library (checked against rsatoolbox in estimators-reference.test.ts):
    // the runs' residuals stacked per voxel, dof = rows - 1 (rsatoolbox's default).
    const sphere = [at(2, 3, 4), at(1, 3, 4), at(3, 3, 4), at(2, 2, 4), at(2, 4, 4), at(2, 3, 3), at(2, 3, 5)];
    const p = sphere.length;
    const data = prepareSphereData(
      'crossnobis',
      {
        data: Float32Array.from({ length: RUNS * K * p }, (_, q) => {
          const v = q % p;
          const m = Math.floor(q / p) % K;
          return betas[Math.floor(q / (p * K))]![m * N + sphere[v]!]!;
        }),
        nRuns: RUNS,
        nImages: K,
        nVoxels: p,
      },
      undefined,
      {
        normalization: 'multivariate',
        residualSeries: {
          values: Float32Array.from({ length: p * RUNS * T }, (_, q) => {
            const v = Math.floor(q / (RUNS * T));
            const row = q % (RUNS * T);
            return series[Math.floor(row / T)]![(row % T) * N + sphere[v]!]!;
          }),
          nRows: RUNS * T,
          dof: RUNS * T - 1,
        },
      },
    );
    const rdm = new Float64Array((K * (K - 1)) / 2);
    computeSphereRdms(
      data,
      Int32Array.from([0, p]),
      Int32Array.from({ length: p }, (_, i) => i),
      0,
      1,
      rdm,
    );
    expect(r.data[at(2, 3, 4)]).toBeCloseTo(spearman(Array.from(rdm), layerRdm), 5);
    const refused = await runCli([
      'searchlight',
      '--betas',
      ...files,
      ...args,
      '--out',
      join(tmp, 'out-mnn-missing'),
      '--distance',
      'crossnobis',
      '--noise-normalization',
      'multivariate',
    ]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--noise-normalization multivariate needs --residual-series/);
  });

  it('one-line errors: wrong volume count, another grid, residual count, existing output', async () => {
    const base = ['searchlight', '--mask', join(tmp, 'mask.nii.gz'), '--stimuli', stimuli, '--radius-vox', '1'];
    writeNifti(join(tmp, 'five.nii.gz'), { dims: [...DIMS, 5], data: new Float32Array(N * 5), affine: AFFINE });
    const five = await runCli([...base, '--betas', join(tmp, 'five.nii.gz'), '--out', join(tmp, 'e1')]);
    expect(five.code).toBe(2);
    expect(five.stderr).toMatch(/five\.nii\.gz: 5 volume\(s\), but the stimulus set has 6 images/);
    const shifted = AFFINE.slice();
    shifted[3] = -7;
    mkdirSync(join(tmp, 'g'), { recursive: true });
    writeNifti(join(tmp, 'g', 'shifted.nii.gz'), { dims: [...DIMS, K], data: betas[0]!, affine: shifted });
    const grid = await runCli([...base, '--betas', join(tmp, 'g', 'shifted.nii.gz'), '--out', join(tmp, 'e2')]);
    expect(grid.code).toBe(2);
    expect(grid.stderr).toMatch(/--mask and the betas: .* are on different voxel grids/);
    const rv = await runCli([
      ...base,
      '--betas',
      ...files,
      '--residuals',
      rvFiles[0]!,
      '--distance',
      'crossnobis',
      '--out',
      join(tmp, 'e3'),
    ]);
    expect(rv.code).toBe(2);
    expect(rv.stderr).toMatch(/--residuals: 1 file\(s\) for 3 run\(s\)/);
    const again = await runCli([...base, '--betas', ...files, '--out', join(tmp, 'out-runs')]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(
      /out-runs: output folder exists and is not empty; choose another folder or pass --overwrite/,
    );
  });
});

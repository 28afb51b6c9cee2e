/**
 * End to end through the real command line: `orthostim analyze` participant then group on a tiny
 * BIDS study (9 x 10 x 11 voxels, 3 participants x 2 short runs) where two layers' RDMs are planted
 * in two known regions (tiny-study.ts). Checks the BIDS-Apps conventions, index.json against the
 * files on disk, that each planted layer is found in its region, the missed-trial and fault-marker
 * handling, and the refusals.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OUTPUT_MARKER } from '@orthostim/protocol/node';
import { runCli, writeTestStimulusSet } from '@orthostim/test';
import { readNifti, writeNifti } from '../src/io/nifti';
import { OUTPUTS_SCHEMA, readOutputIndex, type OutputIndex } from '../src/pipeline/output-index';
import { inBox, writeTinyStudy, type TinyStudy } from './tiny-study';

const tmp = mkdtempSync(join(tmpdir(), 'orthostim-analyze-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function listFiles(dir: string, root = dir): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? listFiles(p, root) : [relative(root, p)];
  });
}

/** Mean of a map's finite values over the voxels where `pick(i, j, k)` holds. */
function regionMean(
  data: ArrayLike<number>,
  dims: readonly number[],
  pick: (i: number, j: number, k: number) => boolean,
): number {
  let s = 0;
  let n = 0;
  for (let g = 0; g < data.length; g++) {
    const v = data[g]!;
    const i = g % dims[0]!;
    const j = Math.floor(g / dims[0]!) % dims[1]!;
    const k = Math.floor(g / (dims[0]! * dims[1]!));
    if (Number.isFinite(v) && pick(i, j, k)) {
      s += v;
      n++;
    }
  }
  return s / n;
}

describe('orthostim analyze (tiny planted study)', () => {
  let study: TinyStudy;
  const bids = join(tmp, 'bids');
  const out = join(tmp, 'derivatives');
  const others = (layer: string) => (i: number, j: number, k: number) => !inBox(study.regions[layer]!, i, j, k);

  beforeAll(async () => {
    study = await writeTinyStudy(bids);
  });

  it('participant level: one folder per participant, index.json lists every file, planted layers found in their regions', async () => {
    const res = await runCli([
      'analyze',
      bids,
      out,
      'participant',
      '--stimuli',
      study.stimuli,
      '--threads',
      '2',
      '--participant-label',
      '01',
      'sub-02',
      '03',
    ]);
    expect(res.stderr).not.toMatch(/internal error/);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/sub-01: 2 run\(s\), 504 mask voxels/);
    const description = JSON.parse(readFileSync(join(out, 'dataset_description.json'), 'utf8')) as {
      DatasetType: string;
      GeneratedBy: { Name: string }[];
    };
    expect(description.DatasetType).toBe('derivative');
    expect(description.GeneratedBy[0]!.Name).toBe('orthostim');
    for (const sub of study.participants) {
      const dir = join(out, `sub-${sub}`);
      const index: OutputIndex = readOutputIndex(dir);
      expect(index.schema).toBe(OUTPUTS_SCHEMA);
      // Every listed file exists, and every file (but index.json and the output marker) is listed.
      const onDisk = listFiles(dir)
        .filter((f) => f !== 'index.json' && f !== OUTPUT_MARKER)
        .sort();
      expect(index.files.map((f) => f.path).sort()).toEqual(onDisk);
      for (const f of index.files) {
        expect(f.level).toBe('participant');
        expect(f.participant).toBe(sub);
      }
      // r and z for every layer and method, with the real layer name and the BIDS label in the file name.
      for (const layer of study.layers) {
        for (const method of ['standard', 'residual'] as const) {
          for (const stat of ['r', 'z']) {
            const hits = index.files.filter((f) => f.layer === layer && f.method === method && f.stat === stat);
            expect(hits).toHaveLength(1);
            expect(hits[0]!.path).toContain(`desc-${layer.replace(/_/g, '')}_`);
            expect(hits[0]!.path).toContain(method === 'residual' ? '_rsa-semipartial_' : '_rsa-standard_');
          }
        }
      }
      for (const stat of ['wta', 'sphere-size', 'tsnr', 'mean-epi', 'report', 'provenance'])
        expect(index.files.some((f) => f.stat === stat)).toBe(true);
      expect(index.files.filter((f) => f.stat === 'beta')).toHaveLength(2 * study.images.length);
      // Each run's design as TSV, JSON and an SVG figure with one raster of the matrix.
      const designs = index.files.filter((f) => f.stat === 'design');
      expect(designs.map((f) => f.format).sort()).toEqual(['json', 'json', 'svg', 'svg', 'tsv', 'tsv']);
      for (const f of designs.filter((x) => x.format === 'svg')) {
        expect(f.run).toBeDefined();
        const svg = readFileSync(join(dir, f.path), 'utf8');
        expect(svg).toMatch(/^<svg[^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
        expect(svg).toMatch(/<image[^>]+href="data:image\/png;base64,/);
      }
      const provenance = JSON.parse(readFileSync(join(dir, 'analysis.json'), 'utf8')) as {
        settings: { resolved: { searchlight: { radius: unknown; distance: string } } };
        versions: { orthostim: string };
      };
      expect(provenance.settings.resolved.searchlight).toMatchObject({
        radius: { value: 6, unit: 'mm' },
        distance: 'correlation',
      });
      expect(provenance.versions.orthostim).toMatch(/^\d+\.\d+\.\d+/);

      // The planted layers: each one's z map is high in its own region and near 0 elsewhere.
      for (const layer of ['inception_3a', 'inception_4e']) {
        const f = index.files.find((x) => x.layer === layer && x.method === 'standard' && x.stat === 'z')!;
        const z = readNifti(join(dir, f.path));
        const inside = regionMean(z.data, study.dims, (i, j, k) => inBox(study.regions[layer]!, i, j, k));
        const outside = regionMean(z.data, study.dims, others(layer));
        expect(inside).toBeGreaterThan(1);
        expect(inside - outside).toBeGreaterThan(0.8);
      }
      // Winner-take-all at the core of each region is that region's layer.
      const wta = readNifti(join(dir, index.files.find((x) => x.stat === 'wta' && x.method === 'standard')!.path));
      const core = (b: { i: number[]; j: number[]; k: number[] }) =>
        [
          Math.round((b.i[0]! + b.i[1]!) / 2),
          Math.round((b.j[0]! + b.j[1]!) / 2),
          Math.round((b.k[0]! + b.k[1]!) / 2),
        ] as const;
      for (const layer of ['inception_3a', 'inception_4e']) {
        const [i, j, k] = core(study.regions[layer]!);
        expect(wta.data[i + 9 * (j + 10 * k)]).toBe(study.layers.indexOf(layer) + 1);
      }
      // Run 1 holds a missed trial (stim_id img-a) and a display_disconnected marker: the first is a
      // regressor of no interest, the second is not modelled, and img-a keeps its own regressor.
      const design = JSON.parse(readFileSync(join(dir, 'glm', `sub-${sub}_task-rdm_run-1_design.json`), 'utf8')) as {
        columns: { name: string; kind: string }[];
      };
      expect(design.columns.filter((c) => c.kind === 'nuisance').map((c) => c.name)).toEqual([
        'fixation_change',
        'missed',
      ]);
      expect(design.columns.find((c) => c.name === 'img-a')?.kind).toBe('image');
      const report = readFileSync(join(dir, 'report.html'), 'utf8');
      expect(report).toContain('Design matrix, run 1');
      expect(report).toContain('<code>missed</code>');
      expect((report.match(/data:image\/png;base64/g) ?? []).length).toBeGreaterThan(8);
    }
  });

  it('crossnobis with multivariate noise normalisation from the GLM residuals, on smoothed BOLD', async () => {
    const out2 = join(tmp, 'derivatives-mnn');
    const res = await runCli([
      'analyze',
      bids,
      out2,
      'participant',
      '--stimuli',
      study.stimuli,
      '--participant-label',
      '01',
      '--distance',
      'crossnobis',
      '--noise-normalization',
      'multivariate',
      '--smoothing-fwhm',
      '3',
      '--method',
      'standard',
      '--threads',
      '2',
    ]);
    expect(res.stderr).not.toMatch(/internal error/);
    expect(res.code).toBe(0);
    const dir = join(out2, 'sub-01');
    const design = JSON.parse(readFileSync(join(dir, 'glm', 'sub-01_task-rdm_run-1_design.json'), 'utf8'));
    expect(design).toMatchObject({ noiseModel: 'ar1', ar1Estimator: 'yule-walker', smoothingFwhmMm: 3 });
    const provenance = JSON.parse(readFileSync(join(dir, 'analysis.json'), 'utf8'));
    expect(provenance.settings.resolved.searchlight).toMatchObject({
      distance: 'crossnobis',
      noiseNormalization: 'multivariate',
    });
    const index = readOutputIndex(dir);
    const layer = 'inception_3a';
    const f = index.files.find((x) => x.layer === layer && x.method === 'standard' && x.stat === 'z')!;
    const z = readNifti(join(dir, f.path));
    const inside = regionMean(z.data, study.dims, (i, j, k) => inBox(study.regions[layer]!, i, j, k));
    const outside = regionMean(z.data, study.dims, others(layer));
    expect(inside - outside).toBeGreaterThan(0.5);
    const report = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(report).toContain('ar1 (yule-walker)');
    expect(report).toContain('crossnobis, multivariate noise normalisation');
  });

  it('refuses to rerun a participant with outputs unless --overwrite; --overwrite replaces it', async () => {
    const again = await runCli([
      'analyze',
      bids,
      out,
      'participant',
      '--stimuli',
      study.stimuli,
      '--participant-label',
      '02',
    ]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/sub-02 already has outputs; pass --overwrite/);
    const before = statSync(join(out, 'sub-02', 'index.json')).mtimeMs;
    const forced = await runCli([
      'analyze',
      bids,
      out,
      'participant',
      '--stimuli',
      study.stimuli,
      '--participant-label',
      '02',
      '--overwrite',
      '--threads',
      '1',
      '--method',
      'standard',
    ]);
    expect(forced.code).toBe(0);
    const index = readOutputIndex(join(out, 'sub-02'));
    expect(statSync(join(out, 'sub-02', 'index.json')).mtimeMs).toBeGreaterThan(before);
    expect(index.files.some((f) => f.method === 'residual')).toBe(false);
    // Put the full analysis back for the group test.
    const restore = await runCli([
      'analyze',
      bids,
      out,
      'participant',
      '--stimuli',
      study.stimuli,
      '--participant-label',
      '02',
      '--overwrite',
      '--threads',
      '2',
    ]);
    expect(restore.code).toBe(0);
  });

  it('refuses output == input and lists unknown participant labels', async () => {
    const same = await runCli(['analyze', bids, bids, 'participant', '--stimuli', study.stimuli]);
    expect(same.code).toBe(2);
    expect(same.stderr).toMatch(/output_dir .* is the input dataset/);
    const unknown = await runCli([
      'analyze',
      bids,
      join(tmp, 'other'),
      'participant',
      '--stimuli',
      study.stimuli,
      '--participant-label',
      '01',
      '07',
      'sub-09',
    ]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/"07", "09" not found .*participants are 01, 02, 03/);
    expect(existsSync(join(tmp, 'other', 'sub-01'))).toBe(false);
  });

  it('a failure with progress bars drawing ends the command at once, with one line and exit 2', async () => {
    // A stimulus set whose images no run shows: the GLM stage fails while its bar is drawing.
    const other = await writeTestStimulusSet(join(tmp, 'other-set'), 4, 16);
    const res = await runCli(
      ['analyze', bids, join(tmp, 'out-fail'), 'participant', '--stimuli', other, '--participant-label', '01'],
      { env: { ORTHOSTIM_PROGRESS: '1' }, timeoutMs: 60_000 },
    );
    expect(res.code).toBe(2); // -1 when the runner had to kill a process that hung
    expect(res.stderr).toMatch(/orthostim: error: .*events\.tsv: /);
    expect(res.stderr.split('\n').filter((l) => l.startsWith('orthostim:'))).toHaveLength(1);
    expect(existsSync(join(tmp, 'out-fail', 'sub-01'))).toBe(false);
  });

  it('fMRIPrep derivatives: preprocessed BOLD in a space, its mask and motion confounds', async () => {
    const root = join(tmp, 'bids-fmriprep');
    const fp = await writeTinyStudy(root, { participants: 1, fmriprep: true });
    const dir = join(tmp, 'out-fmriprep');
    const res = await runCli([
      'analyze',
      root,
      dir,
      'participant',
      '--stimuli',
      fp.stimuli,
      '--derivatives',
      join(root, 'derivatives', 'fmriprep'),
      '--threads',
      '2',
      '--method',
      'standard',
    ]);
    expect(res.stderr).not.toMatch(/internal error/);
    expect(res.code).toBe(0);
    const index = readOutputIndex(join(dir, 'sub-01'));
    expect(new Set(index.files.map((f) => f.space))).toEqual(new Set(['MNI152NLin2009cAsym']));
    const z = index.files.find((f) => f.layer === 'inception_3a' && f.stat === 'z')!;
    expect(z.path).toBe(
      'rsa/sub-01_task-rdm_space-MNI152NLin2009cAsym_desc-inception3a_rsa-standard_stat-z_statmap.nii.gz',
    );
    const design = JSON.parse(
      readFileSync(join(dir, 'sub-01', 'glm', 'sub-01_task-rdm_run-1_space-MNI152NLin2009cAsym_design.json'), 'utf8'),
    ) as { columns: { name: string; kind: string }[] };
    expect(design.columns.filter((c) => c.kind === 'confound').map((c) => c.name)).toEqual([
      'trans_x',
      'trans_y',
      'trans_z',
      'rot_x',
      'rot_y',
      'rot_z',
    ]);
    const map = readNifti(join(dir, 'sub-01', z.path));
    const inside = regionMean(map.data, fp.dims, (i, j, k) => inBox(fp.regions.inception_3a!, i, j, k));
    expect(
      inside - regionMean(map.data, fp.dims, (i, j, k) => !inBox(fp.regions.inception_3a!, i, j, k)),
    ).toBeGreaterThan(0.8);
  });

  it('group level: effect maps, FWE maps, overlap and clusters; says that 3 participants cannot reach p < .05', async () => {
    const res = await runCli(['analyze', bids, out, 'group', '--n-permutations', '1000']);
    expect(res.stderr).not.toMatch(/internal error/);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(
      /group: 3 participants \(01, 02, 03\), 6 layer map\(s\) tested, 8 sign patterns \(all\)/,
    );
    const dir = join(out, 'group');
    const index = readOutputIndex(dir);
    expect(index.files.map((f) => f.path).sort()).toEqual(
      listFiles(dir)
        .filter((f) => f !== 'index.json' && f !== OUTPUT_MARKER)
        .sort(),
    );
    for (const layer of study.layers) {
      for (const method of ['standard', 'residual']) {
        // 3 participants (< 20): variance smoothing by default, so the statistic is the pseudo-t.
        for (const stat of ['mean-z', 'pseudo-t', 'p', 'fwe-p', 'thresholded-pseudo-t']) {
          expect(
            index.files.filter(
              (f) => f.level === 'group' && f.layer === layer && f.method === method && f.stat === stat,
            ),
          ).toHaveLength(1);
        }
      }
    }
    for (const stat of ['wta', 'wta-effect', 'dice', 'clusters', 'report'])
      expect(index.files.some((f) => f.stat === stat)).toBe(true);
    // 2^3 = 8 sign patterns: the smallest p is 2/8, so nothing is significant, and the report says so.
    const fwe = readNifti(
      join(
        dir,
        index.files.find((f) => f.layer === 'inception_3a' && f.method === 'standard' && f.stat === 'fwe-p')!.path,
      ),
    );
    expect(Math.min(...Array.from(fwe.data).filter(Number.isFinite))).toBeCloseTo(0.25, 6);
    const report = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(report).toMatch(/No voxel can reach p &lt; 0.05 here/);
    expect(report).toMatch(/effect map \(mean z\)/);
    // The effect map of each planted layer is high in its region.
    for (const layer of ['inception_3a', 'inception_4e']) {
      const mz = readNifti(
        join(dir, index.files.find((f) => f.layer === layer && f.method === 'standard' && f.stat === 'mean-z')!.path),
      );
      const inside = regionMean(mz.data, study.dims, (i, j, k) => inBox(study.regions[layer]!, i, j, k));
      expect(inside - regionMean(mz.data, study.dims, others(layer))).toBeGreaterThan(0.8);
    }
    const dice = readFileSync(
      join(dir, index.files.find((f) => f.stat === 'dice' && f.method === 'standard')!.path),
      'utf8',
    );
    expect(dice.split('\n')[0]).toBe(`layer\t${study.layers.join('\t')}`);
  });

  it('group level with 6 participants: significant voxels, thresholded maps, winner-take-all and clusters with atlas labels', async () => {
    const root = join(tmp, 'bids-six');
    const six = await writeTinyStudy(root, { participants: 6, seed: 21 });
    const dir = join(tmp, 'out-six');
    const part = await runCli([
      'analyze',
      root,
      dir,
      'participant',
      '--stimuli',
      six.stimuli,
      '--threads',
      '2',
      '--method',
      'standard',
    ]);
    expect(part.code).toBe(0);
    // Atlas: a posterior (j <= 4, holding the inception_3a box) and an anterior half (the inception_4e box).
    const atlas = Uint8Array.from({ length: six.mask.length }, (_, g) => (Math.floor(g / 9) % 10 <= 4 ? 1 : 2));
    writeNifti(
      join(tmp, 'atlas.nii.gz'),
      { dims: six.dims, data: atlas, affine: six.affine },
      { datatype: 'uint8', intent: 'label' },
    );
    writeFileSync(join(tmp, 'atlas.tsv'), 'index\tname\n1\tposterior\n2\tanterior\n');
    const res = await runCli([
      'analyze',
      root,
      dir,
      'group',
      '--atlas',
      join(tmp, 'atlas.nii.gz'),
      '--atlas-labels',
      join(tmp, 'atlas.tsv'),
    ]);
    expect(res.stderr).not.toMatch(/internal error/);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/6 participants .* 64 sign patterns \(all\)/);
    expect(res.stdout).not.toMatch(/no voxel can reach/);
    const gdir = join(dir, 'group');
    const index = readOutputIndex(gdir);
    const clusters = readFileSync(join(gdir, index.files.find((f) => f.stat === 'clusters')!.path), 'utf8')
      .trim()
      .split('\n');
    expect(clusters[0]).toBe(
      'layer\tmethod\tcluster\tsize_voxels\tvolume_mm3\tpeak_pseudot\tpeak_x_mm\tpeak_y_mm\tpeak_z_mm\tpeak_i\tpeak_j\tpeak_k\tpeak_label',
    );
    const rows = clusters.slice(1).map((l) => l.split('\t'));
    // Each planted layer's largest cluster peaks in the half that holds its box (positive t).
    for (const [layer, label] of [
      ['inception_3a', 'posterior'],
      ['inception_4e', 'anterior'],
    ] as const) {
      const first = rows.find((r) => r[0] === layer && r[2] === '1');
      expect(first, layer).toBeDefined();
      expect(first![12]).toBe(label);
      expect(Number(first![5])).toBeGreaterThan(0);
    }
    // The thresholded map is nonzero exactly where FWE p < 0.05.
    const thr = readNifti(
      join(gdir, index.files.find((f) => f.layer === 'inception_3a' && f.stat === 'thresholded-pseudo-t')!.path),
    );
    const fwe = readNifti(join(gdir, index.files.find((f) => f.layer === 'inception_3a' && f.stat === 'fwe-p')!.path));
    let significant = 0;
    for (let g = 0; g < thr.data.length; g++) {
      const sig = fwe.data[g]! < 0.05;
      if (sig) significant++;
      expect(thr.data[g] !== 0).toBe(sig);
    }
    expect(significant).toBeGreaterThan(10);
    expect(Math.min(...Array.from(fwe.data).filter(Number.isFinite))).toBeCloseTo(2 / 64, 6);
    // Winner-take-all over significant voxels: each box core goes to its layer.
    const wta = readNifti(join(gdir, index.files.find((f) => f.stat === 'wta' && f.method === 'standard')!.path));
    expect(wta.data[2 + 9 * (2 + 10 * 3)]).toBe(six.layers.indexOf('inception_3a') + 1);
    expect(wta.data[6 + 9 * (6 + 10 * 7)]).toBe(six.layers.indexOf('inception_4e') + 1);
    const report = readFileSync(join(gdir, 'report.html'), 'utf8');
    expect(report).not.toMatch(/No voxel can reach/);
    expect(report).toContain('Winner-take-all over significant voxels (standard)');
    expect(report).toContain('atlas label at peak');
  });
});

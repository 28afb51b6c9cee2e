import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatEventsTsv, type EventsRow } from '@orthostim/protocol';
import { createNormalRng } from '@orthostim/rdm';
import { hasShared, requireShared } from '@orthostim/test';
import { buildRunDesign } from '../glm/design-matrix';
import { findStudyRuns, inheritedSidecar, readBidsDataset, selectParticipants } from './bids';
import { readNifti, writeNifti } from './nifti';
import { fitStudyRun, imageDescLabels } from './run-glm';

const tmp = mkdtempSync(join(tmpdir(), 'orthostim-runglm-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const HAXBY = 'data/bids/haxby2001';
const CATEGORIES = ['scissors', 'face', 'cat', 'shoe', 'house', 'scrambledpix', 'bottle', 'chair'];
const fakeSha = (c: string) => c.repeat(64).slice(0, 64);

describe.skipIf(!hasShared(HAXBY))('BIDS reading and one-run GLM on ../shared/data/bids/haxby2001', () => {
  it('finds the participant, 12 runs with events, the inherited TR and the brain mask', () => {
    const ds = readBidsDataset(requireShared(HAXBY));
    expect(ds.participants).toEqual(['1']);
    expect(selectParticipants(ds, ['sub-1'])).toEqual(['1']);
    expect(selectParticipants(ds)).toEqual(['1']);
    expect(() => selectParticipants(ds, ['01', '7'])).toThrow(
      /--participant-label: "01", "7" not found in .*; participants are 1/,
    );
    const runs = findStudyRuns(ds, '1');
    expect(runs.map((r) => r.run)).toEqual(Array.from({ length: 12 }, (_, i) => String(i + 1)));
    for (const r of runs) {
      expect(r.task).toBe('objects');
      expect(r.repetitionTimeS).toBe(2.5); // from the top-level task-objects_bold.json
      expect(r.eventsPath).toMatch(/sub-1_task-objects_run-\d+_events\.tsv$/);
      expect(r.maskPath).toMatch(/derivatives\/masks\/sub-1\/sub-1_desc-brain_mask\.nii\.gz$/);
      expect(r.confoundsPath).toBeNull();
    }
    expect(() => findStudyRuns(ds, '1', { task: 'rest' })).toThrow(
      /--task: "rest" not found for participant 1; tasks are objects/,
    );
  });

  it('fits run 1: 8 beta maps on the mask grid, residual variance, design with 4 cosines', async () => {
    const ds = readBidsDataset(requireShared(HAXBY));
    const [run] = findStudyRuns(ds, '1');
    const out = join(tmp, 'haxby');
    mkdirSync(out);
    const images = CATEGORIES.map((id) => ({ id, file: `${id}.png` }));
    const res = await fitStudyRun(run!, { stimulusSet: { sha256: fakeSha('a'), images }, outDir: out, threads: 2 });
    expect(res.design.columns.map((c) => c.name)).toEqual([
      ...CATEGORIES,
      'cosine00',
      'cosine01',
      'cosine02',
      'cosine03',
      'constant',
    ]);
    expect(res.repetitionTimeS).toBe(2.5);
    const betas = res.files.filter((f) => f.stat === 'beta');
    expect(betas.map((f) => f.path)).toEqual(CATEGORIES.map((c) => `sub-1_task-objects_run-1_desc-${c}_beta.nii.gz`));
    const mask = readNifti(run!.maskPath!);
    const face = readNifti(join(out, betas[1]!.path));
    expect(face.dims).toEqual([6, 10, 10, 1]);
    face.affine.forEach((v, i) => expect(v).toBeCloseTo(mask.affine[i]!, 4));
    const rv = readNifti(join(out, 'sub-1_task-objects_run-1_desc-residual_variance.nii.gz'));
    let inside = 0;
    for (let i = 0; i < 600; i++) {
      if (mask.data[i]! > 0) {
        inside++;
        expect(rv.data[i]).toBeGreaterThan(0);
        expect(Number.isFinite(face.data[i]!)).toBe(true);
      } else {
        expect(face.data[i]).toBe(0);
      }
    }
    expect(inside).toBe(res.nVoxels);
    expect(res.skipped).toEqual({ nonFinite: 0, zeroMean: 0, constant: 0 });
  });
});

/** A tiny BIDS dataset with fMRIPrep-style derivatives and a planted signal. */
function makeTinyDataset(
  root: string,
  opts: { sidecarTr?: number; sha?: string; stimFile?: (id: string) => string } = {},
) {
  const images = ['img-a', 'img-b', 'img-c'];
  const T = 80;
  const tr = 2;
  const dims = [7, 8, 9];
  const affine = [-3, 0, 0, 90, 0, 3, 0, -120, 0, 0, 3.5, -60, 0, 0, 0, 1];
  mkdirSync(join(root, 'sub-01', 'func'), { recursive: true });
  writeFileSync(join(root, 'dataset_description.json'), JSON.stringify({ Name: 'tiny', BIDSVersion: '1.8.0' }));
  writeFileSync(
    join(root, 'task-demo_bold.json'),
    JSON.stringify({ RepetitionTime: opts.sidecarTr ?? tr, TaskName: 'demo' }),
  );
  const rows: EventsRow[] = [];
  const base = { planned_onset: null, response_time: null, trial_index: null, response_key: null };
  for (let i = 0; i < 12; i++) {
    const id = images[i % 3]!;
    rows.push({
      ...base,
      onset: 6 + i * 12,
      duration: 3,
      trial_type: id,
      stim_file: (opts.stimFile ?? ((x) => `orthostim-abc/images/${x}.png`))(id),
      stim_id: id,
    });
    rows.push({ ...base, onset: 12 + i * 12, duration: 3, trial_type: 'null', stim_file: null, stim_id: null });
  }
  rows.push({ ...base, onset: 40, duration: 0, trial_type: 'response', stim_file: null, stim_id: null });
  const stem = join(root, 'sub-01', 'func', 'sub-01_task-demo_run-1');
  writeFileSync(`${stem}_events.tsv`, formatEventsTsv(rows));
  writeFileSync(`${stem}_events.json`, JSON.stringify({ StimulusSetSha256: opts.sha ?? fakeSha('b') }));
  // Planted signal: voxel v responds to image k with beta[k] = (k + 1) * (v % 5 + 1) / 5 percent.
  const design = buildRunDesign({
    nScans: T,
    repetitionTimeS: tr,
    images,
    events: rows.map((r) => ({
      onsetS: r.onset,
      durationS: r.duration,
      imageId: images.includes(r.trial_type) ? r.trial_type : null,
      trialType: r.trial_type,
    })),
  });
  const nvox = dims[0]! * dims[1]! * dims[2]!;
  const data = new Float32Array(nvox * T);
  const noise = createNormalRng(3);
  const motion = Array.from({ length: 6 }, (_, c) =>
    Float64Array.from({ length: T }, (_, t) => 0.05 * Math.sin((t + c) / 9)),
  );
  for (let v = 0; v < nvox; v++) {
    for (let t = 0; t < T; t++) {
      let s = 0;
      for (let k = 0; k < 3; k++) s += (design.values[t * design.nCols + k]! * ((k + 1) * ((v % 5) + 1))) / 5;
      data[t * nvox + v] = 1000 * (1 + s / 100) + 0.01 * noise(); // high SNR: 0.001 % noise
    }
  }
  const deriv = join(root, 'derivatives', 'fmriprep', 'sub-01', 'func');
  mkdirSync(deriv, { recursive: true });
  writeNifti(`${stem}_bold.nii.gz`, { dims: [...dims, T], data, affine }, { repetitionTimeS: tr });
  const pre = join(deriv, 'sub-01_task-demo_run-1_space-MNI152NLin2009cAsym');
  writeNifti(`${pre}_desc-preproc_bold.nii.gz`, { dims: [...dims, T], data, affine }, { repetitionTimeS: tr });
  const mask = new Float32Array(nvox).map((_, i) => (i % 7 === 3 ? 0 : 1));
  writeNifti(`${pre}_desc-brain_mask.nii.gz`, { dims, data: mask, affine }, { datatype: 'uint8' });
  const confHeader = ['trans_x', 'trans_y', 'trans_z', 'rot_x', 'rot_y', 'rot_z', 'framewise_displacement'];
  const confRows = Array.from({ length: T }, (_, t) =>
    [...motion.map((m) => m[t]!.toFixed(6)), t === 0 ? 'n/a' : '0.1'].join('\t'),
  );
  writeFileSync(
    join(deriv, 'sub-01_task-demo_run-1_desc-confounds_timeseries.tsv'),
    `${confHeader.join('\t')}\n${confRows.join('\n')}\n`,
  );
  return { images, nvox, mask, derivatives: join(root, 'derivatives', 'fmriprep') };
}

describe('fitStudyRun on a tiny BIDS dataset with fMRIPrep derivatives', () => {
  const setImages = ['img-a', 'img-b', 'img-c'].map((id) => ({ id, file: `images/${id}.png` }));

  it('finds preproc BOLD, mask and confounds, and recovers the planted betas', async () => {
    const root = join(tmp, 'tiny');
    const t = makeTinyDataset(root);
    const ds = readBidsDataset(root);
    const [run] = findStudyRuns(ds, '01', { derivatives: [t.derivatives] });
    expect(run!.boldPath).toMatch(/space-MNI152NLin2009cAsym_desc-preproc_bold\.nii\.gz$/);
    expect(run!.maskPath).toMatch(/desc-brain_mask\.nii\.gz$/);
    expect(run!.confoundsPath).toMatch(/desc-confounds_timeseries\.tsv$/);
    expect(run!.eventsMetadata.StimulusSetSha256).toBe(fakeSha('b'));
    const out = join(tmp, 'tiny-out');
    mkdirSync(out);
    const res = await fitStudyRun(run!, {
      stimulusSet: { sha256: fakeSha('b'), images: setImages },
      outDir: out,
      threads: 2,
    });
    expect(res.design.columns.filter((c) => c.kind === 'confound').map((c) => c.name)).toEqual([
      'trans_x',
      'trans_y',
      'trans_z',
      'rot_x',
      'rot_y',
      'rot_z',
    ]);
    expect(res.nuisanceRegressors).toEqual(['response']);
    const label = imageDescLabels(['img-a', 'img-b', 'img-c']);
    expect([...label.values()]).toEqual(['imga', 'imgb', 'imgc']);
    for (let k = 0; k < 3; k++) {
      const map = readNifti(
        join(out, `sub-01_task-demo_run-1_space-MNI152NLin2009cAsym_desc-${label.get(setImages[k]!.id)}_beta.nii.gz`),
      );
      for (let v = 0; v < t.nvox; v++) {
        if (t.mask[v] === 0) expect(map.data[v]).toBe(0);
        else expect(map.data[v]).toBeCloseTo(((k + 1) * ((v % 5) + 1)) / 5, 1);
      }
    }
  });

  it('refuses another stimulus set, unknown stim_files, late events, missing events and mismatched masks', async () => {
    const root = join(tmp, 'tiny-bad');
    const t = makeTinyDataset(root);
    const ds = readBidsDataset(root);
    const [run] = findStudyRuns(ds, '01', { derivatives: [t.derivatives] });
    const out = join(tmp, 'tiny-bad-out');
    mkdirSync(out);
    const opts = { stimulusSet: { sha256: fakeSha('c'), images: setImages }, outDir: out };
    await expect(fitStudyRun(run!, opts)).rejects.toThrow(
      /events\.json records stimulus set sha256 b+, but --stimuli has c+/,
    );
    const fewer = { stimulusSet: { sha256: fakeSha('b'), images: setImages.slice(0, 2) }, outDir: out };
    await expect(fitStudyRun(run!, fewer)).rejects.toThrow(
      /stim_file "orthostim-abc\/images\/img-c\.png" is not an image of the stimulus set/,
    );
    const ok = { stimulusSet: { sha256: fakeSha('b'), images: setImages }, outDir: out };
    await expect(fitStudyRun({ ...run!, repetitionTimeS: 0.5 }, ok)).rejects.toThrow(
      /event\(s\) start at or after the end of the run .*80 volumes x TR 0\.5 s = 40 s/,
    );
    await expect(fitStudyRun({ ...run!, eventsPath: null }, ok)).rejects.toThrow(/no events file/);
    const other = join(tmp, 'other-mask.nii.gz');
    writeNifti(other, {
      dims: [7, 8, 9],
      data: new Float32Array(504).fill(1),
      affine: [-2, 0, 0, 90, 0, 2, 0, -120, 0, 0, 2, -60, 0, 0, 0, 1],
    });
    await expect(fitStudyRun({ ...run!, maskPath: other }, ok)).rejects.toThrow(
      /brain mask and BOLD run: .*other-mask\.nii\.gz and .*preproc_bold\.nii\.gz are on different voxel grids/,
    );
  });

  it('inherits sidecars from the root down, more specific files overriding', () => {
    const root = join(tmp, 'inherit');
    makeTinyDataset(root);
    writeFileSync(join(root, 'sub-01', 'sub-01_task-demo_bold.json'), JSON.stringify({ SliceTiming: [0, 1, 0.5] }));
    writeFileSync(
      join(root, 'sub-01', 'func', 'sub-01_task-demo_run-1_bold.json'),
      JSON.stringify({ RepetitionTime: 2.1 }),
    );
    writeFileSync(join(root, 'sub-01', 'func', 'sub-01_task-other_bold.json'), JSON.stringify({ RepetitionTime: 9 }));
    const bold = join(root, 'sub-01', 'func', 'sub-01_task-demo_run-1_bold.nii.gz');
    const { metadata, files } = inheritedSidecar(root, bold, 'bold');
    expect(files.map((f) => f.slice(root.length + 1))).toEqual([
      'task-demo_bold.json',
      'sub-01/sub-01_task-demo_bold.json',
      'sub-01/func/sub-01_task-demo_run-1_bold.json',
    ]);
    expect(metadata).toEqual({ RepetitionTime: 2.1, TaskName: 'demo', SliceTiming: [0, 1, 0.5] });
    const [run] = findStudyRuns(readBidsDataset(root), '01');
    expect(run!.repetitionTimeS).toBe(2.1);
    expect(run!.sliceTimingS).toEqual([0, 1, 0.5]);
  });
});

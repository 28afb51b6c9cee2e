import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeRdm, createNormalRng, deriveSeed, pearson, spearman } from '@orthostim/rdm';
import {
  buildRunSchedule,
  defaultSessionConfig,
  formatEventsTsv,
  parseEventsTsv,
  plannedEventsRows,
  recordedStimulusSet,
} from '@orthostim/protocol';
import { readStimulusSet } from '@orthostim/protocol/node';
import { writeTestStimulusSet } from '@orthostim/test';
import { findStudyRuns, readBidsDataset } from '@orthostim/analysis';
import { readNifti } from '@orthostim/analysis';
import { fitStudyRun } from '@orthostim/analysis';
import { simulateStudy, type SimulateResult } from './simulate-study';

const tmp = mkdtempSync(join(tmpdir(), 'orthostim-simulate-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const N = 6;
const LAYERS = ['early', 'late'];
let setPath = '';
let bids = '';
let result: SimulateResult;

beforeAll(async () => {
  // Two layers with different correlation-distance geometries from random features.
  const rng = createNormalRng(21);
  const rdms: Record<string, number[]> = {};
  for (const l of LAYERS)
    rdms[l] = Array.from(
      computeRdm(
        Float64Array.from({ length: N * 12 }, () => rng()),
        N,
        12,
        'correlation',
      ),
    );
  setPath = await writeTestStimulusSet(join(tmp, 'set'), N, 16, { rdms, distance: 'correlation' });
  bids = join(tmp, 'bids');
  result = await simulateStudy({
    stimuli: setPath,
    outDir: bids,
    participants: 2,
    runs: 2,
    snr: Infinity,
    seed: 5,
    voxelMm: 5,
    brainMm: [60, 75, 50],
    datatype: 'float32',
  });
});

describe('orthostim simulate (library)', () => {
  it('writes a BIDS dataset the project reader accepts: participants, runs, TR, events with the set sha256, brain masks', () => {
    for (const f of ['dataset_description.json', 'participants.tsv', 'task-orthostim_bold.json'])
      expect(existsSync(join(bids, f))).toBe(true);
    expect(JSON.parse(readFileSync(join(bids, 'task-orthostim_bold.json'), 'utf8'))).toEqual({
      TaskName: 'orthostim',
      RepetitionTime: 2,
    });
    expect(readFileSync(join(bids, 'participants.tsv'), 'utf8')).toBe('participant_id\nsub-01\nsub-02\n');
    const ds = readBidsDataset(bids);
    expect(ds.participants).toEqual(['01', '02']);
    const loaded = readStimulusSet(setPath);
    for (const p of ds.participants) {
      const runs = findStudyRuns(ds, p);
      expect(runs.map((r) => r.run)).toEqual(['1', '2']);
      for (const r of runs) {
        expect(r.repetitionTimeS).toBe(2);
        expect(recordedStimulusSet(r.eventsMetadata).sha256).toBe(loaded.set.sha256);
        expect(r.maskPath).toMatch(/derivatives\/truth\/sub-\d+\/sub-\d+_desc-brain_mask\.nii\.gz$/);
        const bold = readNifti(r.boldPath);
        expect(bold.dims).toEqual([...result.dims, result.volumesPerRun[0]]);
        expect(bold.repetitionTimeS).toBe(2);
      }
    }
    // The copy of the stimulus set the events point into.
    const rows = parseEventsTsv(readFileSync(findStudyRuns(ds, '01')[0]!.eventsPath!, 'utf8'), 'events');
    const firstImage = rows.find((r) => r.stim_file !== null)!;
    expect(existsSync(join(bids, 'stimuli', firstImage.stim_file!))).toBe(true);
  });

  it("events are the session server's scheduler's plan for the run's derived seed", () => {
    const ds = readBidsDataset(bids);
    const run = findStudyRuns(ds, '02')[1]!;
    const sidecar = JSON.parse(readFileSync(run.eventsPath!.replace(/\.tsv$/, '.json'), 'utf8')) as {
      Orthostim: { seed: number };
    };
    expect(sidecar.Orthostim.seed).toBe(deriveSeed(5, 1, 2, 2));
    const loaded = readStimulusSet(setPath);
    const schedule = buildRunSchedule(
      loaded.set.images.map((i) => i.id),
      { ...defaultSessionConfig(), repetitionTimeS: 2 },
      sidecar.Orthostim.seed,
    );
    const expected = plannedEventsRows(
      schedule,
      (i) => `orthostim-${loaded.set.sha256.slice(0, 12)}/${loaded.set.images[i]!.file}`,
    );
    // Compared through the TSV codec, which writes onsets to 0.1 ms.
    expect(readFileSync(run.eventsPath!, 'utf8')).toBe(formatEventsTsv(expected));
    expect(result.volumesPerRun[0]).toBe(schedule.totalVolumes);
  });

  it('ground truth: brain mask, one region mask per layer, label image and index.json agree', () => {
    const truth = join(bids, 'derivatives', 'truth');
    const index = JSON.parse(readFileSync(join(truth, 'index.json'), 'utf8')) as {
      layers: { layer: string; mask: string; nVoxels: number; label: number }[];
    };
    expect(index.layers.map((l) => l.layer)).toEqual(LAYERS);
    const brain = readNifti(join(truth, 'desc-brain_mask.nii.gz'));
    const labels = readNifti(join(truth, 'desc-layers_dseg.nii.gz'));
    for (const l of index.layers) {
      const mask = readNifti(join(truth, l.mask));
      let count = 0;
      for (let g = 0; g < mask.data.length; g++) {
        if (mask.data[g]! > 0) {
          count++;
          expect(brain.data[g]).toBe(1);
          expect(labels.data[g]).toBe(l.label);
        }
      }
      expect(count).toBe(l.nVoxels);
    }
  });

  it('at infinite SNR the analysis GLM recovers each region RDM as its layer RDM (planted geometry)', async () => {
    const ds = readBidsDataset(bids);
    const loaded = readStimulusSet(setPath);
    const truth = join(bids, 'derivatives', 'truth');
    const index = JSON.parse(readFileSync(join(truth, 'index.json'), 'utf8')) as {
      layers: { layer: string; mask: string }[];
    };
    const images = loaded.set.images.map((i) => ({ id: i.id, file: i.file }));
    for (const p of ds.participants) {
      // Run-averaged betas (the analysis' own per-run GLM, percent signal change, OLS).
      const sums: Float64Array[] = [];
      const runs = findStudyRuns(ds, p);
      for (const [k, run] of runs.entries()) {
        const out = join(tmp, `glm-${p}-${k}`);
        mkdirSync(out);
        const fit = await fitStudyRun(run, {
          stimulusSet: { sha256: loaded.set.sha256, images },
          outDir: out,
          noiseModel: 'ols',
        });
        fit.files
          .filter((f) => f.stat === 'beta')
          .forEach((f, i) => {
            const data = readNifti(join(out, f.path)).data;
            sums[i] ??= new Float64Array(data.length);
            for (let g = 0; g < data.length; g++) sums[i]![g] = sums[i]![g]! + data[g]! / runs.length;
          });
      }
      for (const l of index.layers) {
        const mask = readNifti(join(truth, l.mask)).data;
        const voxels = [...mask.keys()].filter((g) => mask[g]! > 0);
        const patterns = new Float64Array(N * voxels.length);
        for (let i = 0; i < N; i++) voxels.forEach((g, v) => (patterns[i * voxels.length + v] = sums[i]![g]!));
        const recovered = computeRdm(patterns, N, voxels.length, 'correlation');
        const planted = Array.from(loaded.rdms[loaded.set.layers.indexOf(l.layer)]!);
        expect(pearson(recovered, planted)).toBeGreaterThan(0.999);
        expect(spearman(recovered, planted)).toBeGreaterThan(0.99);
        const other = Array.from(loaded.rdms[loaded.set.layers.indexOf(LAYERS.find((x) => x !== l.layer)!)]!);
        expect(pearson(recovered, other)).toBeLessThan(pearson(recovered, planted) - 0.05);
      }
    }
  });

  it('refuses an unknown layer and an existing output folder, in one line naming the value', async () => {
    await expect(
      simulateStudy({ stimuli: setPath, outDir: join(tmp, 'x'), layers: ['early', 'conv9'] }),
    ).rejects.toThrow(/--layers: "conv9" is not a layer of .*stimulus-set\.json; its layers are early, late/);
    await expect(simulateStudy({ stimuli: setPath, outDir: bids, participants: 1, runs: 1 })).rejects.toThrow(
      /output folder exists and is not empty; .* pass --overwrite/,
    );
  });
});

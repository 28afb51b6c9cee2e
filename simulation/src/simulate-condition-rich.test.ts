/**
 * `simulateStudy` with a condition-rich design (imageTrialsPerRun): the events are the scheduler's
 * cut of each participant's image sequence, and the BOLD follows each run's own schedule, so that
 * the analysis' GLM (a beta per image per run where the image occurs), averaged over the runs that
 * have each image, gives back the planted geometry at infinite SNR.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeRdm, createNormalRng, deriveSeed, pearson } from '@orthostim/rdm';
import { buildRunSchedule, defaultSessionConfig, formatEventsTsv, plannedEventsRows } from '@orthostim/protocol';
import { readStimulusSet } from '@orthostim/protocol/node';
import { writeTestStimulusSet } from '@orthostim/test';
import { findStudyRuns, fitStudyRun, readBidsDataset, readNifti } from '@orthostim/analysis';
import { simulateStudy } from './simulate-study';

const tmp = mkdtempSync(join(tmpdir(), 'orthostim-simulate-rich-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const N = 6;
const PER_RUN = 4;
let setPath = '';
let bids = '';

beforeAll(async () => {
  const rng = createNormalRng(31);
  const rdms = { early: Array.from(computeRdm(Float64Array.from({ length: N * 12 }, rng), N, 12, 'correlation')) };
  setPath = await writeTestStimulusSet(join(tmp, 'set'), N, 16, { rdms, distance: 'correlation' });
  bids = join(tmp, 'bids');
  await simulateStudy({
    stimuli: setPath,
    outDir: bids,
    participants: 1,
    runs: 3,
    imageTrialsPerRun: PER_RUN,
    snr: Infinity,
    seed: 8,
    voxelMm: 5,
    brainMm: [60, 75, 50],
    datatype: 'float32',
  });
});

describe('orthostim simulate with imageTrialsPerRun', () => {
  it("writes each run's part of the participant's image sequence (seed of the schedule stream's run 0)", () => {
    const loaded = readStimulusSet(setPath);
    const runs = findStudyRuns(readBidsDataset(bids), '01');
    const config = { ...defaultSessionConfig(), repetitionTimeS: 2, imageTrialsPerRun: PER_RUN };
    runs.forEach((run, r) => {
      const sidecar = JSON.parse(readFileSync(run.eventsPath!.replace(/\.tsv$/, '.json'), 'utf8'));
      const plan = { sequenceSeed: deriveSeed(8, 1, 1, 0), runIndex: r };
      expect(sidecar.Orthostim.imageSequence).toEqual({ imageTrialsPerRun: PER_RUN, ...plan });
      const schedule = buildRunSchedule(
        loaded.set.images.map((i) => i.id),
        config,
        deriveSeed(8, 1, 1, r + 1),
        plan,
      );
      const rows = plannedEventsRows(
        schedule,
        (i) => `orthostim-${loaded.set.sha256.slice(0, 12)}/${loaded.set.images[i]!.file}`,
      );
      expect(readFileSync(run.eventsPath!, 'utf8')).toBe(formatEventsTsv(rows));
    });
  });

  it('at infinite SNR the betas, averaged over the runs that have each image, have the planted RDM', async () => {
    const loaded = readStimulusSet(setPath);
    const images = loaded.set.images.map((i) => ({ id: i.id, file: i.file }));
    const sums = new Map<string, Float64Array>();
    const counts = new Map<string, number>();
    const absent: string[][] = [];
    for (const [k, run] of findStudyRuns(readBidsDataset(bids), '01').entries()) {
      const out = join(tmp, `glm-${k}`);
      mkdirSync(out);
      const fit = await fitStudyRun(run, {
        stimulusSet: { sha256: loaded.set.sha256, images },
        outDir: out,
        noiseModel: 'ols',
      });
      absent.push(fit.design.imagesAbsent);
      for (const f of fit.files.filter((f) => f.stat === 'beta')) {
        const data = readNifti(join(out, f.path)).data;
        const sum = sums.get(f.image!) ?? new Float64Array(data.length);
        for (let g = 0; g < data.length; g++) sum[g] = sum[g]! + data[g]!;
        sums.set(f.image!, sum);
        counts.set(f.image!, (counts.get(f.image!) ?? 0) + 1);
      }
    }
    // 4 image trials of 6 images per run: every run lacks at least 2 images; the 12 trials show each
    // image twice, in 1 run (twice in one run) or 2 runs: 1 or 2 betas.
    for (const a of absent) expect(a.length).toBeGreaterThanOrEqual(2);
    for (const img of images) expect([1, 2]).toContain(counts.get(img.id));
    const truth = join(bids, 'derivatives', 'truth');
    const mask = readNifti(join(truth, 'desc-early_mask.nii.gz')).data;
    const voxels = [...mask.keys()].filter((g) => mask[g]! > 0);
    const patterns = new Float64Array(N * voxels.length);
    images.forEach((img, i) =>
      voxels.forEach((g, v) => (patterns[i * voxels.length + v] = sums.get(img.id)![g]! / counts.get(img.id)!)),
    );
    const recovered = computeRdm(patterns, N, voxels.length, 'correlation');
    expect(pearson(recovered, loaded.set.rdms.early!.map(Number))).toBeGreaterThan(0.99);
  });
});

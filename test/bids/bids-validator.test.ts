/**
 * The official BIDS validator (npm bids-validator 1.15, offline) on the datasets orthostim writes:
 * one by `orthostim simulate`, one by a scripted session of the session server (its events files
 * next to a BOLD series, as the scanner's converter would leave it). Neither may hold an error; the
 * warnings that remain are the ones a simulated or scripted dataset cannot avoid (no SliceTiming,
 * no authors).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { computeRdm, createNormalRng } from '@orthostim/rdm';
import { recordedStimulusSet } from '@orthostim/protocol';
import { readStimulusSet } from '@orthostim/protocol/node';
import { makeTestSession, playRun, testHello } from '../../server/src/test-session';
import { simulateStudy } from '@orthostim/simulation';
import { writeNifti } from '@orthostim/analysis';
import { validateBids, writeTestStimulusSet } from '../src';

const tmp = mkdtempSync(join(tmpdir(), 'orthostim-bids-validator-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Warnings a dataset without a scanner's slice timing or named authors keeps. */
const UNAVOIDABLE = ['SLICE_TIMING_NOT_DEFINED', 'NO_AUTHORS'];

describe('BIDS validator', () => {
  it('finds no error in a dataset written by orthostim simulate', async () => {
    const n = 6;
    const rng = createNormalRng(3);
    const rdms: Record<string, number[]> = {};
    for (const l of ['early', 'late'])
      rdms[l] = Array.from(
        computeRdm(
          Float64Array.from({ length: n * 8 }, () => rng()),
          n,
          8,
          'correlation',
        ),
      );
    const set = await writeTestStimulusSet(join(tmp, 'set-sim'), n, 16, { rdms, distance: 'correlation' });
    const bids = join(tmp, 'sim');
    await simulateStudy({
      stimuli: set,
      outDir: bids,
      participants: 2,
      runs: 2,
      snr: 2,
      voxelMm: 6,
      brainMm: [48, 60, 42],
      seed: 4,
      log: () => {},
    });
    const report = await validateBids(bids);
    expect(report.errors, JSON.stringify(report.errors, null, 1)).toEqual([]);
    expect(report.warnings.map((w) => w.key).filter((k) => !UNAVOIDABLE.includes(k))).toEqual([]);
    expect(readFileSync(join(bids, 'README'), 'utf8')).toMatch(/simulated/i);
  });

  it('finds no error in a dataset written by a scripted session', async () => {
    const stimuli = readStimulusSet(await writeTestStimulusSet(join(tmp, 'set-session'), 3));
    const dataDir = join(tmp, 'session');
    const t = makeTestSession(dataDir, stimuli);
    const { session } = t;
    await session.start();
    session.displayHello('c1', testHello);
    session.arm({ participant: '01', run: 1, seed: 7 });
    const run = t.display.announced.at(-1)!;
    session.displayReadyEvent('c1', { runId: run.runId, refreshHz: 60, framePeriodMs: 16.67, imagesLoaded: 3 });
    playRun(t, 'c1');
    const events = session.summary(run.runId)!.eventsFile!;
    await session.stop();
    // The scanner's converter (dcm2niix) leaves the BOLD series and its sidecar beside the events.
    writeFileSync(
      events.replace('_events.tsv', '_bold.json'),
      JSON.stringify({ RepetitionTime: 1, TaskName: 'orthostim' }),
    );
    writeNifti(
      events.replace('_events.tsv', '_bold.nii.gz'),
      {
        dims: [4, 5, 3, run.schedule.totalVolumes],
        data: Float32Array.from({ length: 60 * run.schedule.totalVolumes }, (_, k) => 100 + Math.sin(k)),
        affine: [3, 0, 0, 0, 0, 3, 0, 0, 0, 0, 3, 0],
      },
      { repetitionTimeS: 1 },
    );
    const report = await validateBids(dataDir);
    expect(report.errors, JSON.stringify(report.errors, null, 1)).toEqual([]);
    expect(report.warnings.map((w) => w.key).filter((k) => !UNAVOIDABLE.includes(k))).toEqual([]);
    const sidecar = JSON.parse(readFileSync(events.replace('.tsv', '.json'), 'utf8')) as Record<string, unknown>;
    expect(sidecar.StimulusSetSha256).toBeUndefined();
    expect(recordedStimulusSet(sidecar).sha256).toBe(stimuli.set.sha256);
    expect(existsSync(join(dataDir, 'README'))).toBe(true);
  });
});

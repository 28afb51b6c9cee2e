/**
 * `orthostim analyze <bids_dir> <output_dir> group`: the participants' Fisher-z layer maps (found
 * through their index.json) tested per layer and method with a one-sample sign-flip permutation
 * test and max-statistic FWE (stats/sign-flip), thresholded maps, winner-take-all over significant
 * voxels, the Dice overlap between thresholded layer maps, and a cluster table (with atlas labels),
 * written into `<output_dir>/group/` atomically.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildOutputDir } from '@orthostim/protocol/node';
import { createProgress, info } from '@orthostim/protocol/cli';
import { bidsLabels } from '../io/bids';
import { assertSameGrid, readNiftiInfo, readVolume3d } from '../io/nifti';
import type { ModelMethod } from '../rsa/compare-models';
import { parseAtlasLabels } from '../stats/atlas-labels';
import type { Atlas } from '../stats/clusters';
import { writeGroupReport, type GroupSummary, type GroupTest } from '../report/group-report';
import { hasOrthostimTruth, readRecovery, type RecoveryTable } from '../recovery/recovery';
import { readGroupInputs, testMapKey, type GroupInputs } from './group-inputs';
import { displayBackground, isSimulatedDataset } from '../report/display-background';
import { groupBackground, writeClusterTable, writeLayerComparisons, type GroupTableTarget } from './group-layer-maps';
import {
  groupStatistic,
  runGroupTests,
  type GroupMapTarget,
  type GroupStatistic,
  type GroupTestSettings,
  type PermutationFacts,
} from './group-tests';
import { MapWriter } from './map-writer';
import { OutputIndexBuilder } from './output-index';
import { makeProvenance, writeProvenance } from './provenance';
import { resolveVarianceSmoothing, type GroupSettings } from './settings';

export type { GroupSummary };

export interface GroupJob {
  outputDir: string;
  bidsDir: string;
  /** Participants to include (default: every sub-<label>/ with an index.json). */
  participants?: string[];
  settings: GroupSettings;
  threads?: number;
  atlas?: { path: string; labelsPath?: string };
  template?: string;
  overwrite?: boolean;
  settingsRecord: Record<string, unknown>;
}

/** The grid every group map is on: the first participant's first z map's. */
function referenceGrid(inputs: GroupInputs): GroupMapTarget['grid'] {
  const info = readNiftiInfo(inputs.participants[0]!.zMaps.get(testMapKey(inputs.tests[0]!))!);
  const [nx, ny, nz] = info.dims;
  return {
    path: info.path,
    dims: [nx, ny, nz],
    affine: info.affine,
    reference: { qformCode: info.header.qformCode, sformCode: info.header.sformCode },
  };
}

function readAtlas(atlas: NonNullable<GroupJob['atlas']>, grid: GroupMapTarget['grid']): Atlas {
  const img = readVolume3d(atlas.path, '--atlas');
  assertSameGrid(grid, img, '--atlas and the group maps');
  const names = atlas.labelsPath
    ? parseAtlasLabels(readFileSync(atlas.labelsPath, 'utf8'), atlas.labelsPath)
    : new Map<number, string>();
  return { values: img.data, names };
}

function testSettings(job: GroupJob, statistic: GroupStatistic, atlas: Atlas | undefined): GroupTestSettings {
  const { alpha, nPermutations, seed, connectivity } = job.settings;
  return { alpha, nPermutations, seed, connectivity, statistic, ...(atlas ? { atlas } : {}) };
}

function tableTarget(staging: string, inputs: GroupInputs, grid: GroupMapTarget['grid']): GroupTableTarget {
  const index = new OutputIndexBuilder({ level: 'group', ...(inputs.space ? { space: inputs.space } : {}) });
  return {
    staging,
    index,
    writer: new MapWriter(staging, grid, index),
    grid,
    entities: [['space', inputs.space]],
    layerLabels: bidsLabels([...new Set(inputs.tests.map((t) => t.layer))], 'model'),
  };
}

async function runTestsWithProgress(
  inputs: GroupInputs,
  target: GroupMapTarget,
  settings: GroupTestSettings,
  threads: number,
) {
  const bar = createProgress(`group tests (${inputs.participants.length} participants)`, inputs.tests.length);
  const run = await runGroupTests(inputs, target, settings, threads, (done) => bar.update(done));
  bar.stop();
  return run;
}

function writeGroupProvenance(
  target: GroupTableTarget,
  job: GroupJob,
  inputs: GroupInputs,
  statistic: GroupStatistic,
  permutations: PermutationFacts,
): void {
  const settings = {
    ...job.settingsRecord,
    varianceSmoothingMmResolved: statistic.varianceSmoothingMm,
    statistic: statistic.name,
  };
  const used = {
    outputDir: job.outputDir,
    participants: inputs.participants.map((p) => p.label),
    stimulusSetSha256: inputs.participants[0]!.stimulusSha ?? null,
    ...(job.atlas ? { atlas: job.atlas } : {}),
  };
  const notes = [
    ...(permutations.note ? [permutations.note] : []),
    ...(inputs.spaceWarning ? [inputs.spaceWarning] : []),
  ];
  writeProvenance(target.staging, makeProvenance('group', settings, used, notes));
  target.index.add({
    path: 'analysis.json',
    stat: 'provenance',
    description: 'resolved settings, inputs and versions',
  });
}

function groupSummary(
  dir: string,
  inputs: GroupInputs,
  tests: GroupTest[],
  permutations: PermutationFacts,
  alpha: number,
  statistic: GroupStatistic,
): GroupSummary {
  return {
    dir,
    participants: inputs.participants.map((p) => p.label),
    tests,
    nPatterns: permutations.nPatterns,
    exhaustive: permutations.exhaustive,
    minAttainableP: permutations.minAttainableP,
    alpha,
    statistic: statistic.name,
    varianceSmoothingMm: statistic.varianceSmoothingMm,
    ...(permutations.note ? { note: permutations.note } : {}),
    ...(inputs.spaceWarning ? { spaceWarning: inputs.spaceWarning } : {}),
    seconds: 0,
  };
}

/**
 * A simulated dataset (orthostim simulate) carries its ground truth: score the thresholded maps
 * against the planted regions, so the report shows what was recovered.
 */
function scoreRecovery(
  job: GroupJob,
  target: GroupTableTarget,
  methods: ModelMethod[],
  nParticipants: number,
): { method: ModelMethod; table: RecoveryTable }[] | undefined {
  const truth = hasOrthostimTruth(job.bidsDir);
  if (truth === false)
    info(
      `group: ${join(job.bidsDir, 'derivatives', 'truth', 'index.json')} is not the ground truth of \`orthostim simulate\`; no recovery table`,
    );
  if (!truth) return undefined;
  target.index.write(target.staging);
  return methods.map((method) => ({
    method,
    table: readRecovery({
      analysisDir: job.outputDir,
      groupDir: target.staging,
      bidsDir: job.bidsDir,
      method,
      selection: recoverySelection(nParticipants),
    }),
  }));
}

/**
 * How the group report scores a simulated dataset's maps (docs/simulate.md): FWE-thresholded maps
 * from 6 participants on; with fewer no voxel can reach FWE p < 0.05, and the top-k maps (the k
 * voxels of highest mean z, k = the region's size) are scored instead.
 */
export const RECOVERY_FWE_FROM_PARTICIPANTS = 6;
export function recoverySelection(nParticipants: number): 'fwe' | 'top-k' {
  return nParticipants >= RECOVERY_FWE_FROM_PARTICIPANTS ? 'fwe' : 'top-k';
}

/** The report's background: --template as it is, else the mean EPI smoothed (or a simulated dataset's mask). */
function reportBackground(
  job: GroupJob,
  grid: GroupMapTarget['grid'],
  found: { background: Float32Array; backgroundName: string },
) {
  if (job.template) return found;
  const simulated = isSimulatedDataset(job.bidsDir);
  return {
    background: displayBackground(grid, found.background, { simulated }),
    backgroundName: simulated
      ? `the brain mask (a simulated dataset's mean EPI is a random baseline per voxel)`
      : `${found.backgroundName} (smoothed for display)`,
  };
}

/**
 * `orthostim analyze ... group`: the participants' inputs checked, the tests run and their maps
 * written, then the layer comparisons, the cluster table, provenance and the report.
 */
export async function runGroup(job: GroupJob): Promise<GroupSummary> {
  const t0 = performance.now();
  const inputs = readGroupInputs(job.outputDir, job.participants);
  const smoothing = resolveVarianceSmoothing(job.settings.varianceSmoothingMm, inputs.participants.length);
  const statistic = groupStatistic(smoothing);
  const grid = referenceGrid(inputs);
  const atlas = job.atlas ? readAtlas(job.atlas, grid) : undefined;
  const settings = testSettings(job, statistic, atlas);
  const { alpha, connectivity } = job.settings;
  const outDir = join(job.outputDir, 'group');
  if (inputs.spaceWarning) info(`group: warning: ${inputs.spaceWarning}`);
  const writeFolder = async (staging: string): Promise<GroupSummary> => {
    const target = tableTarget(staging, inputs, grid);
    const { tests, permutations } = await runTestsWithProgress(inputs, target, settings, job.threads ?? 1);
    const { wta, dice } = writeLayerComparisons(target, tests, inputs, alpha);
    writeClusterTable(target, tests, connectivity, atlas !== undefined, statistic);
    const { background, backgroundName } = reportBackground(job, grid, groupBackground(target, inputs, job.template));
    await target.writer.flush();
    writeGroupProvenance(target, job, inputs, statistic, permutations);
    const summary = groupSummary(outDir, inputs, tests, permutations, alpha, statistic);
    const recovery = scoreRecovery(job, target, inputs.methods, inputs.participants.length);
    const { layers, methods } = inputs;
    const report = { summary, grid, background, backgroundName, layers, methods, wta, dice, connectivity };
    await writeGroupReport(staging, { ...report, atlas: atlas !== undefined, ...(recovery ? { recovery } : {}) });
    target.index.add({ path: 'report.html', stat: 'report', description: 'group report' });
    target.index.write(staging);
    return { ...summary, seconds: (performance.now() - t0) / 1000 };
  };
  return buildOutputDir(outDir, writeFolder, {
    overwrite: job.overwrite ?? false,
    inputs: [...inputs.participants.map((p) => p.dir), job.atlas?.path, job.atlas?.labelsPath, job.template],
  });
}

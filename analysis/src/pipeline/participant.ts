/**
 * `orthostim analyze <bids_dir> <output_dir> participant`, one participant: the GLM of every run
 * (io/run-glm), the betas read back onto the analysis mask, the searchlight (searchlight-stage),
 * tSNR and mean EPI, the report and index.json, all into `<output_dir>/sub-<label>/`, built in a
 * staging folder and renamed into place when complete (so parallel participants share one output
 * folder, and a failed run leaves nothing half-written).
 */
import { displayBackground, isSimulatedDataset } from '../report/display-background';
import type { ExtraModelRdm } from '../rsa/compare-models';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '@orthostim/protocol';
import { buildOutputDir, writeFileAtomic, type LoadedStimulusSet } from '@orthostim/protocol/node';
import { createProgress } from '@orthostim/protocol/cli';
import type { ImageMapping } from '../glm/image-mapping';
import { findStudyRuns, readBidsDataset, type StudyRun } from '../io/bids';
import { assertSameGrid, readNifti, readNiftiInfo, readNiftiMeanVolume, readVolume3d, type Volume } from '../io/nifti';
import { fitStudyRun, runPrefix, type RunGlmResult } from '../io/run-glm';
import { listMaskVoxels } from '../searchlight/neighbors';
import { designMatrixSvg } from '../report/design-matrix-figure';
import { writeParticipantReport } from '../report/participant-report';
import { assembleBetas, type RunBetas } from './beta-set';
import { MapWriter, gridSize, toGrid, type GridRef } from './map-writer';
import { OutputIndexBuilder, bidsFileName } from './output-index';
import { makeProvenance, writeProvenance } from './provenance';
import { addComputedMasks, resolveRunMasks } from './run-masks';
import { needsResidualSeries, runSearchlightStage, type SearchlightStageResult } from './searchlight-stage';
import { checkSearchlightRadius, type GlmSettings, type SearchlightSettings } from './settings';

export interface ParticipantJob {
  bidsDir: string;
  outputDir: string;
  participant: string;
  stimuli: LoadedStimulusSet;
  task?: string;
  /** How the events name images (--image-column, --image-map); default: the events' own rule. */
  imageMapping?: ImageMapping;
  derivatives?: string[];
  space?: string;
  mask?: string;
  glm: GlmSettings;
  searchlight: SearchlightSettings;
  rois?: { path: string; labelsPath?: string };
  /** User-given model RDMs (`--model-rdm`), compared like the layers. */
  modelRdms?: readonly ExtraModelRdm[];
  template?: string;
  overwrite?: boolean;
  /** Settings as given (for analysis.json). */
  settingsRecord: Record<string, unknown>;
}

export interface ParticipantSummary {
  participant: string;
  dir: string;
  runs: RunGlmResult[];
  searchlight: SearchlightStageResult;
  nMaskVoxels: number;
  notes: string[];
  seconds: number;
}

function gather(data: ArrayLike<number>, voxels: Int32Array): Float32Array {
  return Float32Array.from(voxels, (g) => data[g]!);
}

/** A run's residual series (rows over its own mask voxels) at the participant's candidate voxels. */
function gatherResiduals(res: RunGlmResult, candidates: Int32Array): NonNullable<RunBetas['residuals']> {
  const { values, nVolumes: T, dfResidual } = res.residuals!;
  const row = new Map<number, number>();
  res.voxels.forEach((g, i) => row.set(g, i));
  const out = new Float32Array(candidates.length * T);
  candidates.forEach((g, c) => {
    const i = row.get(g);
    if (i === undefined) out.fill(Number.NaN, c * T, (c + 1) * T);
    else out.set(values.subarray(i * T, (i + 1) * T), c * T);
  });
  return { values: out, nVolumes: T, dfResidual };
}

/** The intersection of the runs' brain masks (each run may come with its own). */
function participantMask(runs: readonly StudyRun[], fallback: string | undefined): Volume {
  const paths = [...new Set(runs.map((r) => r.maskPath ?? fallback))];
  if (paths.some((p) => p === undefined))
    throw new InputError(`${runs[0]!.boldPath}: no brain mask found for this run; give one with --mask`);
  const masks = paths.map((p) => readVolume3d(p!, 'the brain mask'));
  const first = masks[0]!;
  const data = new Float32Array(gridSize({ dims: [first.dims[0], first.dims[1], first.dims[2]] }));
  for (let g = 0; g < data.length; g++) data[g] = masks.every((m) => m.data[g]! > 0) ? 1 : 0;
  for (const m of masks.slice(1)) assertSameGrid(first, m, 'brain masks of the runs');
  return { ...first, data };
}

export async function runParticipant(job: ParticipantJob): Promise<ParticipantSummary> {
  const t0 = performance.now();
  const ds = readBidsDataset(job.bidsDir);
  const found = findParticipantRuns(job, ds);
  const outDir = join(job.outputDir, `sub-${job.participant}`);
  return buildOutputDir(outDir, (staging) => analyzeIntoStaging(job, ds.root, found, staging, outDir, t0), {
    overwrite: job.overwrite ?? false,
    inputs: participantInputs(job, found),
  });
}

/** The participant's runs, and the searchlight radius checked against their grid before any GLM. */
function findParticipantRuns(job: ParticipantJob, ds: ReturnType<typeof readBidsDataset>): StudyRun[] {
  const { participant } = job;
  const found = findStudyRuns(ds, participant, {
    ...(job.task ? { task: job.task } : {}),
    ...(job.derivatives ? { derivatives: job.derivatives } : {}),
    ...(job.space ? { space: job.space } : {}),
  });
  if (found.length === 0) throw new InputError(`participant ${participant}: no runs found`);
  // Before the GLM: the radius against the grid (of the brain mask, which is on the BOLD's grid).
  checkSearchlightRadius(job.searchlight.radius, readNiftiInfo(job.mask ?? found[0]!.maskPath ?? found[0]!.boldPath));
  return found;
}

/** Every step of one participant's analysis, written into the staging folder. */
async function analyzeIntoStaging(
  job: ParticipantJob,
  bidsRoot: string,
  found: readonly StudyRun[],
  staging: string,
  outDir: string,
  t0: number,
): Promise<ParticipantSummary> {
  const { participant, stimuli } = job;
  const space = found[0]!.space ?? 'native';
  const index = new OutputIndexBuilder({ level: 'participant', participant, space });
  const glmDir = join(staging, 'glm');
  mkdirSync(glmDir, { recursive: true });
  const masks = resolveRunMasks(found, job.mask, staging, 'glm');
  const runs = masks.runs;
  addComputedMasks(index, runs, masks.sources);
  const results = await fitRunGlms(job, runs, glmDir, index);

  const { mask, grid, candidates, runBetas, assembled } = participantBetas(job, runs, results, glmDir);

  const entities = [
    ['sub', participant],
    ['ses', runs[0]!.session],
    ['task', runs[0]!.task],
    ['space', runs[0]!.space],
  ] as const;
  const writer = new MapWriter(staging, grid, index);
  const maps = writeParticipantMaps(job, { writer, grid, mask, runs, runBetas, candidates, assembled, entities });

  const searchlight = await runSearchlightStage({
    set: stimuli.set,
    rdms: stimuli.rdms,
    settings: job.searchlight,
    betas: assembled,
    grid,
    writer,
    subdir: 'rsa',
    entities,
    ...(job.rois ? { rois: job.rois } : {}),
    ...(job.modelRdms ? { modelRdms: job.modelRdms } : {}),
    progressLabel: `searchlight sub-${participant}`,
  });
  // The maps are built and gzipped on the encoder threads while this thread writes the
  // provenance and draws the report; the folder is complete after the flush below.

  const notes = participantNotes(masks.notes, assembled.notes, results, searchlight);
  writeParticipantProvenance(job, staging, bidsRoot, runs, masks.sources, notes);
  index.add({ path: 'analysis.json', stat: 'provenance', description: 'resolved settings, inputs and versions' });
  await writeParticipantReport(staging, {
    participant,
    set: stimuli.set,
    setDir: stimuli.dir,
    settings: job.searchlight,
    glm: job.glm,
    runs: results,
    grid,
    ...reportBackground(job, bidsRoot, grid, maps.background, runs[0]!),
    tsnr: maps.tsnr,
    searchlight,
    notes,
    nMaskVoxels: candidates.length,
    droppedVoxels: assembled.droppedVoxels,
    runsUsed: assembled.runsUsed,
  });
  index.add({ path: 'report.html', stat: 'report', description: 'participant report' });
  await writer.flush();
  index.write(staging);
  return {
    participant,
    dir: outDir,
    runs: results,
    searchlight,
    nMaskVoxels: candidates.length,
    notes,
    seconds: (performance.now() - t0) / 1000,
  };
}

/** The brain mask, its grid, and the runs' betas read back and assembled at the voxels inside it. */
function participantBetas(job: ParticipantJob, runs: readonly StudyRun[], results: RunGlmResult[], glmDir: string) {
  const mask = participantMask(runs, job.mask);
  const { grid, candidates } = analysisGrid(mask);
  const runBetas = readRunBetas(results, runs, glmDir, mask, candidates);
  const assembled = assembleBetas(
    candidates,
    runBetas,
    job.stimuli.set.images.map((i) => i.id),
    job.searchlight.distance,
    `participant ${job.participant}`,
  );
  // The residual series are in `assembled` now; the per-run copies are not needed again.
  for (const res of results) delete res.residuals;
  for (const rb of runBetas) delete rb.residuals;
  return { mask, grid, candidates, runBetas, assembled };
}

/** The GLM of every run into `glmDir`, each with its design matrix drawn beside its TSV. */
async function fitRunGlms(
  job: ParticipantJob,
  runs: readonly StudyRun[],
  glmDir: string,
  index: OutputIndexBuilder,
): Promise<RunGlmResult[]> {
  const set = job.stimuli.set;
  const images = set.images.map((i) => ({ id: i.id, file: i.file }));
  const bar = createProgress(`GLM sub-${job.participant} (${runs.length} runs)`, runs.length);
  const results: RunGlmResult[] = [];
  for (const [i, run] of runs.entries()) {
    bar.update(i);
    const res = await fitStudyRun(run, {
      stimulusSet: { sha256: set.sha256, images },
      outDir: glmDir,
      noiseModel: job.glm.noiseModel,
      ar1Estimator: job.glm.ar1Estimator,
      smoothingFwhmMm: job.glm.smoothingFwhmMm,
      keepResiduals: needsResidualSeries(job.searchlight),
      hrf: job.glm.hrf,
      highPassHz: job.glm.highPassHz,
      confounds: job.glm.confounds,
      threads: job.searchlight.threads,
      ...(job.mask ? { maskPath: job.mask } : {}),
      ...(job.imageMapping ? { imageMapping: job.imageMapping } : {}),
    });
    results.push(res);
    for (const f of res.files) {
      index.add({
        path: `glm/${f.path}`,
        stat: f.stat,
        ...(run.run !== null ? { run: run.run } : {}),
        ...(f.image ? { image: f.image } : {}),
      });
    }
    writeDesignFigure(res, run, glmDir, index);
  }
  bar.update(runs.length);
  bar.stop();
  return results;
}

/** The design as a figure beside its TSV: columns are easier to check by eye than by number. */
function writeDesignFigure(res: RunGlmResult, run: StudyRun, glmDir: string, index: OutputIndexBuilder): void {
  const tsv = res.files.find((f) => f.path.endsWith('_design.tsv'));
  if (!tsv) return;
  const svg = tsv.path.replace(/_design\.tsv$/, '_design.svg');
  writeFileAtomic(
    join(glmDir, svg),
    designMatrixSvg(res.design, `Design matrix, ${tsv.path.replace(/_design\.tsv$/, '')}`),
  );
  index.add({
    path: `glm/${svg}`,
    stat: 'design',
    ...(run.run !== null ? { run: run.run } : {}),
    description: 'design matrix figure (each column scaled to its largest absolute value)',
  });
}

/** The maps' grid (the brain mask's) and the candidate voxels inside the mask. */
function analysisGrid(mask: Volume): { grid: GridRef; candidates: Int32Array } {
  const dims = [mask.dims[0], mask.dims[1], mask.dims[2]] as const;
  const grid: GridRef = {
    dims,
    affine: mask.affine,
    reference: { qformCode: mask.header.qformCode, sformCode: mask.header.sformCode },
  };
  return { grid, candidates: listMaskVoxels(mask.data, dims) };
}

/** Each run's betas, residual variance and residual series read back at the candidate voxels. */
function readRunBetas(
  results: readonly RunGlmResult[],
  runs: readonly StudyRun[],
  glmDir: string,
  mask: Volume,
  candidates: Int32Array,
): RunBetas[] {
  return results.map((res, i) => {
    const imagesMap = new Map<string, Float32Array>();
    let rv: Float32Array | undefined;
    for (const f of res.files) {
      if (f.stat !== 'beta' && f.stat !== 'residual-variance') continue;
      const vol = readNifti(join(glmDir, f.path));
      assertSameGrid(mask, vol, 'brain mask and beta maps');
      if (f.stat === 'beta') imagesMap.set(f.image!, gather(vol.data, candidates));
      else rv = gather(vol.data, candidates);
    }
    const residuals = res.residuals ? gatherResiduals(res, candidates) : undefined;
    return {
      run: runs[i]!.run ?? String(i + 1),
      images: imagesMap,
      ...(rv ? { residualVariance: rv } : {}),
      ...(residuals ? { residuals } : {}),
    };
  });
}

interface MapInputs {
  writer: MapWriter;
  grid: GridRef;
  mask: Volume;
  runs: readonly StudyRun[];
  runBetas: readonly RunBetas[];
  candidates: Int32Array;
  assembled: ReturnType<typeof assembleBetas>;
  entities: readonly (readonly [string, string | null])[];
}

/**
 * The mean EPI, the tSNR and the analysis mask. Background for the report: the mean EPI of the first
 * run (or --template), and the tSNR of the GLM residuals: 100 / sqrt(residual variance) of the
 * percent-signal-change model.
 */
function writeParticipantMaps(job: ParticipantJob, m: MapInputs): { tsnr: Float32Array; background: Volume } {
  const { writer, grid, mask, runs, candidates, entities } = m;
  const meanEpi = readNiftiMeanVolume(runs[0]!.boldPath);
  assertSameGrid(mask, meanEpi, 'brain mask and BOLD run');
  writer.write(bidsFileName([...entities, ['desc', 'mean']], 'bold', '.nii.gz'), meanEpi.data, {
    stat: 'mean-epi',
    description: `temporal mean of ${runPrefix(runs[0]!)}`,
  });
  const n = gridSize(grid);
  const tsnr = meanTsnr(m.runBetas, candidates, n);
  writer.write(bidsFileName([...entities, ['desc', 'tsnr']], 'statmap', '.nii.gz'), tsnr, {
    stat: 'tsnr',
    description:
      'temporal SNR of the GLM residuals: 100 / sqrt(residual variance of the percent-signal-change model), mean over runs',
  });
  const background = job.template ? readVolume3d(job.template, '--template') : meanEpi;
  if (job.template) assertSameGrid(mask, background, '--template and the maps');
  const maskGrid = toGrid(new Float32Array(m.assembled.voxels.length).fill(1), m.assembled.voxels, n, 0);
  writer.write(
    bidsFileName([...entities, ['desc', 'searchlight']], 'mask', '.nii.gz'),
    maskGrid,
    {
      stat: 'mask',
      description: 'analysis mask: brain-mask voxels whose betas are finite in every run',
    },
    { datatype: 'uint8' },
  );
  return { tsnr, background };
}

/** tSNR on the grid: 100 / sqrt(residual variance), mean over the runs where it is finite and positive. */
function meanTsnr(runBetas: readonly RunBetas[], candidates: Int32Array, n: number): Float32Array {
  const tsnr = new Float32Array(n).fill(Number.NaN);
  for (let k = 0; k < candidates.length; k++) {
    let s = 0;
    let c = 0;
    for (const rb of runBetas) {
      const rv = rb.residualVariance?.[k];
      if (rv !== undefined && rv > 0 && Number.isFinite(rv)) {
        s += 100 / Math.sqrt(rv);
        c++;
      }
    }
    if (c > 0) tsnr[candidates[k]!] = s / c;
  }
  return tsnr;
}

/** What the report and analysis.json say about the run: dropped runs, absent images, NaN spheres. */
function participantNotes(
  maskNotes: readonly string[],
  betaNotes: readonly string[],
  results: readonly RunGlmResult[],
  searchlight: SearchlightStageResult,
): string[] {
  return [
    ...maskNotes,
    ...betaNotes,
    ...searchlight.notes,
    ...results.flatMap((r) => (r.repetitionTimeNote ? [`run ${r.run.run}: ${r.repetitionTimeNote}`] : [])),
    ...results.flatMap((r) =>
      r.design.imagesAbsent.length
        ? [`run ${r.run.run}: no trial of ${r.design.imagesAbsent.join(', ')} (no beta)`]
        : [],
    ),
    ...(searchlight.invalidSpheres > 0
      ? [`${searchlight.invalidSpheres} searchlight centre(s) had a NaN or constant sphere RDM: NaN for every layer`]
      : []),
    ...(searchlight.degenerateModels.length
      ? [`model RDM(s) without variance, NaN everywhere: ${searchlight.degenerateModels.join(', ')}`]
      : []),
  ];
}

/** analysis.json: the settings as given, the inputs read and the notes. */
function writeParticipantProvenance(
  job: ParticipantJob,
  staging: string,
  bidsRoot: string,
  runs: readonly StudyRun[],
  maskSources: ReturnType<typeof resolveRunMasks>['sources'],
  notes: string[],
): void {
  const { stimuli } = job;
  const set = stimuli.set;
  const inputs = {
    bidsDir: bidsRoot,
    participant: job.participant,
    runs: runs.map((r, i) => ({
      run: r.run,
      bold: r.boldPath,
      events: r.eventsPath,
      mask: maskSources[i]!.path,
      confounds: r.confoundsPath,
    })),
    stimulusSet: {
      path: stimuli.path,
      sha256: set.sha256,
      layers: set.layers,
      images: set.images.length,
      model: set.model.name,
    },
    ...(job.rois ? { rois: job.rois } : {}),
    ...(job.template ? { template: job.template } : {}),
  };
  writeProvenance(staging, makeProvenance('participant', job.settingsRecord, inputs, notes));
}

/** The report's background image and the words that say what it is. */
function reportBackground(
  job: ParticipantJob,
  bidsRoot: string,
  grid: GridRef,
  background: Volume,
  firstRun: StudyRun,
) {
  const simulated = isSimulatedDataset(bidsRoot);
  return {
    background: job.template ? background.data : displayBackground(grid, background.data, { simulated }),
    backgroundName:
      job.template ??
      (simulated
        ? `the brain mask (a simulated dataset's mean EPI is a random baseline per voxel)`
        : `the mean EPI of ${runPrefix(firstRun)} (smoothed for display)`),
  };
}

/** Every file a participant's analysis reads: a folder holding one is never replaced by --overwrite. */
function participantInputs(job: ParticipantJob, runs: readonly StudyRun[]): (string | undefined)[] {
  const ofRuns = runs.flatMap((r) => [r.boldPath, r.rawBoldPath, r.eventsPath, r.confoundsPath, r.maskPath]);
  return [
    ...ofRuns.map((p) => p ?? undefined),
    job.stimuli.path,
    job.mask,
    job.rois?.path,
    job.rois?.labelsPath,
    job.template,
  ];
}

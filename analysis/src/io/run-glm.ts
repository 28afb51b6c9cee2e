/**
 * Fit the GLM of one BIDS run from its files and write its maps: read the mask, the BOLD series
 * inside it, the events (checked against the stimulus set) and the confounds; build the design;
 * scale to percent signal change; fit (worker threads); write one beta map per image, the residual
 * variance and the design matrix (TSV + JSON). Thin: the numbers come from glm/.
 *
 * Outside the mask maps are 0 (as nilearn writes them); voxels inside the mask that cannot be
 * fitted (non-finite values, zero mean, constant series) are NaN and counted in the result.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError, parseEventsTsv, recordedStimulusSet } from '@orthostim/protocol';
import { writeFileAtomic } from '@orthostim/protocol/node';
import { buildRunDesign, formatDesignTsv, DEFAULT_HIGH_PASS_HZ, type DesignMatrix } from '../glm/design-matrix';
import { fitGlmParallel } from '../glm/fit-glm-parallel';
import { DEFAULT_AR1_ESTIMATOR, type Ar1Estimator, type NoiseModel } from '../glm/fit-glm';
import type { HrfModelName } from '../glm/hrf';
import { imagesOfEventRows, type ImageMapping } from '../glm/image-mapping';
import { checkEventsFitRun, toRunEvents, UNMODELLED_TRIAL_TYPES, type SetImage } from '../glm/run-events';
import { scaleToPercentSignalChange } from '../glm/signal-scaling';
import { smoothVolumes } from '../glm/smooth-volume';
import { affineVoxelSizes } from './affine';
import { bidsLabels, DEFAULT_CONFOUNDS, readConfounds, type StudyRun } from './bids';
import { readNiftiVoxels, writeNiftiAsync, readVolume3d, type Volume } from './nifti';

export interface RunGlmOptions {
  /** The stimulus set the events must come from. */
  stimulusSet: { sha256: string; images: readonly SetImage[] };
  /** Folder the maps are written into (usually a staging folder of buildOutputDir). */
  outDir: string;
  noiseModel?: NoiseModel;
  /** AR(1) coefficient estimator (default Yule-Walker, nilearn >= 0.8). */
  ar1Estimator?: Ar1Estimator;
  /** Gaussian smoothing of the BOLD volumes before the fit, FWHM in mm (nilearn's smoothing_fwhm; default 0). */
  smoothingFwhmMm?: number;
  /** Keep the (whitened) residual series in the result (crossnobis with multivariate noise normalisation). */
  keepResiduals?: boolean;
  hrf?: HrfModelName;
  highPassHz?: number;
  /** Confound columns taken from the run's confounds TSV (default: the 6 motion parameters). */
  confounds?: readonly string[];
  /** Worker threads for the fit (default 1). */
  threads?: number;
  /** A mask to use when the run has none (e.g. --mask). */
  maskPath?: string;
  /** How events name images, when not by the default rule (--image-column, --image-map). */
  imageMapping?: ImageMapping;
  gzipLevel?: number;
}

export interface RunOutputFile {
  /** Relative to outDir. */
  path: string;
  stat: 'beta' | 'residual-variance' | 'design';
  image?: string;
}

export interface RunGlmResult {
  run: StudyRun;
  design: DesignMatrix;
  repetitionTimeS: number;
  repetitionTimeNote?: string;
  frameReferenceS: number;
  files: RunOutputFile[];
  nVoxels: number;
  skipped: { nonFinite: number; zeroMean: number; constant: number };
  /** Mean AR(1) coefficient over fitted voxels (0 under OLS). */
  meanRho: number;
  nuisanceRegressors: string[];
  /** With keepResiduals: the whitened residuals at the mask voxels, voxel-major (nVoxels x T), and their df. */
  residuals?: { values: Float32Array; nVolumes: number; dfResidual: number };
  /** Grid index of each fitted voxel (the mask), the order of `residuals`. */
  voxels: Int32Array;
}

/** BIDS-derivatives file prefix of a run: sub-01[_ses-x]_task-t[_run-1][_space-s]. */
export function runPrefix(run: Pick<StudyRun, 'participant' | 'session' | 'task' | 'run' | 'space'>): string {
  return [
    `sub-${run.participant}`,
    run.session !== null ? `ses-${run.session}` : null,
    `task-${run.task}`,
    run.run !== null ? `run-${run.run}` : null,
    run.space !== null ? `space-${run.space}` : null,
  ]
    .filter(Boolean)
    .join('_');
}

/** `desc-` labels of the images: the id without non-alphanumerics, or img<NN> for all if that collides. */
export function imageDescLabels(ids: readonly string[]): Map<string, string> {
  return bidsLabels(ids, 'img');
}

function maskIndices(mask: Volume): Int32Array {
  const nvox = mask.dims[0] * mask.dims[1] * mask.dims[2];
  const idx: number[] = [];
  for (let i = 0; i < nvox; i++) if (mask.data[i]! > 0) idx.push(i);
  if (idx.length === 0) throw new InputError(`${mask.path}: the mask has no voxel > 0`);
  return Int32Array.from(idx);
}

function resolveTr(
  run: StudyRun,
  header: { repetitionTimeS: number | null; repetitionTimeNote?: string },
): { tr: number; note?: string } {
  const side = run.repetitionTimeS;
  const head = header.repetitionTimeS;
  if (side !== null) {
    if (head !== null && Math.abs(head - side) > 0.01 * side) {
      return { tr: side, note: `RepetitionTime ${side} s from the sidecar used; the NIfTI header says ${head} s` };
    }
    return { tr: side };
  }
  if (head !== null) return { tr: head, ...(header.repetitionTimeNote ? { note: header.repetitionTimeNote } : {}) };
  throw new InputError(
    `${run.boldPath}: no RepetitionTime in the BOLD sidecars and none in the NIfTI header (pixdim[4])`,
  );
}

/**
 * The BOLD series at the mask voxels, voxel-major; with a smoothing FWHM every whole volume is
 * smoothed first (nilearn smooths the image, then masks).
 */
function readBoldSeries(path: string, mask: Volume, voxels: Int32Array, shared: boolean, fwhmMm: number) {
  const sameGridAs = { grid: mask, what: 'brain mask and BOLD run' };
  if (!(fwhmMm > 0)) return readNiftiVoxels(path, voxels, { layout: 'voxel-major', shared, sameGridAs });
  const nvox = mask.dims[0] * mask.dims[1] * mask.dims[2];
  const all = readNiftiVoxels(
    path,
    Int32Array.from({ length: nvox }, (_, i) => i),
    { sameGridAs },
  );
  const T = all.dims[3];
  smoothVolumes(all.data, all.dims.slice(0, 3), affineVoxelSizes(all.affine), fwhmMm);
  const n = voxels.length;
  const data = shared ? new Float32Array(new SharedArrayBuffer(n * T * 4)) : new Float32Array(n * T);
  for (let t = 0; t < T; t++) for (let i = 0; i < n; i++) data[i * T + t] = all.data[t * nvox + voxels[i]!]!;
  return { ...all, data };
}

export async function fitStudyRun(run: StudyRun, options: RunGlmOptions): Promise<RunGlmResult> {
  const events = readStudyRunEvents(run, options);
  const maskPath = run.maskPath ?? options.maskPath;
  if (!maskPath) throw new InputError(`${run.boldPath}: no brain mask found for this run; give one with --mask`);
  const mask = readVolume3d(maskPath, 'the brain mask');
  const voxels = maskIndices(mask);
  const bold = readBoldSeries(run.boldPath, mask, voxels, (options.threads ?? 1) > 1, options.smoothingFwhmMm ?? 0);
  const T = bold.dims[3];
  if (T < 3) throw new InputError(`${run.boldPath}: ${T} volume(s); a run needs a time series`);
  const { tr, note } = resolveTr(run, bold);
  checkEventsFitRun(events, T, tr, run.eventsPath!);
  const st = run.sliceTimingS;
  // Slice-timing-corrected data (fMRIPrep) refer to the middle of the slice acquisition times.
  const frameReferenceS = st && st.length > 0 ? (Math.min(...st) + Math.max(...st)) / 2 : 0;
  const confounds = run.confoundsPath
    ? readConfounds(run.confoundsPath, options.confounds ?? DEFAULT_CONFOUNDS, T)
    : undefined;
  const design = buildRunDesign({
    nScans: T,
    repetitionTimeS: tr,
    frameReferenceS,
    images: options.stimulusSet.images.map((i) => i.id),
    events,
    ...(confounds ? { confounds } : {}),
    highPassHz: options.highPassHz ?? DEFAULT_HIGH_PASS_HZ,
    hrf: options.hrf ?? 'spm',
    baselineTrialTypes: UNMODELLED_TRIAL_TYPES,
  });
  if (T <= design.nCols) throw new InputError(`${run.boldPath}: ${T} volumes cannot fit ${design.nCols} regressors`);

  const series = bold.data;
  const scaling = scaleToPercentSignalChange(series, T);
  const fit = await fitGlmParallel(series, design, {
    noiseModel: options.noiseModel ?? 'ar1',
    ar1Estimator: options.ar1Estimator ?? DEFAULT_AR1_ESTIMATOR,
    valid: scaling.valid,
    threads: options.threads ?? 1,
    residuals: options.keepResiduals ?? false,
  });

  const prefix = runPrefix(run);
  const files = await writeRunMaps(prefix, options, design, fit, { mask, voxels, bold });
  const V = voxels.length;
  const designFiles = writeDesignFiles(prefix, options, design, {
    repetitionTimeS: tr,
    frameReferenceS,
    dfResidual: fit.dfResidual,
    rank: fit.rank,
    voxels: V,
    skipped: scaling.skipped,
    ...(note ? { repetitionTimeNote: note } : {}),
  });
  files.push(...designFiles);
  const nuisanceRegressors = design.columns.filter((c) => c.kind === 'nuisance').map((c) => c.name);
  return {
    run,
    design,
    repetitionTimeS: tr,
    ...(note ? { repetitionTimeNote: note } : {}),
    frameReferenceS,
    files,
    nVoxels: V,
    skipped: scaling.skipped,
    meanRho: meanOverValid(fit.rho, scaling.valid, V),
    nuisanceRegressors,
    ...(fit.residuals ? { residuals: { values: fit.residuals, nVolumes: T, dfResidual: fit.dfResidual } } : {}),
    voxels,
  };
}

/** The run's events, checked against the stimulus set their events.json records. */
function readStudyRunEvents(run: StudyRun, options: RunGlmOptions) {
  const source = run.eventsPath ?? run.boldPath;
  if (run.eventsPath === null)
    throw new InputError(
      `${run.rawBoldPath}: no events file (${runPrefix({ ...run, space: null })}_events.tsv) for this run`,
    );
  const recorded = recordedStimulusSet(run.eventsMetadata).sha256;
  if (recorded !== undefined && recorded !== options.stimulusSet.sha256) {
    throw new InputError(
      `${source}: events.json records stimulus set sha256 ${String(recorded)}, but --stimuli has ${options.stimulusSet.sha256}; these events come from another stimulus set`,
    );
  }
  const text = readFileSync(run.eventsPath, 'utf8');
  const rows = parseEventsTsv(text, run.eventsPath);
  const ids = options.stimulusSet.images.map((i) => i.id);
  const imageOfRow = options.imageMapping && imagesOfEventRows(text, options.imageMapping, ids, run.eventsPath);
  return toRunEvents(rows, options.stimulusSet.images, run.eventsPath, imageOfRow);
}

/** Mean of the fitted AR(1) coefficients over the voxels that were fitted (0 when none). */
function meanOverValid(rho: ArrayLike<number>, valid: ArrayLike<number | boolean>, V: number): number {
  let rhoSum = 0;
  let fitted = 0;
  for (let i = 0; i < V; i++) {
    if (valid[i]) {
      rhoSum += rho[i]!;
      fitted++;
    }
  }
  return fitted ? rhoSum / fitted : 0;
}

/** A beta map per image column and the residual-variance map, gzipped on libuv's pool. */
async function writeRunMaps(
  prefix: string,
  options: RunGlmOptions,
  design: DesignMatrix,
  fit: Awaited<ReturnType<typeof fitGlmParallel>>,
  grid: { mask: Volume; voxels: Int32Array; bold: ReturnType<typeof readBoldSeries> },
): Promise<RunOutputFile[]> {
  const { mask, voxels, bold } = grid;
  const labels = imageDescLabels(options.stimulusSet.images.map((i) => i.id));
  const nvox = mask.dims[0] * mask.dims[1] * mask.dims[2];
  const V = voxels.length;
  const files: RunOutputFile[] = [];
  const writes: Promise<void>[] = [];
  const ref = { qformCode: bold.header.qformCode, sformCode: bold.header.sformCode };
  const writeMap = (name: string, fill: (i: number) => number, intent: 'estimate' | 'none', file: RunOutputFile) => {
    const data = new Float32Array(nvox);
    for (let i = 0; i < V; i++) data[voxels[i]!] = fill(i);
    writes.push(
      writeNiftiAsync(
        join(options.outDir, name),
        { dims: mask.dims.slice(0, 3), data, affine: bold.affine },
        { intent, reference: ref, gzipLevel: options.gzipLevel ?? 1 },
      ),
    );
    files.push(file);
  };
  design.columns.forEach((c, k) => {
    if (c.kind !== 'image') return;
    const name = `${prefix}_desc-${labels.get(c.name)}_beta.nii.gz`;
    writeMap(name, (i) => fit.betas[k * V + i]!, 'estimate', { path: name, stat: 'beta', image: c.name });
  });
  const rv = `${prefix}_desc-residual_variance.nii.gz`;
  writeMap(rv, (i) => fit.residualVariance[i]!, 'none', { path: rv, stat: 'residual-variance' });
  await Promise.all(writes);
  return files;
}

/** The design as TSV, and as JSON with the settings and the fit's figures. */
function writeDesignFiles(
  prefix: string,
  options: RunGlmOptions,
  design: DesignMatrix,
  figures: {
    repetitionTimeS: number;
    frameReferenceS: number;
    dfResidual: number;
    rank: number;
    voxels: number;
    skipped: RunGlmResult['skipped'];
    repetitionTimeNote?: string;
  },
): RunOutputFile[] {
  const designTsv = `${prefix}_design.tsv`;
  writeFileAtomic(join(options.outDir, designTsv), formatDesignTsv(design));
  const designJson = `${prefix}_design.json`;
  const { repetitionTimeNote, ...fitFigures } = figures;
  writeFileAtomic(
    join(options.outDir, designJson),
    `${JSON.stringify(
      {
        columns: design.columns,
        imagesAbsent: design.imagesAbsent,
        repetitionTimeS: fitFigures.repetitionTimeS,
        frameReferenceS: fitFigures.frameReferenceS,
        noiseModel: options.noiseModel ?? 'ar1',
        ...((options.noiseModel ?? 'ar1') === 'ar1'
          ? { ar1Estimator: options.ar1Estimator ?? DEFAULT_AR1_ESTIMATOR }
          : {}),
        smoothingFwhmMm: options.smoothingFwhmMm ?? 0,
        hrf: options.hrf ?? 'spm',
        highPassHz: options.highPassHz ?? DEFAULT_HIGH_PASS_HZ,
        signalScaling: 'percent signal change (nilearn mean_scaling)',
        dfResidual: fitFigures.dfResidual,
        rank: fitFigures.rank,
        voxels: fitFigures.voxels,
        skipped: fitFigures.skipped,
        ...(repetitionTimeNote ? { repetitionTimeNote } : {}),
      },
      null,
      2,
    )}\n`,
  );
  return [
    { path: designTsv, stat: 'design' },
    { path: designJson, stat: 'design' },
  ];
}

/**
 * `orthostim searchlight`: the searchlight alone, on beta maps a user already has. Reads the mask
 * and the betas (beta-files), assembles them (beta-set), runs the shared searchlight step, and
 * writes the maps, index.json, analysis.json and report.html into `--out`, atomically.
 */
import type { ExtraModelRdm } from '../rsa/compare-models';
import { buildOutputDir, type LoadedStimulusSet } from '@orthostim/protocol/node';
import { assertSameGrid, readVolume3d } from '../io/nifti';
import { listMaskVoxels } from '../searchlight/neighbors';
import { attachResiduals, betaReadAhead, readBetaFiles } from './beta-files';
import { betaTableFiles, readBetaTable, readBetaTableRuns } from './beta-table';
import { assembleBetas } from './beta-set';
import { MapWriter, type GridRef } from './map-writer';
import { OutputIndexBuilder } from './output-index';
import { makeProvenance, writeProvenance } from './provenance';
import { runSearchlightStage, type SearchlightStageResult } from './searchlight-stage';
import type { SearchlightSettings } from './settings';

export interface SearchlightFilesJob {
  /** 4D beta files (one per run, or one with `labels`); empty when `betasTable` is given. */
  betas: string[];
  /** A TSV of 3D beta maps (columns file, image, run), instead of `betas`. */
  betasTable?: string;
  labels?: string;
  residuals?: string[];
  residualSeries?: string[];
  /** Degrees of freedom of the stacked residual series (default: rows - 1, rsatoolbox's default). */
  residualDof?: number;
  mask: string;
  stimuli: LoadedStimulusSet;
  outDir: string;
  settings: SearchlightSettings;
  space?: string;
  rois?: { path: string; labelsPath?: string };
  /** User-given model RDMs (`--model-rdm`), compared like the layers. */
  modelRdms?: readonly ExtraModelRdm[];
  template?: string;
  /** Write report.html (default true). */
  report?: boolean;
  overwrite?: boolean;
  settingsRecord: Record<string, unknown>;
}

export interface SearchlightFilesSummary {
  dir: string;
  runs: string[];
  nMaskVoxels: number;
  searchlight: SearchlightStageResult;
  notes: string[];
  reportWritten: boolean;
  /** read: betas in memory; searchlight: r of every centre, maps handed to the encoders; write: report and the maps on disk. */
  seconds: { read: number; searchlight: number; write: number; total: number };
}

export async function runSearchlightOnFiles(job: SearchlightFilesJob): Promise<SearchlightFilesSummary> {
  const t0 = performance.now();
  return buildOutputDir(job.outDir, (staging) => searchlightIntoStaging(job, staging, t0), {
    overwrite: job.overwrite ?? false,
    inputs: [
      ...job.betas,
      ...(job.residuals ?? []),
      job.labels,
      job.mask,
      job.stimuli.path,
      job.rois?.path,
      job.rois?.labelsPath,
      job.template,
    ],
  });
}

/** Every step of the searchlight on beta files, written into the staging folder. */
async function searchlightIntoStaging(
  job: SearchlightFilesJob,
  staging: string,
  t0: number,
): Promise<SearchlightFilesSummary> {
  const set = job.stimuli.set;
  const { mask, grid, candidates, assembled } = await readInputBetas(job);
  const t1 = performance.now();
  const space = job.space ?? 'unknown';
  const index = new OutputIndexBuilder({ level: 'participant', space });
  const writer = new MapWriter(staging, grid, index);
  const searchlight = await runSearchlightStage({
    set,
    rdms: job.stimuli.rdms,
    settings: job.settings,
    betas: assembled,
    grid,
    writer,
    subdir: '',
    entities: job.space ? [['space', job.space]] : [],
    ...(job.rois ? { rois: job.rois } : {}),
    ...(job.modelRdms ? { modelRdms: job.modelRdms } : {}),
    progressLabel: 'searchlight',
  });
  // The maps are still being built and gzipped on the encoder threads: the report is drawn on
  // this thread meanwhile, and the folder is complete after the flush below.
  const t2 = performance.now();
  writeSearchlightProvenance(job, staging, assembled, [...assembled.notes, ...searchlight.notes]);
  index.add({ path: 'analysis.json', stat: 'provenance', description: 'resolved settings, inputs and versions' });
  if (job.report !== false) {
    await writeSearchlightReport(job, staging, { mask, grid, candidates, assembled, searchlight });
    index.add({ path: 'report.html', stat: 'report', description: 'searchlight report' });
  }
  await writer.flush();
  index.write(staging);
  const t3 = performance.now();
  return {
    dir: job.outDir,
    runs: assembled.runsUsed,
    nMaskVoxels: candidates.length,
    searchlight,
    notes: [...assembled.notes, ...searchlight.notes],
    reportWritten: job.report !== false,
    seconds: {
      read: (t1 - t0) / 1000,
      searchlight: (t2 - t1) / 1000,
      write: (t3 - t2) / 1000,
      total: (t3 - t0) / 1000,
    },
  };
}

/** The mask and its grid, and the betas (files or table, with residuals) assembled at the voxels inside it. */
async function readInputBetas(job: SearchlightFilesJob) {
  const ids = job.stimuli.set.images.map((i) => i.id);
  const table = job.betasTable ? readBetaTable(job.betasTable, ids) : null;
  const inputs = table ? { betas: betaTableFiles(table), residuals: job.residuals } : job;
  const ahead = betaReadAhead(inputs).start(); // the first betas load while the mask is read
  const mask = readVolume3d(job.mask, '--mask');
  const dims = [mask.dims[0], mask.dims[1], mask.dims[2]] as const;
  const candidates = listMaskVoxels(mask.data, dims);
  const runs = table
    ? await attachResiduals(
        await readBetaTableRuns(table, mask, candidates, ahead),
        job.residuals ?? [],
        mask,
        candidates,
        ahead,
      )
    : await readBetaFiles(
        {
          betas: job.betas,
          ...(job.labels ? { labels: job.labels } : {}),
          ...(job.residuals ? { residuals: job.residuals } : {}),
          ...(job.residualSeries ? { residualSeries: job.residualSeries } : {}),
          imageIds: ids,
        },
        mask,
        candidates,
        ahead,
      );
  const stacked = assembleBetas(
    candidates,
    runs,
    ids,
    job.settings.distance,
    job.betasTable ?? (job.betas.length === 1 ? job.betas[0]! : `${job.betas.length} beta files`),
  );
  const series = stacked.residualSeries;
  const assembled = series
    ? { ...stacked, residualSeries: { ...series, dof: job.residualDof ?? series.nRows - 1 } }
    : stacked;
  const grid: GridRef = {
    dims,
    affine: mask.affine,
    reference: { qformCode: mask.header.qformCode, sformCode: mask.header.sformCode },
  };
  return { mask, grid, candidates, assembled };
}

type InputBetas = Awaited<ReturnType<typeof readInputBetas>>;

/** analysis.json: the settings as given, the inputs read and the notes. */
function writeSearchlightProvenance(
  job: SearchlightFilesJob,
  staging: string,
  assembled: InputBetas['assembled'],
  notes: readonly string[],
): void {
  const set = job.stimuli.set;
  const inputs = {
    betas: job.betas,
    ...(job.betasTable ? { betasTable: job.betasTable } : {}),
    labels: job.labels ?? null,
    residuals: job.residuals ?? [],
    residualSeries: job.residualSeries ?? [],
    mask: job.mask,
    runs: assembled.runsUsed,
    stimulusSet: {
      path: job.stimuli.path,
      sha256: set.sha256,
      layers: set.layers,
      images: set.images.length,
      model: set.model.name,
    },
    ...(job.rois ? { rois: job.rois } : {}),
  };
  writeProvenance(staging, makeProvenance('searchlight', job.settingsRecord, inputs, [...notes]));
}

/** report.html over the mask (or --template). */
async function writeSearchlightReport(
  job: SearchlightFilesJob,
  staging: string,
  r: InputBetas & { searchlight: SearchlightStageResult },
): Promise<void> {
  const { mask, grid, candidates, assembled, searchlight } = r;
  let background: ArrayLike<number> = mask.data;
  let backgroundName = 'the mask';
  if (job.template) {
    const tpl = readVolume3d(job.template, '--template');
    assertSameGrid(mask, tpl, '--template and --mask');
    background = tpl.data;
    backgroundName = job.template;
  }
  // Loaded only here: the report brings the figure renderer (sharp) that --no-report never needs.
  const { writeParticipantReport } = await import('../report/participant-report');
  await writeParticipantReport(staging, {
    participant: null,
    set: job.stimuli.set,
    setDir: job.stimuli.dir,
    settings: job.settings,
    grid,
    background,
    backgroundName,
    searchlight,
    notes: [
      ...assembled.notes,
      ...searchlight.notes,
      ...(searchlight.invalidSpheres > 0
        ? [`${searchlight.invalidSpheres} searchlight centre(s) had a NaN or constant sphere RDM: NaN for every layer`]
        : []),
    ],
    nMaskVoxels: candidates.length,
    droppedVoxels: assembled.droppedVoxels,
    runsUsed: assembled.runsUsed,
  });
}

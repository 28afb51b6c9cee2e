/** `orthostim searchlight`: the searchlight on beta maps a user already has; parse, run, print a summary. */
import { Command, Option, parsePositiveInt, requireOption } from '@orthostim/protocol/cli';
import { UsageError } from '@orthostim/protocol';
import { readStimulusSet, sha256File } from '@orthostim/protocol/node';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readSync, realpathSync, statSync } from 'node:fs';
import { runSearchlightOnFiles, type SearchlightFilesSummary } from '../pipeline/searchlight-on-files';
import { readNiftiInfo } from '../io/nifti';
import {
  checkSearchlightRadius,
  describeRadius,
  resolveSearchlightSettings,
  type AnalysisFlags,
  type SearchlightSettings,
  type AnalysisOptionName,
} from '../pipeline/settings';
import { addOptions, readModelRdmFlags } from './analysis-flags';
import { checkSearchlightSetSize } from '../pipeline/roi-stage';
import { checkLayerRdms } from './check-layer-rdms';
import { needsResidualSeries } from '../pipeline/searchlight-stage';

const SHARED: AnalysisOptionName[] = [
  'stimuli',
  'mask',
  'space',
  'radiusMm',
  'radiusVox',
  'minFraction',
  'distance',
  'noiseNormalization',
  'compare',
  'method',
  'residual',
  'rois',
  'roiLabels',
  'modelRdm',
  'template',
  'threads',
  'overwrite',
];

interface SearchlightFlags
  extends Pick<
    AnalysisFlags,
    | 'stimuli'
    | 'mask'
    | 'space'
    | 'radiusMm'
    | 'radiusVox'
    | 'minFraction'
    | 'distance'
    | 'noiseNormalization'
    | 'compare'
    | 'method'
    | 'residual'
    | 'rois'
    | 'roiLabels'
    | 'modelRdm'
    | 'template'
    | 'threads'
    | 'overwrite'
  > {
  betas?: string[];
  betasTable?: string;
  residuals?: string[];
  residualSeries?: string[];
  residualDof?: number;
  labels?: string;
  out?: string;
  report: boolean;
}

const fmt = (v: number) => (Number.isNaN(v) ? 'n/a' : v.toFixed(3));

export function formatSearchlightSummary(s: SearchlightFilesSummary): string {
  const sl = s.searchlight;
  const best = sl.methods.map((m) => {
    const top = sl.models.filter((x) => x.method === m && !Number.isNaN(x.max)).sort((a, b) => b.max - a.max)[0];
    return top ? `${m}: ${top.kind ? `${top.layer} (model RDM)` : top.layer} (max r ${fmt(top.max)})` : `${m}: none`;
  });
  return [
    `searchlight: ${s.runs.length} run(s), ${s.nMaskVoxels} mask voxels, ${sl.nAnalysisVoxels} analysed, ${sl.nCenters} centres (${sl.invalidSpheres} NaN), ${sl.layers.length} layers x ${sl.methods.length} method(s)`,
    `  highest r: ${best.join('; ')}`,
    ...s.notes.map((n) => `  note: ${n}`),
    `  ${s.seconds.total.toFixed(2)} s (read ${s.seconds.read.toFixed(2)}, searchlight ${s.seconds.searchlight.toFixed(2)}, maps${s.reportWritten ? ' and report' : ''} written ${s.seconds.write.toFixed(2)})`,
    `  wrote ${s.dir}/ (index.json, analysis.json${s.reportWritten ? ', report.html' : ''})`,
  ].join('\n');
}

/** Size and a hash of the first and last MiB: equal for copies, different for any two real runs in practice. */
function quickFingerprint(path: string, size: number): string {
  const chunk = Math.min(size, 1 << 20);
  const buf = Buffer.alloc(2 * chunk);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, buf, 0, chunk, 0);
    readSync(fd, buf, chunk, chunk, Math.max(0, size - chunk));
  } finally {
    closeSync(fd);
  }
  return `${size}:${createHash('sha256').update(buf).digest('hex')}`;
}

/**
 * The same run given twice (one path twice, or two copies of one file) would count as two
 * independent runs: crossnobis's cross-validation would then compare a run with itself. Files are
 * compared by a cheap fingerprint first; only files whose fingerprints agree are hashed whole.
 */
export function refuseRepeatedRuns(betas: readonly string[]): void {
  const seen = new Map<string, { file: string; real: string }>();
  for (const file of betas) {
    if (!existsSync(file)) continue; // the reader says so, with the role of the file
    const real = realpathSync(file);
    const fingerprint = quickFingerprint(real, statSync(real).size);
    const other = seen.get(fingerprint);
    if (other && (other.real === real || sha256File(other.real) === sha256File(real)))
      throw new UsageError(
        `--betas: ${file} is the same run as ${other.file}${other.real === real ? '' : ' (identical contents)'}; give each run once`,
      );
    seen.set(fingerprint, { file, real });
  }
}

/** Residual inputs must match the distance and noise normalisation they serve. */
function checkResidualFlags(flags: SearchlightFlags, settings: SearchlightSettings): void {
  if (flags.residuals && settings.distance !== 'crossnobis')
    throw new UsageError(`--residuals are used by --distance crossnobis only; got --distance ${settings.distance}`);
  if (flags.residualSeries && !needsResidualSeries(settings))
    throw new UsageError(
      `--residual-series are used by --distance crossnobis with --noise-normalization multivariate or multivariate-eye; got --distance ${settings.distance} --noise-normalization ${settings.noiseNormalization}`,
    );
  if (needsResidualSeries(settings) && !flags.residualSeries)
    throw new UsageError(
      `--noise-normalization ${settings.noiseNormalization} needs --residual-series (one 4D GLM residual file per run)`,
    );
}

/** Examples and notes under `orthostim searchlight --help`. */
const SEARCHLIGHT_HELP = `
Examples:
  orthostim searchlight --betas run1_betas.nii run2_betas.nii --mask mask.nii.gz --stimuli set --out sl
  orthostim searchlight --betas all_betas.nii.gz --labels betas.tsv --mask mask.nii.gz --stimuli set --out sl --distance crossnobis --residuals rv1.nii.gz rv2.nii.gz
  orthostim searchlight --betas-table spm_betas.tsv --mask spm/mask.nii --stimuli set --out sl
  orthostim searchlight --betas b1.nii b2.nii --mask mask.nii.gz --stimuli set --out mnn --distance crossnobis --noise-normalization multivariate --residual-series res1.nii.gz res2.nii.gz
  orthostim searchlight --betas b1.nii b2.nii --mask vt.nii.gz --stimuli set --out roi --rois vt.nii.gz --roi-labels vt.tsv --radius-vox 2
  orthostim searchlight --betas b1.nii b2.nii --mask mask.nii.gz --stimuli set --out sl --model-rdm animacy=animacy.tsv

Without --residuals, crossnobis is the cross-validated Euclidean distance of the betas as given
(univariate, pooled, pairwise); multivariate normalisations need --residual-series. docs/analysis-rsa.md
says which rsatoolbox call each equals.
The output folder has index.json (schema orthostim.outputs/1), analysis.json and report.html.`;

export function buildSearchlightCommand(): Command {
  const cmd = new Command('searchlight')
    .description(
      'searchlight RSA on beta maps you already have (SPM, FSL, nilearn): r and Fisher z map per layer and method, winner-take-all, sphere size, ROI RDMs',
    )
    .option(
      '--betas <files...>',
      "one 4D file per run whose volumes follow the stimulus set's image order, or one 4D file with --labels",
    )
    .option(
      '--betas-table <tsv>',
      'instead of --betas: one 3D beta map per row (SPM beta_0001.nii, ...), columns file (relative to the table), image (image id) and run',
    )
    .option(
      '--labels <tsv>',
      'for a single 4D --betas file: one row per volume with columns condition (image id) and run',
    )
    .option(
      '--residuals <files...>',
      'one residual-variance map per run (run order): noise normalisation for --distance crossnobis',
    )
    .option(
      '--residual-series <files...>',
      'one 4D GLM residual series per run (run order): --noise-normalization multivariate or multivariate-eye',
    )
    .addOption(
      new Option(
        '--residual-dof <n>',
        'degrees of freedom of the residual series summed over runs (default: their volumes - 1, as rsatoolbox)',
      ).argParser(parsePositiveInt('--residual-dof')),
    )
    .option('--out <dir>', 'output folder (refused if it exists and is not empty, unless --overwrite)')
    .option('--no-report', 'skip report.html');
  addOptions(cmd, SHARED);
  cmd.addHelpText('after', SEARCHLIGHT_HELP);
  cmd.action((flags: SearchlightFlags) => runSearchlightCommand(flags, cmd.getOptionValueSource('radiusMm') === 'cli'));
  return cmd;
}

/** The action: the flags checked and resolved, the searchlight run, a summary printed. */
async function runSearchlightCommand(flags: SearchlightFlags, radiusFromCli: boolean): Promise<void> {
  if (flags.betas && flags.betasTable) throw new UsageError('--betas and --betas-table exclude each other: give one');
  if (flags.labels && flags.betasTable)
    throw new UsageError('--labels describes a 4D --betas file; a --betas-table names each map itself');
  const betas = flags.betasTable
    ? []
    : requireOption(
        flags.betas,
        '--betas',
        'the beta maps (one 4D file per run, one with --labels, or a --betas-table of 3D maps)',
      );
  const mask = requireOption(flags.mask, '--mask', "the brain (or searchlight) mask on the betas' grid");
  const out = requireOption(flags.out, '--out', 'the folder to write the maps into');
  const stimuli = readStimulusSet(
    requireOption(flags.stimuli, '--stimuli', 'the stimulus-set.json whose layer RDMs are the models'),
    { checkImages: false },
  );
  const settings = resolveSearchlightSettings(flags, radiusFromCli);
  checkSearchlightRadius(settings.radius, readNiftiInfo(mask));
  refuseRepeatedRuns(betas);
  checkLayerRdms(stimuli);
  if (flags.roiLabels && !flags.rois) throw new UsageError('--roi-labels needs --rois (the label image)');
  checkSearchlightSetSize(stimuli.set.images.length, flags.rois !== undefined);
  checkResidualFlags(flags, settings);
  const modelRdms = await readModelRdmFlags(flags.modelRdm, stimuli.set);
  process.stderr.write(
    `searchlight: radius ${describeRadius(settings.radius)}, ${settings.distance}, ${settings.compare}, method ${settings.method}, ${settings.threads} thread(s)\n`,
  );
  const s = await runSearchlightOnFiles({
    betas,
    ...(flags.betasTable ? { betasTable: flags.betasTable } : {}),
    ...(flags.labels ? { labels: flags.labels } : {}),
    ...(flags.residuals ? { residuals: flags.residuals } : {}),
    ...(flags.residualSeries ? { residualSeries: flags.residualSeries } : {}),
    ...(flags.residualDof !== undefined ? { residualDof: flags.residualDof } : {}),
    mask,
    stimuli,
    outDir: out,
    settings,
    ...(flags.space ? { space: flags.space } : {}),
    ...(flags.rois ? { rois: { path: flags.rois, ...(flags.roiLabels ? { labelsPath: flags.roiLabels } : {}) } } : {}),
    ...(flags.template ? { template: flags.template } : {}),
    ...(modelRdms.length ? { modelRdms } : {}),
    report: flags.report,
    overwrite: flags.overwrite ?? false,
    settingsRecord: { ...flags, resolved: settings },
  });
  process.stdout.write(`${formatSearchlightSummary(s)}\n`);
}

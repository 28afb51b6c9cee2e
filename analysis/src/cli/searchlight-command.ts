/** `orthostim searchlight`: the searchlight on beta maps a user already has; parse, run, print a summary. */
import { Command, requireOption } from '@orthostim/protocol/cli';
import { UsageError } from '@orthostim/protocol';
import { readStimulusSet } from '@orthostim/protocol/node';
import { runSearchlightOnFiles, type SearchlightFilesSummary } from '../pipeline/searchlight-on-files';
import {
  describeRadius,
  resolveSearchlightSettings,
  type AnalysisFlags,
  type AnalysisOptionName,
} from '../pipeline/settings';
import { addOptions } from './analysis-flags';

const SHARED: AnalysisOptionName[] = [
  'stimuli',
  'mask',
  'space',
  'radiusMm',
  'radiusVox',
  'minFraction',
  'distance',
  'compare',
  'method',
  'residual',
  'rois',
  'roiLabels',
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
    | 'compare'
    | 'method'
    | 'residual'
    | 'rois'
    | 'roiLabels'
    | 'template'
    | 'threads'
    | 'overwrite'
  > {
  betas?: string[];
  residuals?: string[];
  labels?: string;
  out?: string;
  report: boolean;
}

const fmt = (v: number) => (Number.isNaN(v) ? 'n/a' : v.toFixed(3));

export function formatSearchlightSummary(s: SearchlightFilesSummary): string {
  const sl = s.searchlight;
  const best = sl.methods.map((m) => {
    const top = sl.models.filter((x) => x.method === m && !Number.isNaN(x.max)).sort((a, b) => b.max - a.max)[0];
    return top ? `${m}: ${top.layer} (max r ${fmt(top.max)})` : `${m}: none`;
  });
  return [
    `searchlight: ${s.runs.length} run(s), ${s.nMaskVoxels} mask voxels, ${sl.nAnalysisVoxels} analysed, ${sl.nCenters} centres (${sl.invalidSpheres} NaN), ${sl.layers.length} layers x ${sl.methods.length} method(s)`,
    `  highest r: ${best.join('; ')}`,
    ...s.notes.map((n) => `  note: ${n}`),
    `  ${s.seconds.total.toFixed(2)} s (read ${s.seconds.read.toFixed(2)}, searchlight ${s.seconds.searchlight.toFixed(2)}, maps${s.reportWritten ? ' and report' : ''} written ${s.seconds.write.toFixed(2)})`,
    `  wrote ${s.dir}/ (index.json, analysis.json${s.reportWritten ? ', report.html' : ''})`,
  ].join('\n');
}

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
      '--labels <tsv>',
      'for a single 4D --betas file: one row per volume with columns condition (image id) and run',
    )
    .option(
      '--residuals <files...>',
      'one residual-variance map per run (run order): noise normalisation for --distance crossnobis',
    )
    .option('--out <dir>', 'output folder (refused if it exists and is not empty, unless --overwrite)')
    .option('--no-report', 'skip report.html');
  addOptions(cmd, SHARED);
  cmd.addHelpText(
    'after',
    `
Examples:
  orthostim searchlight --betas run1_betas.nii run2_betas.nii --mask mask.nii.gz --stimuli set --out sl
  orthostim searchlight --betas all_betas.nii.gz --labels betas.tsv --mask mask.nii.gz --stimuli set --out sl --distance crossnobis --residuals rv1.nii.gz rv2.nii.gz
  orthostim searchlight --betas b1.nii b2.nii --mask vt.nii.gz --stimuli set --out roi --rois vt.nii.gz --roi-labels vt.tsv --radius-vox 2

Without --residuals, crossnobis is the cross-validated Euclidean distance of the betas as given.
The output folder has index.json (schema orthostim.outputs/1), analysis.json and report.html.`,
  );
  cmd.action(async (flags: SearchlightFlags) => {
    const betas = requireOption(flags.betas, '--betas', 'the beta maps (one 4D file per run, or one with --labels)');
    const mask = requireOption(flags.mask, '--mask', "the brain (or searchlight) mask on the betas' grid");
    const out = requireOption(flags.out, '--out', 'the folder to write the maps into');
    const stimuli = readStimulusSet(
      requireOption(flags.stimuli, '--stimuli', 'the stimulus-set.json whose layer RDMs are the models'),
      { checkImages: false },
    );
    const settings = resolveSearchlightSettings(flags, cmd.getOptionValueSource('radiusMm') === 'cli');
    if (flags.roiLabels && !flags.rois) throw new UsageError('--roi-labels needs --rois (the label image)');
    if (flags.residuals && settings.distance !== 'crossnobis')
      throw new UsageError(`--residuals are used by --distance crossnobis only; got --distance ${settings.distance}`);
    process.stderr.write(
      `searchlight: radius ${describeRadius(settings.radius)}, ${settings.distance}, ${settings.compare}, method ${settings.method}, ${settings.threads} thread(s)\n`,
    );
    const s = await runSearchlightOnFiles({
      betas,
      ...(flags.labels ? { labels: flags.labels } : {}),
      ...(flags.residuals ? { residuals: flags.residuals } : {}),
      mask,
      stimuli,
      outDir: out,
      settings,
      ...(flags.space ? { space: flags.space } : {}),
      ...(flags.rois
        ? { rois: { path: flags.rois, ...(flags.roiLabels ? { labelsPath: flags.roiLabels } : {}) } }
        : {}),
      ...(flags.template ? { template: flags.template } : {}),
      report: flags.report,
      overwrite: flags.overwrite ?? false,
      settingsRecord: { ...flags, resolved: settings },
    });
    process.stdout.write(`${formatSearchlightSummary(s)}\n`);
  });
  return cmd;
}

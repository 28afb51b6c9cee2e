/** `orthostim analyze <bids_dir> <output_dir> participant|group`: parse, validate, run the pipeline, print a summary. */
import { availableParallelism } from 'node:os';
import { existsSync, mkdirSync, readdirSync, realpathSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Argument } from 'commander';
import { Command, info, requireOption } from '@orthostim/protocol/cli';
import { InputError, UsageError } from '@orthostim/protocol';
import { checkOutputDir as checkOutputFolder, readStimulusSet } from '@orthostim/protocol/node';
import { readBidsDataset, selectParticipants } from '../io/bids';
import { runGroup, type GroupSummary } from '../pipeline/group';
import { runParticipant, type ParticipantSummary } from '../pipeline/participant';
import { ensureDatasetDescription } from '../pipeline/provenance';
import {
  ANALYSIS_OPTIONS,
  describeRadius,
  resolveGlmSettings,
  resolveGroupSettings,
  resolveSearchlightSettings,
  type AnalysisFlags,
  type AnalysisOptionName,
} from '../pipeline/settings';
import { addOptions, readModelRdmFlags } from './analysis-flags';
import { resolveImageMapping } from './image-mapping-flags';
import { checkSearchlightSetSize } from '../pipeline/roi-stage';
import { checkLayerRdms } from './check-layer-rdms';
import { addExecutorOptions, readExecutorSettings } from '@orthostim/executor/cli';
import { runGroupOnExecutor, runParticipantsOnExecutor } from './analyze-executor';

const OPTION_NAMES = Object.keys(ANALYSIS_OPTIONS) as AnalysisOptionName[];

function realOrResolved(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return resolve(p);
  }
}

/** BIDS-Apps rule: the output must not be the input dataset itself. */
export function checkOutputDir(bidsDir: string, outputDir: string): void {
  if (realOrResolved(bidsDir) === realOrResolved(outputDir)) {
    throw new UsageError(
      `output_dir ${outputDir} is the input dataset ${bidsDir}; write derivatives elsewhere (e.g. ${join(bidsDir, 'derivatives', 'orthostim')})`,
    );
  }
}

const fmt = (v: number) => (Number.isNaN(v) ? 'n/a' : v.toFixed(3));

export function formatParticipantSummary(s: ParticipantSummary): string {
  const sl = s.searchlight;
  const best = sl.methods.map((m) => {
    const ms = sl.models.filter((x) => x.method === m && !Number.isNaN(x.max));
    const top = ms.sort((a, b) => b.max - a.max)[0];
    return top ? `${m}: ${top.kind ? `${top.layer} (model RDM)` : top.layer} (max r ${fmt(top.max)})` : `${m}: none`;
  });
  return [
    `sub-${s.participant}: ${s.runs.length} run(s), ${s.nMaskVoxels} mask voxels, ${sl.nAnalysisVoxels} analysed, ${sl.nCenters} centres (${sl.invalidSpheres} NaN), ${sl.layers.length} layers x ${sl.methods.length} method(s); ${s.seconds.toFixed(1)} s`,
    `  highest r: ${best.join('; ')}`,
    ...s.notes.map((n) => `  note: ${n}`),
    `  wrote ${s.dir}/ (index.json, report.html, analysis.json)`,
  ].join('\n');
}

export function formatGroupSummary(g: GroupSummary): string {
  return [
    `group: ${g.participants.length} participants (${g.participants.join(', ')}), ${g.tests.length} layer map(s) tested, ${g.nPatterns} sign patterns${g.exhaustive ? ' (all)' : ''}; ${g.seconds.toFixed(1)} s`,
    ...(g.note ? [`  note: ${g.note}`] : []),
    ...g.tests.map(
      (t) =>
        `  ${t.layer} (${t.method}): ${t.nSignificant} voxel(s) with FWE p < ${g.alpha}, ${t.nClusters} cluster(s), max |${g.statistic}| ${fmt(t.maxAbsT)}`,
    ),
    `  wrote ${g.dir}/ (index.json, report.html, analysis.json)`,
  ].join('\n');
}

/** Examples and notes under `orthostim analyze --help`. */
const ANALYZE_HELP = `
Examples:
  orthostim analyze data/bids data/bids/derivatives/orthostim participant --participant-label 01 02 --stimuli sets/natural16
  orthostim analyze data/bids out participant --stimuli set --derivatives data/bids/derivatives/fmriprep --radius-vox 3 --method residual
  orthostim analyze data/bids out participant --stimuli set --rois atlas.nii.gz --roi-labels atlas.tsv
  orthostim analyze haxby2001 out participant --stimuli photos-set --image-map categories.tsv --radius-vox 1
  orthostim analyze data/bids out participant --stimuli set --rois vt.nii.gz --distance crossnobis --noise-normalization multivariate --smoothing-fwhm 4
  orthostim analyze data/bids out participant --stimuli set --model-rdm animacy=animacy.tsv faces=faces.csv
  orthostim analyze data/bids out group --atlas atlas.nii.gz --atlas-labels atlas.tsv --n-permutations 5000
  orthostim view out

Participants write into their own sub-<label>/ folders, so several participant runs (in sequence or
in parallel) share one output folder. Every folder has index.json (schema orthostim.outputs/1),
analysis.json (resolved settings, inputs, versions) and report.html. See docs/analysis-pipeline.md.`;

export function buildAnalyzeCommand(): Command {
  const cmd = new Command('analyze')
    .description(
      "BIDS-Apps analysis: per participant, the GLM of every run, a searchlight RSA against the stimulus set's layer RDMs, layer maps and a report; " +
        "at the group level, sign-flip permutation tests of the participants' Fisher-z maps with max-statistic FWE, winner-take-all, overlap and cluster tables",
    )
    .addArgument(new Argument('<bids_dir>', 'BIDS dataset (raw; preprocessed runs come from --derivatives)'))
    .addArgument(
      new Argument('<output_dir>', 'derivatives folder: participants write sub-<label>/, the group level group/'),
    )
    .addArgument(new Argument('<analysis_level>', 'participant or group').choices(['participant', 'group']));
  addOptions(cmd, OPTION_NAMES);
  addExecutorOptions(cmd); // --executor local|slurm: one task per participant (docs/cluster.md)
  cmd.addHelpText('after', ANALYZE_HELP);
  cmd.action(async (bidsDir: string, outputDir: string, level: 'participant' | 'group', flags: AnalysisFlags) => {
    checkOutputDir(bidsDir, outputDir);
    const executor = readExecutorSettings(flags);
    const ds = readBidsDataset(bidsDir);
    const settingsRecord = { ...flags, level };
    if (level === 'participant') {
      const radiusFromCli = cmd.getOptionValueSource('radiusMm') === 'cli';
      return analyzeParticipants(ds, outputDir, flags, executor, settingsRecord, radiusFromCli);
    }
    return analyzeGroup(ds, outputDir, flags, executor, settingsRecord);
  });
  return cmd;
}

type Executor = ReturnType<typeof readExecutorSettings>;
type Dataset = ReturnType<typeof readBidsDataset>;

/** `analyze ... participant`: every selected participant, here in sequence or as executor tasks. */
async function analyzeParticipants(
  ds: Dataset,
  outputDir: string,
  flags: AnalysisFlags,
  executor: Executor,
  settingsRecord: Record<string, unknown>,
  radiusFromCli: boolean,
): Promise<void> {
  const stimuliPath = requireOption(
    flags.stimuli,
    '--stimuli',
    'the stimulus-set.json whose layer RDMs are the models',
  );
  const stimuli = readStimulusSet(stimuliPath, { checkImages: false });
  checkLayerRdms(stimuli);
  const searchlight = resolveSearchlightSettings(flags, radiusFromCli);
  const glm = resolveGlmSettings(flags);
  const imageMapping = resolveImageMapping(
    flags,
    stimuli.set.images.map((i) => i.id),
  );
  if (flags.roiLabels && !flags.rois) throw new UsageError('--roi-labels needs --rois (the label image)');
  checkSearchlightSetSize(stimuli.set.images.length, flags.rois !== undefined);
  const modelRdms = await readModelRdmFlags(flags.modelRdm, stimuli.set);
  const labels = selectParticipants(ds, flags.participantLabel);
  checkParticipantFolders(outputDir, labels, flags.overwrite ?? false, Boolean(executor));
  mkdirSync(outputDir, { recursive: true });
  ensureDatasetDescription(resolve(outputDir), ds.root);
  info(
    `analyze: ${labels.length} participant(s), ${stimuli.set.layers.length} layers, radius ${describeRadius(searchlight.radius)}, ${searchlight.distance}, ${searchlight.compare}, method ${searchlight.method}, ${searchlight.threads} thread(s)`,
  );
  if (executor) return runParticipantsOnExecutor(outputDir, labels, executor);
  const summaries: ParticipantSummary[] = [];
  for (const participant of labels) {
    const s = await runParticipant({
      bidsDir: ds.root,
      outputDir: resolve(outputDir),
      participant,
      stimuli,
      ...(flags.task ? { task: flags.task } : {}),
      ...(imageMapping ? { imageMapping } : {}),
      ...(flags.derivatives ? { derivatives: flags.derivatives } : {}),
      ...(flags.space ? { space: flags.space } : {}),
      ...(flags.mask ? { mask: flags.mask } : {}),
      glm,
      searchlight,
      ...(flags.rois
        ? { rois: { path: flags.rois, ...(flags.roiLabels ? { labelsPath: flags.roiLabels } : {}) } }
        : {}),
      ...(flags.template ? { template: flags.template } : {}),
      ...(modelRdms.length ? { modelRdms } : {}),
      overwrite: flags.overwrite ?? false,
      settingsRecord: { ...settingsRecord, resolved: { glm, searchlight } },
    });
    summaries.push(s);
    process.stdout.write(`${formatParticipantSummary(s)}\n`);
  }
  process.stdout.write(`analyze participant: done, ${summaries.length} participant(s) in ${resolve(outputDir)}\n`);
}

/** Before any work: existing outputs need --overwrite, and with it every folder must be one orthostim wrote. */
function checkParticipantFolders(
  outputDir: string,
  labels: readonly string[],
  overwrite: boolean,
  onExecutor: boolean,
) {
  // With an executor, done participants are skipped by the job state; each task checks its own.
  if (!overwrite && !onExecutor) {
    const existing = labels.filter((l) => {
      const d = join(outputDir, `sub-${l}`);
      return existsSync(d) && readdirSync(d).length > 0;
    });
    if (existing.length > 0) {
      throw new InputError(
        `${outputDir}: sub-${existing.join(', sub-')} already ha${existing.length > 1 ? 've' : 's'} outputs; pass --overwrite to replace them`,
      );
    }
  }
  // --overwrite: every participant's folder must be one orthostim wrote, checked before any work.
  if (overwrite) for (const l of labels) checkOutputFolder(join(outputDir, `sub-${l}`), { overwrite: true });
}

/** `analyze ... group`: the group level over the participants' outputs. */
async function analyzeGroup(
  ds: Dataset,
  outputDir: string,
  flags: AnalysisFlags,
  executor: Executor,
  settingsRecord: Record<string, unknown>,
): Promise<void> {
  const group = resolveGroupSettings(flags);
  if (flags.atlasLabels && !flags.atlas) throw new UsageError('--atlas-labels needs --atlas (the label image)');
  if (executor) return runGroupOnExecutor(outputDir, executor);
  const g = await runGroup({
    outputDir: resolve(outputDir),
    bidsDir: ds.root,
    ...(flags.participantLabel ? { participants: selectParticipants(ds, flags.participantLabel) } : {}),
    settings: group,
    threads: flags.threads ?? availableParallelism(), // '--threads' says: default all cores
    ...(flags.atlas
      ? { atlas: { path: flags.atlas, ...(flags.atlasLabels ? { labelsPath: flags.atlasLabels } : {}) } }
      : {}),
    ...(flags.template ? { template: flags.template } : {}),
    overwrite: flags.overwrite ?? false,
    settingsRecord: { ...settingsRecord, resolved: group },
  });
  process.stdout.write(`${formatGroupSummary(g)}\n`);
}

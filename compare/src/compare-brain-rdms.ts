/**
 * `orthostim compare`: read a stimulus set and a lab's brain RDMs, compute every region's layer
 * profile, and write the outputs into a new folder atomically (layer-profiles.tsv/.json,
 * per-subject.tsv, layer-profiles.svg/.png). Thin I/O around layer-profiles.ts.
 */
import { join } from 'node:path';
import { svgToPng } from '@orthostim/figures';
import { COMPARATOR_NAMES, isComparatorName, type ComparatorName } from '@orthostim/rdm';
import { InputError, UsageError } from '@orthostim/protocol';
import { buildOutputDir, readStimulusSet, writeFileAtomic, type LoadedStimulusSet } from '@orthostim/protocol/node';
import {
  DEFAULT_RESIDUAL_VARIANT,
  isResidualVariant,
  RESIDUAL_VARIANT_NAMES,
  type MethodFamily,
  type ModelMethod,
  type ResidualVariant,
} from '@orthostim/analysis';
import { readBrainRdmsFiles, type BrainRdms } from './brain-rdms';
import { readModelRdms, type ModelRdm } from './model-rdms';
import { comparePairwise, type RegionPairwise } from './pairwise-models';
import {
  formatPairwiseTable,
  formatPairwiseTsv,
  formatPerSubjectTsv,
  formatProfileTable,
  formatProfilesTsv,
  layerProfilesSvg,
  valueName,
} from './compare-report';
import { computeLayerProfiles, type RegionProfile } from './layer-profiles';

/** Above this many images the pairwise comparisons (a bootstrap over images) are skipped, with a note. */
export const PAIRWISE_MAX_IMAGES = 200;

export const COMPARE_METHODS: readonly MethodFamily[] = ['standard', 'residual'];

export interface CompareOptions {
  stimuli: string;
  /** One file, or several whose regions of the same name are merged as further subjects. */
  brain: string | readonly string[];
  /** Model RDMs as `name=file` (`--model-rdm`), scored after the layers. */
  modelRdms?: readonly string[];
  outDir: string;
  comparator?: ComparatorName;
  method?: MethodFamily;
  /** The residual method's variant (default: the analysis default); `activation` needs the set's activation-residual RDMs. */
  residual?: ResidualVariant;
  layers?: readonly string[];
  regions?: readonly string[];
  nBootstrap?: number;
  ciLevel?: number;
  seed?: number;
  overwrite?: boolean;
  command?: string;
}

export interface CompareResult {
  profiles: RegionProfile[];
  pairwise: RegionPairwise[];
  table: string;
  files: string[];
  ignored: string[];
  format: string;
  /** What a reader must know (e.g. a residual variant that fell back to another). */
  notes: string[];
}

export async function compareBrainRdms(o: CompareOptions): Promise<CompareResult> {
  const comparator = o.comparator ?? 'spearman';
  const method = o.method ?? 'standard';
  if (!isComparatorName(comparator))
    throw new UsageError(`--compare must be one of ${COMPARATOR_NAMES.join(', ')}; got ${JSON.stringify(comparator)}`);
  if (!COMPARE_METHODS.includes(method))
    throw new UsageError(`--method must be one of ${COMPARE_METHODS.join(', ')}; got ${JSON.stringify(method)}`);
  const variant = o.residual ?? DEFAULT_RESIDUAL_VARIANT;
  if (!isResidualVariant(variant))
    throw new UsageError(
      `--residual must be one of ${RESIDUAL_VARIANT_NAMES.join(', ')}; got ${JSON.stringify(variant)}`,
    );
  // The images themselves are not needed, only their ids and the layer RDMs (the set's digest is still checked).
  const loaded = readStimulusSet(o.stimuli, { checkImages: false });
  const set = loaded.set;
  const layers = o.layers && o.layers.length ? [...o.layers] : [...set.layers];
  for (const l of layers)
    if (!set.layers.includes(l))
      throw new InputError(
        `--layers: ${JSON.stringify(l)} is not a layer of ${loaded.path}; its layers are ${set.layers.join(', ')}`,
      );
  if (method === 'residual' && layers.length < 2)
    throw new UsageError('--method residual needs at least 2 layers (each is regressed on the others)');
  const { model, notes } = compareModel(method, variant, set.activationResiduals !== undefined);
  const residualRdms = set.activationResiduals?.rdms;
  const ids = set.images.map((i) => i.id);
  const brainPaths = typeof o.brain === 'string' ? [o.brain] : [...o.brain];
  const brain = await readBrainRdmsFiles(brainPaths, ids, o.regions);
  const models: ModelRdm[] = await readModelRdms(o.modelRdms ?? [], ids);
  const ciLevel = o.ciLevel ?? 0.95;
  const nBootstrap = o.nBootstrap ?? 1000;
  const seed = o.seed ?? 1;
  const layerRdms = layers.map((l) => Array.from(loaded.rdms[set.layers.indexOf(l)]!));
  const options = {
    comparator,
    method: model,
    nBootstrap,
    ciLevel,
    seed,
    modelRdms: models,
    ...(model === 'activation'
      ? { activationRdms: layers.map((l) => residualRdms![l]!.map((v) => v ?? Number.NaN)) }
      : {}),
  };
  const profiles = computeLayerProfiles(layers, layerRdms, brain.regions, options);
  const pairwise =
    ids.length <= PAIRWISE_MAX_IMAGES
      ? brain.regions.map((r, k) => comparePairwise(r.name, layers, layerRdms, r.subjects, ids.length, options, k))
      : [];
  if (ids.length > PAIRWISE_MAX_IMAGES)
    notes.push(
      `pairwise model comparisons skipped: ${ids.length} images (at most ${PAIRWISE_MAX_IMAGES}); their bootstrap resamples images and re-ranks every model RDM each time`,
    );
  const table = `${formatProfileTable(profiles, comparator, model, ciLevel)}\n${formatPairwiseTable(pairwise, ciLevel, nBootstrap)}`;
  const svg = layerProfilesSvg(profiles, comparator, model);
  const png = await svgToPng(svg, 2);
  const files = [
    'layer-profiles.tsv',
    'layer-profiles.json',
    'per-subject.tsv',
    'pairwise.tsv',
    'layer-profiles.svg',
    'layer-profiles.png',
    'table.txt',
  ];
  await buildOutputDir(
    o.outDir,
    (stage) => {
      writeFileAtomic(join(stage, 'layer-profiles.tsv'), formatProfilesTsv(profiles, comparator, model));
      writeFileAtomic(
        join(stage, 'layer-profiles.json'),
        compareJson({
          o,
          comparator,
          method,
          model,
          notes,
          ciLevel,
          nBootstrap,
          seed,
          loaded,
          brain,
          models,
          pairwise,
          profiles,
        }),
      );
      writeFileAtomic(join(stage, 'per-subject.tsv'), formatPerSubjectTsv(profiles));
      writeFileAtomic(join(stage, 'pairwise.tsv'), formatPairwiseTsv(pairwise));
      writeFileAtomic(join(stage, 'layer-profiles.svg'), svg);
      writeFileAtomic(join(stage, 'layer-profiles.png'), png);
      writeFileAtomic(join(stage, 'table.txt'), table);
    },
    { overwrite: o.overwrite ?? false, inputs: [o.stimuli, ...[o.brain].flat()] },
  );
  return {
    profiles,
    pairwise,
    table,
    files: files.map((f) => join(o.outDir, f)),
    ignored: brain.ignored,
    format: brain.format,
    notes,
  };
}

/** The model method compared: standard, or the residual variant (activation falls back to semipartial without its RDMs). */
function compareModel(
  method: MethodFamily,
  variant: ResidualVariant,
  hasActivationRdms: boolean,
): { model: ModelMethod; notes: string[] } {
  if (method === 'standard') return { model: 'standard', notes: [] };
  if (variant !== 'activation' || hasActivationRdms) return { model: variant, notes: [] };
  return {
    model: 'semipartial',
    notes: [
      'the stimulus set holds no activation-residual RDMs (make it with `orthostim rdms`): the activation residual variant fell back to semipartial',
    ],
  };
}

/** layer-profiles.json: settings, inputs and every region's profile and pairwise comparisons. */
function compareJson(r: {
  o: CompareOptions;
  comparator: ComparatorName;
  method: MethodFamily;
  model: ModelMethod;
  notes: readonly string[];
  ciLevel: number;
  nBootstrap: number;
  seed: number;
  loaded: LoadedStimulusSet;
  brain: BrainRdms;
  models: readonly ModelRdm[];
  pairwise: readonly RegionPairwise[];
  profiles: readonly RegionProfile[];
}): string {
  const set = r.loaded.set;
  return `${JSON.stringify(
    {
      schema: 'orthostim.compare/1',
      value: valueName(r.comparator, r.model),
      comparator: r.comparator,
      method: r.method,
      ...(r.model === 'standard' ? {} : { residual: r.model }),
      notes: r.notes,
      ciLevel: r.ciLevel,
      nBootstrap: r.nBootstrap,
      seed: r.seed,
      noiseCeiling:
        'Nili et al. 2014: lower = mean correlation of each subject with the mean of the others, upper = with the mean of all (ranks for Spearman/Kendall, z-scores for Pearson)',
      stimulusSet: {
        path: r.loaded.path,
        sha256: set.sha256,
        distance: set.distance,
        images: set.images.map((i) => i.id),
      },
      brain: { path: r.o.brain, format: r.brain.format, ignored: r.brain.ignored },
      modelRdms: r.models.map((m) => ({ name: m.name, path: m.path })),
      pairwise: {
        method:
          'rsatoolbox eval_dual_bootstrap + bootstrap_pair_tests: subjects and images resampled together; p two-sided, ((B-1)/B) p + 1/B',
        regions: r.pairwise,
      },
      command: r.o.command ?? null,
      regions: r.profiles,
    },
    (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v),
    2,
  )}\n`;
}

/**
 * `orthostim compare`: read a stimulus set and a lab's brain RDMs, compute every region's layer
 * profile, and write the outputs into a new folder atomically (layer-profiles.tsv/.json,
 * per-subject.tsv, layer-profiles.svg/.png). Thin I/O around layer-profiles.ts.
 */
import { join } from 'node:path';
import { svgToPng } from '@orthostim/figures';
import { COMPARATOR_NAMES, isComparatorName, type ComparatorName } from '@orthostim/rdm';
import { InputError, UsageError } from '@orthostim/protocol';
import { buildOutputDir, readStimulusSet, writeFileAtomic } from '@orthostim/protocol/node';
import {
  DEFAULT_RESIDUAL_VARIANT,
  isResidualVariant,
  RESIDUAL_VARIANT_NAMES,
  type MethodFamily,
  type ModelMethod,
  type ResidualVariant,
} from '@orthostim/analysis';
import { readBrainRdms } from './brain-rdms';
import {
  formatPerSubjectTsv,
  formatProfileTable,
  formatProfilesTsv,
  layerProfilesSvg,
  valueName,
} from './compare-report';
import { computeLayerProfiles, type RegionProfile } from './layer-profiles';

export const COMPARE_METHODS: readonly MethodFamily[] = ['standard', 'residual'];

export interface CompareOptions {
  stimuli: string;
  brain: string;
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
  const notes: string[] = [];
  let model: ModelMethod = method === 'standard' ? 'standard' : variant;
  const residualRdms = set.activationResiduals?.rdms;
  if (model === 'activation' && !residualRdms) {
    model = 'semipartial';
    notes.push(
      'the stimulus set holds no activation-residual RDMs (make it with `orthostim rdms`): the activation residual variant fell back to semipartial',
    );
  }
  const ids = set.images.map((i) => i.id);
  const brain = await readBrainRdms(o.brain, ids, o.regions);
  const ciLevel = o.ciLevel ?? 0.95;
  const nBootstrap = o.nBootstrap ?? 1000;
  const seed = o.seed ?? 1;
  const profiles = computeLayerProfiles(
    layers,
    layers.map((l) => set.rdms[l]!.map((v) => v ?? Number.NaN)),
    brain.regions,
    {
      comparator,
      method: model,
      nBootstrap,
      ciLevel,
      seed,
      ...(model === 'activation'
        ? { activationRdms: layers.map((l) => residualRdms![l]!.map((v) => v ?? Number.NaN)) }
        : {}),
    },
  );
  const table = formatProfileTable(profiles, comparator, model, ciLevel);
  const svg = layerProfilesSvg(profiles, comparator, model);
  const png = await svgToPng(svg, 2);
  const files = [
    'layer-profiles.tsv',
    'layer-profiles.json',
    'per-subject.tsv',
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
        `${JSON.stringify(
          {
            schema: 'orthostim.compare/1',
            value: valueName(comparator, model),
            comparator,
            method,
            ...(model === 'standard' ? {} : { residual: model }),
            notes,
            ciLevel,
            nBootstrap,
            seed,
            noiseCeiling:
              'Nili et al. 2014: lower = mean correlation of each subject with the mean of the others, upper = with the mean of all (ranks for Spearman/Kendall, z-scores for Pearson)',
            stimulusSet: { path: loaded.path, sha256: set.sha256, distance: set.distance, images: ids },
            brain: { path: o.brain, format: brain.format, ignored: brain.ignored },
            command: o.command ?? null,
            regions: profiles,
          },
          (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v),
          2,
        )}\n`,
      );
      writeFileAtomic(join(stage, 'per-subject.tsv'), formatPerSubjectTsv(profiles));
      writeFileAtomic(join(stage, 'layer-profiles.svg'), svg);
      writeFileAtomic(join(stage, 'layer-profiles.png'), png);
      writeFileAtomic(join(stage, 'table.txt'), table);
    },
    { overwrite: o.overwrite ?? false },
  );
  return {
    profiles,
    table,
    files: files.map((f) => join(o.outDir, f)),
    ignored: brain.ignored,
    format: brain.format,
    notes,
  };
}

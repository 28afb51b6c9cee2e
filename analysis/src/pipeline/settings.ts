/**
 * The analysis settings: one table of every option (flag, meaning, default, allowed values) from
 * which the command lines (`analyze`, `searchlight`) build their flags and help, and the resolved
 * settings that are saved beside the results. Defaults are written down here once.
 */
import { availableParallelism } from 'node:os';
import { COMPARATOR_NAMES, type ComparatorName } from '@orthostim/rdm';
import { UsageError } from '@orthostim/protocol';
import { threadsRange, type NumberRange } from '@orthostim/protocol/cli';
import { DEFAULT_CONFOUNDS } from '../io/bids';
import { DEFAULT_HIGH_PASS_HZ } from '../glm/design-matrix';
import {
  AR1_ESTIMATOR_NAMES,
  DEFAULT_AR1_ESTIMATOR,
  NOISE_MODELS,
  type Ar1Estimator,
  type NoiseModel,
} from '../glm/fit-glm';
import { NOISE_NORMALIZATION_NAMES, type NoiseNormalization } from '../searchlight/crossnobis-noise';
import { HRF_MODEL_NAMES, type HrfModelName } from '../glm/hrf';
import { METHOD_CHOICE_NAMES, methodsOf, type MethodChoice, type ModelMethod } from '../rsa/compare-models';
import {
  DEFAULT_RESIDUAL_VARIANT,
  RESIDUAL_VARIANT_NAMES,
  parseResidualVariants,
  type ResidualVariant,
} from '../rsa/residual-variants';
import { SPHERE_DISTANCE_NAMES, type SearchlightDistance } from '../searchlight/sphere-rdms';
import { checkSphereRadius } from '../searchlight/neighbors';
import { affineVoxelSizes, type Affine } from '../io/affine';
import { CONNECTIVITIES, type Connectivity } from '../stats/clusters';

export interface SearchlightSettings {
  radius: { value: number; unit: 'mm' | 'voxel' };
  minFraction: number;
  distance: SearchlightDistance;
  /** Crossnobis only: how the betas are noise-normalised (searchlight/crossnobis-noise.ts). */
  noiseNormalization: NoiseNormalization;
  compare: ComparatorName;
  method: MethodChoice;
  /** The residual method's variants (docs/residual.md), with --method residual or both. */
  residual: ResidualVariant[];
  threads: number;
}

export interface GlmSettings {
  noiseModel: NoiseModel;
  ar1Estimator: Ar1Estimator;
  /** Gaussian smoothing of the BOLD before the fit, FWHM in mm (0: none). */
  smoothingFwhmMm: number;
  hrf: HrfModelName;
  highPassHz: number;
  confounds: string[];
}

export interface GroupSettings {
  nPermutations: number;
  alpha: number;
  seed: number;
  connectivity: Connectivity;
  /** FWHM in mm of the group test's variance smoothing; undefined: DEFAULT_VARIANCE_SMOOTHING_MM below 20 participants, else 0. */
  varianceSmoothingMm?: number;
}

/** SnPM recommends variance smoothing when the t has fewer than 20 degrees of freedom. */
export const DEFAULT_VARIANCE_SMOOTHING_MM = 6;
export const VARIANCE_SMOOTHING_BELOW_PARTICIPANTS = 20;

/** The variance smoothing for a group of n participants (explicit value, else the default rule). */
export function resolveVarianceSmoothing(explicitMm: number | undefined, nParticipants: number): number {
  return explicitMm ?? (nParticipants < VARIANCE_SMOOTHING_BELOW_PARTICIPANTS ? DEFAULT_VARIANCE_SMOOTHING_MM : 0);
}

export const DEFAULT_RADIUS_MM = 6;
/** Bounds of the radius flags before the grid is known (the grid then bounds it further: checkSearchlightRadius). */
export const MAX_RADIUS_MM = 1000;
export const MAX_RADIUS_VOXELS = 256;
const THREADS = threadsRange();

/** The range of a numeric option of the table. */
export function rangeOf(spec: OptionSpec): NumberRange {
  return {
    min: spec.min ?? -Infinity,
    max: spec.max ?? Infinity,
    integer: spec.kind === 'int',
    ...(spec.maxReason ? { maxReason: spec.maxReason } : {}),
  };
}

/** Crossnobis noise normalisation by default: see BENCHMARKS.md, "Crossnobis noise normalisation". */
export const DEFAULT_NOISE_NORMALIZATION: NoiseNormalization = 'univariate';

/**
 * One entry per option: the commander flag, its help text and its default (written into --help
 * and docs/analysis-pipeline.md). `levels` says where it applies.
 */
export interface OptionSpec {
  flags: string;
  description: string;
  default?: string | number | boolean | readonly string[];
  choices?: readonly string[];
  kind: 'string' | 'number' | 'int' | 'list' | 'flag';
  /** Numeric options: the allowed range (checked when parsed, shown in --help and the docs). */
  min?: number;
  max?: number;
  /** Why max is what it is (e.g. the cores). */
  maxReason?: string;
  levels: readonly ('participant' | 'group' | 'searchlight')[];
}

const P = ['participant'] as const;
const PS = ['participant', 'searchlight'] as const;
const G = ['group'] as const;

export const ANALYSIS_OPTIONS = {
  participantLabel: {
    flags: '--participant-label <labels...>',
    description: 'participants to analyse (01 or sub-01; default: all)',
    kind: 'list',
    levels: ['participant', 'group'],
  },
  stimuli: {
    flags: '--stimuli <path>',
    description: 'the stimulus-set.json (or its folder) whose layer RDMs are the models',
    kind: 'string',
    levels: PS,
  },
  task: {
    flags: '--task <label>',
    description: 'task label (default: the only task of the dataset)',
    kind: 'string',
    levels: P,
  },
  imageColumn: {
    flags: '--image-column <name>',
    description:
      "events column that names each trial's image (default: stim_file or stim_id where given, else trial_type when it is an image id; trial_type with --image-map)",
    kind: 'string',
    levels: P,
  },
  imageMap: {
    flags: '--image-map <tsv>',
    description:
      'TSV with columns value and image: the image id of each value of the image column; values it does not list are conditions of no image (regressors of no interest, listed in the report)',
    kind: 'string',
    levels: P,
  },
  derivatives: {
    flags: '--derivatives <dirs...>',
    description: 'fMRIPrep derivatives: preprocessed BOLD, brain masks, confounds (default: the raw BOLD)',
    kind: 'list',
    levels: P,
  },
  space: {
    flags: '--space <label>',
    description:
      "space of the preprocessed BOLD (analyze with --derivatives: default MNI152NLin2009cAsym) or the label of the given betas' space (searchlight)",
    kind: 'string',
    levels: PS,
  },
  mask: {
    flags: '--mask <file>',
    description:
      "brain mask used for every run instead of the dataset's own masks (analyze; without it, a run without a mask gets one computed from its BOLD) or the searchlight mask (searchlight)",
    kind: 'string',
    levels: PS,
  },
  radiusMm: {
    flags: '--radius-mm <mm>',
    description:
      'searchlight radius in mm (voxels whose centre is within it); at least one voxel side, at most the grid (checked against the mask)',
    default: DEFAULT_RADIUS_MM,
    kind: 'number',
    min: 0,
    max: MAX_RADIUS_MM,
    levels: PS,
  },
  radiusVox: {
    flags: '--radius-vox <n>',
    description: 'searchlight radius in voxels (instead of --radius-mm); at most the grid (checked against the mask)',
    kind: 'number',
    min: 1,
    max: MAX_RADIUS_VOXELS,
    levels: PS,
  },
  minFraction: {
    flags: '--min-fraction <f>',
    description: 'a centre is used when this fraction of its full sphere lies in the mask',
    default: 0.5,
    kind: 'number',
    min: 0,
    max: 1,
    levels: PS,
  },
  distance: {
    flags: '--distance <name>',
    description: 'sphere RDM distance',
    default: 'correlation',
    choices: SPHERE_DISTANCE_NAMES,
    kind: 'string',
    levels: PS,
  },
  noiseNormalization: {
    flags: '--noise-normalization <name>',
    description:
      'crossnobis noise normalisation: univariate (each run by its residual variance), pooled, pairwise (rsatoolbox per-run-pair), multivariate (per sphere shrinkage covariance of the GLM residuals, rsatoolbox shrinkage_diag), multivariate-eye (Ledoit-Wolf)',
    default: DEFAULT_NOISE_NORMALIZATION,
    choices: NOISE_NORMALIZATION_NAMES,
    kind: 'string',
    levels: PS,
  },
  compare: {
    flags: '--compare <name>',
    description: 'comparison of a sphere RDM with each layer RDM',
    default: 'spearman',
    choices: COMPARATOR_NAMES,
    kind: 'string',
    levels: PS,
  },
  method: {
    flags: '--method <name>',
    description: 'standard (each layer RDM), residual (the part no other layer shares; variant: --residual), or both',
    default: 'both',
    choices: METHOD_CHOICE_NAMES,
    kind: 'string',
    levels: PS,
  },
  residual: {
    flags: '--residual <variant>',
    description: `variant of the residual method (docs/residual.md): ${RESIDUAL_VARIANT_NAMES.join(', ')}; a comma-separated list, or all; activation needs a set made by \`orthostim rdms\` (else semipartial, with a note)`,
    default: DEFAULT_RESIDUAL_VARIANT,
    kind: 'string',
    levels: PS,
  },
  rois: {
    flags: '--rois <file>',
    description:
      "label image of regions of interest (on the betas' grid): each region's RDM and its correlation with every layer",
    kind: 'string',
    levels: PS,
  },
  modelRdm: {
    flags: '--model-rdm <name=file...>',
    description:
      "model RDMs compared like the layers (categorical, behavioural, ...; standard method, not among the residual method's other layers): TSV/CSV matrix or condensed vector, JSON or .mat, one RDM each",
    kind: 'list',
    levels: PS,
  },
  roiLabels: {
    flags: '--roi-labels <tsv>',
    description: 'names of the --rois values (TSV with columns index, name; default: region<value>)',
    kind: 'string',
    levels: PS,
  },
  noiseModel: {
    flags: '--noise-model <name>',
    description: 'GLM noise model',
    default: 'ar1',
    choices: NOISE_MODELS,
    kind: 'string',
    levels: P,
  },
  ar1Estimator: {
    flags: '--ar1-estimator <name>',
    description: 'AR(1) coefficient: yule-walker (nilearn >= 0.8) or lag-ratio (nilearn <= 0.7)',
    default: DEFAULT_AR1_ESTIMATOR,
    choices: AR1_ESTIMATOR_NAMES,
    kind: 'string',
    levels: P,
  },
  smoothingFwhm: {
    flags: '--smoothing-fwhm <mm>',
    description:
      "Gaussian smoothing of the BOLD volumes before the GLM, FWHM in mm (nilearn's smoothing_fwhm; 0: none)",
    default: 0,
    kind: 'number',
    min: 0,
    levels: P,
  },
  hrf: {
    flags: '--hrf <name>',
    description: 'haemodynamic response model',
    default: 'spm',
    choices: HRF_MODEL_NAMES,
    kind: 'string',
    levels: P,
  },
  highPass: {
    flags: '--high-pass <hz>',
    description: 'cosine drift cut-off in Hz (0: no drift terms)',
    default: DEFAULT_HIGH_PASS_HZ,
    kind: 'number',
    min: 0,
    max: 1,
    levels: P,
  },
  confounds: {
    flags: '--confounds <names...>',
    description: 'fMRIPrep confound columns to regress out',
    default: DEFAULT_CONFOUNDS,
    kind: 'list',
    levels: P,
  },
  nPermutations: {
    flags: '--n-permutations <n>',
    description: 'sign-flip patterns of the group test (all 2^n when fewer)',
    default: 10000,
    kind: 'int',
    min: 1,
    max: 1_000_000,
    levels: G,
  },
  alpha: {
    flags: '--alpha <p>',
    description: 'family-wise error level of the thresholded group maps',
    default: 0.05,
    kind: 'number',
    min: 0,
    max: 1,
    levels: G,
  },
  varianceSmoothingMm: {
    flags: '--variance-smoothing-mm <fwhm>',
    description: `FWHM in mm of the group test's variance smoothing: pseudo-t instead of t (0: plain t; default ${DEFAULT_VARIANCE_SMOOTHING_MM} with fewer than ${VARIANCE_SMOOTHING_BELOW_PARTICIPANTS} participants, else 0)`,
    kind: 'number',
    min: 0,
    max: 100,
    levels: G,
  },
  seed: {
    flags: '--seed <n>',
    description: 'seed of the random sign patterns',
    default: 0,
    kind: 'int',
    min: 0,
    max: 0xffffffff,
    levels: G,
  },
  connectivity: {
    flags: '--connectivity <n>',
    description: 'cluster connectivity (6 faces, 18 +edges, 26 +corners)',
    default: '26',
    choices: Object.keys(CONNECTIVITIES),
    kind: 'string',
    levels: G,
  },
  atlas: {
    flags: '--atlas <file>',
    description: "label image on the group maps' grid for the cluster table's peak labels",
    kind: 'string',
    levels: G,
  },
  atlasLabels: {
    flags: '--atlas-labels <tsv>',
    description: 'names of the --atlas values (TSV with columns index, name)',
    kind: 'string',
    levels: G,
  },
  template: {
    flags: '--template <file>',
    description: "background image of the report mosaics, on the maps' grid (default: the mean EPI)",
    kind: 'string',
    levels: ['participant', 'group', 'searchlight'],
  },
  threads: {
    flags: '--threads <n>',
    description: 'worker threads (default: all cores)',
    kind: 'int',
    min: THREADS.min,
    max: THREADS.max,
    maxReason: THREADS.maxReason,
    levels: ['participant', 'group', 'searchlight'],
  },
  overwrite: {
    flags: '--overwrite',
    description:
      'replace existing outputs that orthostim wrote and that hold none of the inputs (only once the new ones are complete)',
    kind: 'flag',
    levels: ['participant', 'group', 'searchlight'],
  },
} as const satisfies Record<string, OptionSpec>;

export type AnalysisOptionName = keyof typeof ANALYSIS_OPTIONS;

/** Flag values as commander parses them (camelCase of the long flag). */
export interface AnalysisFlags {
  participantLabel?: string[];
  stimuli?: string;
  task?: string;
  imageColumn?: string;
  imageMap?: string;
  derivatives?: string[];
  space?: string;
  mask?: string;
  radiusMm?: number;
  radiusVox?: number;
  minFraction: number;
  distance: string;
  noiseNormalization: string;
  compare: string;
  method: string;
  residual?: string;
  rois?: string;
  roiLabels?: string;
  modelRdm?: string[];
  noiseModel: string;
  ar1Estimator: string;
  smoothingFwhm: number;
  hrf: string;
  highPass: number;
  confounds: string[];
  nPermutations: number;
  alpha: number;
  seed: number;
  varianceSmoothingMm?: number;
  connectivity: string;
  atlas?: string;
  atlasLabels?: string;
  template?: string;
  threads?: number;
  overwrite?: boolean;
}

function oneOf<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value))
    throw new UsageError(`${flag} must be one of ${allowed.join(', ')}; got "${value}"`);
  return value as T;
}

/**
 * The searchlight settings from flags. `--radius-mm` and `--radius-vox` exclude each other; the
 * mm radius is the default (commander fills its default even when --radius-vox is given, so the
 * voxel radius wins when present).
 */
export function resolveSearchlightSettings(
  flags: Pick<
    AnalysisFlags,
    'radiusMm' | 'radiusVox' | 'minFraction' | 'distance' | 'compare' | 'method' | 'residual' | 'threads'
  > &
    Partial<Pick<AnalysisFlags, 'noiseNormalization'>>,
  radiusMmExplicit: boolean,
): SearchlightSettings {
  if (flags.radiusVox !== undefined && radiusMmExplicit)
    throw new UsageError('--radius-mm and --radius-vox exclude each other: give one');
  const radius =
    flags.radiusVox !== undefined
      ? { value: flags.radiusVox, unit: 'voxel' as const }
      : { value: flags.radiusMm ?? DEFAULT_RADIUS_MM, unit: 'mm' as const };
  return {
    radius,
    minFraction: flags.minFraction,
    distance: oneOf('--distance', flags.distance, SPHERE_DISTANCE_NAMES),
    noiseNormalization: oneOf(
      '--noise-normalization',
      flags.noiseNormalization ?? DEFAULT_NOISE_NORMALIZATION,
      NOISE_NORMALIZATION_NAMES,
    ),
    compare: oneOf('--compare', flags.compare, COMPARATOR_NAMES),
    method: oneOf('--method', flags.method, METHOD_CHOICE_NAMES),
    residual: parseResidualVariants(flags.residual ?? DEFAULT_RESIDUAL_VARIANT, '--residual'),
    threads: flags.threads ?? availableParallelism(),
  };
}

export function resolveGlmSettings(
  flags: Pick<AnalysisFlags, 'noiseModel' | 'hrf' | 'highPass' | 'confounds'> &
    Partial<Pick<AnalysisFlags, 'ar1Estimator' | 'smoothingFwhm'>>,
): GlmSettings {
  return {
    noiseModel: oneOf('--noise-model', flags.noiseModel, NOISE_MODELS),
    ar1Estimator: oneOf('--ar1-estimator', flags.ar1Estimator ?? DEFAULT_AR1_ESTIMATOR, AR1_ESTIMATOR_NAMES),
    smoothingFwhmMm: flags.smoothingFwhm ?? 0,
    hrf: oneOf('--hrf', flags.hrf, HRF_MODEL_NAMES),
    highPassHz: flags.highPass,
    confounds: [...flags.confounds],
  };
}

export function resolveGroupSettings(
  flags: Pick<AnalysisFlags, 'nPermutations' | 'alpha' | 'seed' | 'connectivity' | 'varianceSmoothingMm'>,
): GroupSettings {
  const connectivity = Number(
    oneOf('--connectivity', String(flags.connectivity), Object.keys(CONNECTIVITIES)),
  ) as Connectivity;
  return {
    nPermutations: flags.nPermutations,
    alpha: flags.alpha,
    seed: flags.seed,
    connectivity,
    ...(flags.varianceSmoothingMm !== undefined ? { varianceSmoothingMm: flags.varianceSmoothingMm } : {}),
  };
}

/** The model methods the settings compute: standard and/or the residual variants. */
export function modelMethodsOf(settings: Pick<SearchlightSettings, 'method' | 'residual'>): ModelMethod[] {
  return methodsOf(settings.method, settings.residual);
}

/** The radius as words, e.g. "6 mm" or "3 voxels". */
export function describeRadius(r: SearchlightSettings['radius']): string {
  return r.unit === 'mm' ? `${r.value} mm` : `${r.value} voxel${r.value === 1 ? '' : 's'}`;
}

/** Refuse a radius below one voxel or beyond the grid of `grid` (e.g. the mask's or the BOLD's header), before any work. */
export function checkSearchlightRadius(
  radius: SearchlightSettings['radius'],
  grid: { dims: readonly number[]; affine: Affine },
): void {
  checkSphereRadius({ radius: radius.value, unit: radius.unit, voxelSizesMm: affineVoxelSizes(grid.affine) }, [
    grid.dims[0]!,
    grid.dims[1]!,
    grid.dims[2]!,
  ]);
}

/**
 * The brain mask of each run of a participant, before the GLM: a mask given by the user (`--mask`)
 * wins over the dataset's own; otherwise the run's mask from the dataset or its derivatives; and a
 * run with neither gets one computed from its BOLD (epi-mask), written beside the GLM outputs so
 * the analysis can be checked and repeated. nilearn's opening (2 erosions) assumes voxels of a few
 * mm; on a grid so coarse that it leaves no voxel (e.g. 25 mm voxels), the opening is reduced to 1,
 * then 0, and the note says so.
 */
import { join } from 'node:path';
import { InputError } from '@orthostim/protocol';
import type { StudyRun } from '../io/bids';
import { readNiftiMeanVolume, writeNifti } from '../io/nifti';
import { runPrefix } from '../io/run-glm';
import { computeEpiMask } from './epi-mask';
import type { OutputIndexBuilder } from './output-index';

export interface RunMaskSource {
  /** `given`: the user's mask for every run; `dataset`: the run's own; `computed`: from its BOLD. */
  kind: 'given' | 'dataset' | 'computed';
  /** The mask file (for a computed mask: relative to the output folder, e.g. glm/..._mask.nii.gz). */
  path: string;
  /** Mask voxels of a computed mask. */
  nVoxels?: number;
  /** Erosions of a computed mask's opening (2 as nilearn, less where 2 left no voxel). */
  opening?: number;
}

export interface ResolvedRunMasks {
  /** The runs with `maskPath` set to the mask each uses (a computed mask at its staging path). */
  runs: StudyRun[];
  sources: RunMaskSource[];
  /** What happened, for the report's notes (one line per computed mask, one for a given mask). */
  notes: string[];
}

/**
 * Decide every run's mask. `given` (the user's mask) wins over the dataset's; computed masks are
 * written into `outDir/subdir` (a staging folder) and named relative to `outDir`.
 */
export function resolveRunMasks(
  runs: readonly StudyRun[],
  given: string | undefined,
  outDir: string,
  subdir: string,
): ResolvedRunMasks {
  if (given !== undefined) {
    const overridden = runs.filter((r) => r.maskPath !== null && r.maskPath !== given).length;
    return {
      runs: runs.map((r) => ({ ...r, maskPath: given })),
      sources: runs.map(() => ({ kind: 'given', path: given })),
      notes: [
        `brain mask ${given} used for every run${overridden ? ` (instead of the dataset's own mask of ${overridden} run(s))` : ''}`,
      ],
    };
  }
  const resolved = runs.map((run) => {
    if (run.maskPath !== null) return { run, source: { kind: 'dataset' as const, path: run.maskPath } };
    return computeRunMask(run, outDir, subdir);
  });
  return {
    runs: resolved.map((r) => r.run),
    sources: resolved.map((r) => r.source),
    notes: resolved.flatMap(({ run, source }) =>
      source.kind === 'computed'
        ? [
            `run ${run.run ?? '(single)'}: no brain mask in the dataset; computed from the BOLD (the approach of nilearn's compute_epi_mask${source.opening === DEFAULT_OPENING ? '' : `, opening ${source.opening}: ${DEFAULT_OPENING} left no voxel`}; ${source.nVoxels} voxels): ${source.path}`,
          ]
        : [],
    ),
  };
}

const DEFAULT_OPENING = 2;
/** Openings tried in turn until the mask is not empty. */
const OPENINGS = [DEFAULT_OPENING, 1, 0];

function firstNonEmptyMask(mean: ArrayLike<number>, dims: readonly [number, number, number]) {
  let last: { opening: number; mask: Uint8Array; nVoxels: number } = {
    opening: 0,
    mask: new Uint8Array(0),
    nVoxels: 0,
  };
  for (const opening of OPENINGS) {
    last = { opening, ...computeEpiMask(mean, dims, { opening }) };
    if (last.nVoxels > 0) break;
  }
  return last;
}

function computeRunMask(run: StudyRun, outDir: string, subdir: string): { run: StudyRun; source: RunMaskSource } {
  const mean = readNiftiMeanVolume(run.boldPath);
  const dims = [mean.dims[0], mean.dims[1], mean.dims[2]] as const;
  const { opening, mask, nVoxels } = firstNonEmptyMask(mean.data, dims);
  if (nVoxels === 0)
    throw new InputError(
      `${run.boldPath}: the brain mask computed from the BOLD is empty (too few slices, or not EPI data?); give a brain mask`,
    );
  const name = `${runPrefix(run)}_desc-brain_mask.nii.gz`;
  const path = join(outDir, subdir, name);
  writeNifti(
    path,
    { dims, data: mask, affine: mean.affine },
    {
      datatype: 'uint8',
      reference: mean.header,
      description: 'brain mask from the mean EPI (nilearn compute_epi_mask approach)',
    },
  );
  return {
    run: { ...run, maskPath: path },
    source: { kind: 'computed', path: `${subdir}/${name}`, nVoxels, opening },
  };
}

/** List the computed masks in index.json (the given and the dataset's masks are inputs, not outputs). */
export function addComputedMasks(
  index: OutputIndexBuilder,
  runs: readonly StudyRun[],
  sources: readonly RunMaskSource[],
): void {
  sources.forEach((s, i) => {
    if (s.kind !== 'computed') return;
    const run = runs[i]!.run;
    index.add({
      path: s.path,
      stat: 'mask',
      ...(run !== null ? { run } : {}),
      description: "brain mask computed from the run's BOLD (nilearn compute_epi_mask approach)",
    });
  });
}

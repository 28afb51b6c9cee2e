/**
 * From per-run beta maps to the searchlight's input: the analysis mask (mask voxels whose betas
 * are finite in every run), and the betas as [run][image][voxel] over those voxels. Pure arrays;
 * the callers read the files (GLM outputs, or a user's 4D beta files).
 *
 * Images missing from a run (no trial of it in that run):
 * - correlation / euclidean: each image's pattern is the mean over the runs that have it (the same
 *   numbers as the run average when every run has every image);
 * - crossnobis: every run is used; each pair of images is cross-validated over the runs where both
 *   have a beta (BetaSet.present, see sphere-rdms). A pair that shares fewer than 2 runs is an
 *   error naming how many pairs do and one of them.
 * An image that no run has is an error: its RDM row cannot be computed.
 */
import { InputError } from '@orthostim/protocol';
import { crossnobisPairScales, type BetaSet, type SearchlightDistance } from '../searchlight/sphere-rdms';

/** One run's betas at the candidate voxels (values per voxel in candidate order). */
export interface RunBetas {
  run: string;
  /** Image id -> betas at the candidate voxels; images without a trial in the run are absent. */
  images: ReadonlyMap<string, Float32Array>;
  /** Residual variance at the candidate voxels (GLM); needed for crossnobis noise normalisation. */
  residualVariance?: Float32Array;
}

export interface AssembledBetas {
  /** Grid indices of the analysis voxels (ascending). */
  voxels: Int32Array;
  betas: BetaSet;
  /** [run][voxel] residual variances of the used runs (crossnobis with residuals only). */
  residualVariance?: Float32Array;
  runsUsed: string[];
  /** Candidate voxels dropped because a beta (or residual variance) was not finite. */
  droppedVoxels: number;
  notes: string[];
}

function describeRuns(runs: readonly string[]): string {
  return runs.length > 8 ? `${runs.slice(0, 8).join(', ')}, ...` : runs.join(', ');
}

/**
 * Crossnobis: which image has a beta in which run ([run][image]), checking that every pair of
 * images shares at least 2 runs (its cross-validation needs two independent estimates).
 */
function presenceOf(
  runs: readonly RunBetas[],
  imageIds: readonly string[],
  source: string,
  notes: string[],
): Uint8Array {
  const K = imageIds.length;
  const present = new Uint8Array(runs.length * K);
  runs.forEach((r, ri) => imageIds.forEach((id, k) => (present[ri * K + k] = r.images.has(id) ? 1 : 0)));
  const scales = crossnobisPairScales(runs.length, K, present);
  let short = 0;
  let example = '';
  let k = 0;
  for (let i = 0; i < K; i++) {
    for (let j = i + 1; j < K; j++, k++) {
      if (!Number.isNaN(scales[k]!)) continue;
      if (short++ === 0) example = `"${imageIds[i]}" and "${imageIds[j]}"`;
    }
  }
  if (short > 0) {
    throw new InputError(
      `${source}: --distance crossnobis needs every pair of images in at least 2 common runs; ${short} of ${k} pairs are not (e.g. ${example}); use more image trials per run, or --distance correlation or euclidean (they average each image over the runs that have it)`,
    );
  }
  if (present.includes(0))
    notes.push('crossnobis: images absent from some runs: each pair is cross-validated over the runs that have both');
  return present;
}

/** The analysis voxels (finite in every array used) and a copy of a candidate-order array onto them. */
interface VoxelSelection {
  voxels: Int32Array;
  gather: (src: Float32Array, dst: Float32Array, offset: number) => void;
}

function selectAnalysisVoxels(
  candidates: Int32Array,
  runs: readonly RunBetas[],
  imageIds: readonly string[],
  useResiduals: boolean,
  source: string,
): VoxelSelection {
  const C = candidates.length;
  const keep = new Uint8Array(C).fill(1);
  for (const r of runs) {
    for (const id of imageIds) {
      const b = r.images.get(id);
      if (!b) continue;
      if (b.length !== C)
        throw new RangeError(`assembleBetas: run ${r.run} image ${id} has ${b.length} values for ${C} voxels`);
      for (let v = 0; v < C; v++) if (b[v]! - b[v]! !== 0) keep[v] = 0; // NaN or +-Infinity
    }
    if (useResiduals) {
      const rv = r.residualVariance!;
      for (let v = 0; v < C; v++) if (!(rv[v]! > 0 && Number.isFinite(rv[v]!))) keep[v] = 0;
    }
  }
  let V = 0;
  for (let v = 0; v < C; v++) V += keep[v]!;
  if (V === 0) throw new InputError(`${source}: no voxel of the mask has finite betas in every run`);
  const voxels = new Int32Array(V);
  const slot = new Int32Array(C).fill(-1);
  for (let v = 0, k = 0; v < C; v++) {
    if (keep[v]) {
      voxels[k] = candidates[v]!;
      slot[v] = k++;
    }
  }
  const gather = (src: Float32Array, dst: Float32Array, offset: number) => {
    if (V === C) {
      dst.set(src, offset); // nothing dropped: a plain copy
      return;
    }
    for (let v = 0; v < C; v++) {
      const k = slot[v]!;
      if (k >= 0) dst[offset + k] = src[v]!;
    }
  };
  return { voxels, gather };
}

/** [run][image][voxel]; an absent image stays 0 (crossnobis ignores it through `present`). */
function stackRuns(
  runs: readonly RunBetas[],
  imageIds: readonly string[],
  sel: VoxelSelection,
  present: Uint8Array | undefined,
): BetaSet {
  const R = runs.length;
  const K = imageIds.length;
  const V = sel.voxels.length;
  const data = new Float32Array(R * K * V);
  runs.forEach((r, ri) =>
    imageIds.forEach((id, k) => {
      const b = r.images.get(id);
      if (b) sel.gather(b, data, (ri * K + k) * V);
    }),
  );
  return { data, nRuns: R, nImages: K, nVoxels: V, ...(present?.includes(0) ? { present } : {}) };
}

/** One "run": each image's mean over the runs that have it. */
function averageRunsWithImage(runs: readonly RunBetas[], imageIds: readonly string[], sel: VoxelSelection): BetaSet {
  const K = imageIds.length;
  const V = sel.voxels.length;
  const data = new Float32Array(K * V);
  const tmp = new Float32Array(V);
  imageIds.forEach((id, k) => {
    const have = runs.filter((r) => r.images.has(id));
    const o = k * V;
    for (const r of have) {
      sel.gather(r.images.get(id)!, tmp, 0);
      for (let v = 0; v < V; v++) data[o + v] = data[o + v]! + tmp[v]! / have.length;
    }
  });
  return { data, nRuns: 1, nImages: K, nVoxels: V };
}

/**
 * Assemble the searchlight input. `candidates` are the grid indices the arrays refer to (the mask,
 * ascending); `source` names the participant or files in errors.
 */
export function assembleBetas(
  candidates: Int32Array,
  runs: readonly RunBetas[],
  imageIds: readonly string[],
  distance: SearchlightDistance,
  source: string,
  options: { useResiduals?: boolean } = {},
): AssembledBetas {
  if (runs.length === 0) throw new InputError(`${source}: no runs with betas`);
  const notes: string[] = [];
  for (const id of imageIds) {
    if (!runs.some((r) => r.images.has(id))) {
      throw new InputError(
        `${source}: image "${id}" of the stimulus set has no trial in any run (runs ${describeRuns(runs.map((r) => r.run))}); every image needs at least one beta`,
      );
    }
  }
  const cross = distance === 'crossnobis';
  const present = cross ? presenceOf(runs, imageIds, source, notes) : undefined;
  const useResiduals = cross && (options.useResiduals ?? true) && runs.every((r) => r.residualVariance);
  const sel = selectAnalysisVoxels(candidates, runs, imageIds, useResiduals, source);
  const V = sel.voxels.length;
  const complete = runs.every((r) => imageIds.every((id) => r.images.has(id)));
  const betas = cross || complete ? stackRuns(runs, imageIds, sel, present) : averageRunsWithImage(runs, imageIds, sel);
  if (!cross && !complete) {
    const partial = imageIds.filter((id) => runs.some((r) => !r.images.has(id)));
    notes.push(
      `image(s) ${partial.slice(0, 8).join(', ')}${partial.length > 8 ? ', ...' : ''} missing from some runs: their patterns average the runs that have them`,
    );
  }
  let residualVariance: Float32Array | undefined;
  if (useResiduals) {
    residualVariance = new Float32Array(runs.length * V);
    runs.forEach((r, ri) => sel.gather(r.residualVariance!, residualVariance!, ri * V));
  } else if (cross) {
    notes.push('crossnobis without residual variances: the cross-validated Euclidean distance of the betas as given');
  }
  const dropped = candidates.length - V;
  if (dropped > 0)
    notes.push(
      `${dropped} mask voxel(s) left out of the searchlight: a beta${useResiduals ? ' or residual variance' : ''} was NaN there (voxels the GLM could not fit)`,
    );
  return {
    voxels: sel.voxels,
    betas,
    ...(residualVariance ? { residualVariance } : {}),
    runsUsed: runs.map((r) => r.run),
    droppedVoxels: dropped,
    notes,
  };
}

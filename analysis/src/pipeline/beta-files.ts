/**
 * Beta maps a user already has (SPM, FSL, nilearn) as the searchlight's input, for
 * `orthostim searchlight`: one 4D file per run whose volumes follow the stimulus set's image
 * order, or one 4D file plus a labels TSV (columns `condition` and `run`, one row per volume).
 * Optional residual-variance maps (one 3D map per run, in run order) enable crossnobis noise
 * normalisation. Every image must be on the mask's grid.
 */
import { InputError } from '@orthostim/protocol';
import { readTsv } from '../io/bids';
import { NiftiReadAhead, readNiftiVoxels, type Volume } from '../io/nifti';
import type { RunBetas } from './beta-set';

export interface BetaFilesInput {
  betas: readonly string[];
  /** Labels TSV for a single 4D file holding every run. */
  labels?: string;
  residuals?: readonly string[];
  /** 4D residual series, one per run in run order (multivariate crossnobis noise normalisation). */
  residualSeries?: readonly string[];
  imageIds: readonly string[];
}

export interface BetaRow {
  condition: string;
  run: string;
}

/** The labels TSV: one row per volume with its condition (an image id) and run label. */
export function readBetaLabels(path: string, imageIds: readonly string[]): BetaRow[] {
  const { header, rows } = readTsv(path);
  const ic = header.indexOf('condition');
  const ir = header.indexOf('run');
  if (ic < 0 || ir < 0)
    throw new InputError(
      `${path}: line 1: the header must have the columns "condition" and "run"; got ${header.join(', ')}`,
    );
  const ids = new Set(imageIds);
  const seen = new Set<string>();
  return rows.map((r, i) => {
    const condition = r[ic];
    const run = r[ir];
    const line = `${path}: line ${i + 2}`;
    if (!condition || !ids.has(condition)) {
      throw new InputError(
        `${line}: condition ${JSON.stringify(condition ?? 'n/a')} is not an image of the stimulus set (ids: ${[...ids].slice(0, 8).join(', ')}${ids.size > 8 ? ', ...' : ''})`,
      );
    }
    if (!run) throw new InputError(`${line}: run is n/a; every volume needs a run label`);
    const key = `${run}\t${condition}`;
    if (seen.has(key))
      throw new InputError(
        `${line}: condition "${condition}" appears twice in run "${run}"; give one beta per image and run`,
      );
    seen.add(key);
    return { condition, run };
  });
}

/** The input's files in the order readBetaFiles reads them; `.start()` it before reading the mask. */
export function betaReadAhead(input: Pick<BetaFilesInput, 'betas' | 'residuals' | 'residualSeries'>): NiftiReadAhead {
  return new NiftiReadAhead([...input.betas, ...(input.residuals ?? []), ...(input.residualSeries ?? [])]);
}

/**
 * Read the betas (and residual variances) at the mask voxels `voxels` (grid indices of `mask`),
 * checking every file against the mask's grid and the stimulus set's images. Files are read one
 * ahead (NiftiReadAhead), so reading overlaps the extraction of the previous file.
 */
export async function readBetaFiles(
  input: BetaFilesInput,
  mask: Volume,
  voxels: Int32Array,
  ahead = betaReadAhead(input),
): Promise<RunBetas[]> {
  const K = input.imageIds.length;
  const grid = { grid: mask, what: '--mask and the betas' };
  let runs: { run: string; images: Map<string, Float32Array> }[];
  if (input.labels) {
    if (input.betas.length !== 1)
      throw new InputError(`--labels describes one 4D file; got ${input.betas.length} --betas files`);
    const path = input.betas[0]!;
    const rows = readBetaLabels(input.labels, input.imageIds);
    const preloaded = await ahead.take(path);
    const vol = readNiftiVoxels(path, voxels, { sameGridAs: grid, preloaded });
    ahead.release(preloaded);
    if (vol.dims[3] !== rows.length)
      throw new InputError(
        `${path}: ${vol.dims[3]} volumes, but ${input.labels} has ${rows.length} rows (one per volume)`,
      );
    const n = voxels.length;
    const order: string[] = [];
    const byRun = new Map<string, Map<string, Float32Array>>();
    rows.forEach((r, t) => {
      if (!byRun.has(r.run)) {
        byRun.set(r.run, new Map());
        order.push(r.run);
      }
      byRun.get(r.run)!.set(r.condition, vol.data.subarray(t * n, (t + 1) * n));
    });
    runs = order.map((run) => ({ run, images: byRun.get(run)! }));
  } else {
    runs = [];
    for (const [r, path] of input.betas.entries()) {
      const preloaded = await ahead.take(path);
      const vol = readNiftiVoxels(path, voxels, { sameGridAs: grid, preloaded });
      ahead.release(preloaded); // the values are copied out
      if (vol.dims[3] !== K) {
        throw new InputError(
          `${path}: ${vol.dims[3]} volume(s), but the stimulus set has ${K} images; a run file holds one beta per image in set order (or give one 4D file with --labels)`,
        );
      }
      const n = voxels.length;
      runs.push({
        run: String(r + 1),
        images: new Map(input.imageIds.map((id, k) => [id, vol.data.subarray(k * n, (k + 1) * n)])),
      });
    }
  }
  return attachResiduals(runs, input.residuals ?? [], mask, voxels, ahead, input.residualSeries ?? []);
}

/**
 * Add the residual-variance maps (one 3D map per run, in run order; none: the runs as they are)
 * read at `voxels`, then close the read-ahead.
 */
export async function attachResiduals(
  runs: readonly RunBetas[],
  residuals: readonly string[],
  mask: Volume,
  voxels: Int32Array,
  ahead: NiftiReadAhead,
  residualSeries: readonly string[] = [],
): Promise<RunBetas[]> {
  if (residuals.length > 0 && residuals.length !== runs.length) {
    throw new InputError(
      `--residuals: ${residuals.length} file(s) for ${runs.length} run(s) (${runs.map((r) => r.run).join(', ')}); give one residual-variance map per run, in run order`,
    );
  }
  const out: RunBetas[] = [];
  for (const [i, r] of runs.entries()) {
    const path = residuals[i];
    if (!path) {
      out.push(r);
      continue;
    }
    const preloaded = await ahead.take(path);
    const rv = readNiftiVoxels(path, voxels, { sameGridAs: { grid: mask, what: '--mask and --residuals' }, preloaded });
    ahead.release(preloaded);
    if (rv.dims[3] !== 1)
      throw new InputError(`${path}: ${rv.dims[3]} volumes; a residual-variance map is one 3D volume`);
    out.push({ ...r, residualVariance: rv.data });
  }
  const withSeries = await readResidualSeries(residualSeries, out, mask, voxels, ahead);
  ahead.close();
  return withSeries;
}

/**
 * The residual series (one 4D file per run) at the mask voxels, voxel-major. Their df is set to the
 * number of volumes: the caller sets the covariance's degrees of freedom for the stacked series.
 */
async function readResidualSeries(
  paths: readonly string[],
  runs: RunBetas[],
  mask: Volume,
  voxels: Int32Array,
  ahead: NiftiReadAhead,
): Promise<RunBetas[]> {
  if (paths.length === 0) return runs;
  if (paths.length !== runs.length)
    throw new InputError(
      `--residual-series: ${paths.length} file(s) for ${runs.length} run(s) (${runs.map((r) => r.run).join(', ')}); give one 4D residual series per run, in run order`,
    );
  const out: RunBetas[] = [];
  for (const [i, r] of runs.entries()) {
    const path = paths[i]!;
    const preloaded = await ahead.take(path);
    const e = readNiftiVoxels(path, voxels, {
      layout: 'voxel-major',
      sameGridAs: { grid: mask, what: '--mask and --residual-series' },
      preloaded,
    });
    ahead.release(preloaded);
    if (e.dims[3] < 2) throw new InputError(`${path}: ${e.dims[3]} volume(s); a residual series needs at least 2`);
    out.push({ ...r, residuals: { values: e.data, nVolumes: e.dims[3], dfResidual: e.dims[3] } });
  }
  return out;
}

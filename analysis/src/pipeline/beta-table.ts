/**
 * SPM-style betas as the searchlight's input: a TSV with columns `file`, `image` and `run`, one
 * row per 3D beta map (SPM's beta_0001.nii, ..., one per regressor and run). Relative file paths
 * are relative to the table's folder. Runs are taken in the order they first appear; an image
 * may be absent from a run (beta-set says how that is handled) but not appear twice in one.
 */
import { dirname, isAbsolute, join } from 'node:path';
import { describeValue, InputError } from '@orthostim/protocol';
import { readTsv } from '../io/bids';
import { NiftiReadAhead, readNiftiVoxels, type Volume } from '../io/nifti';
import type { RunBetas } from './beta-set';

export interface BetaTableRow {
  /** Absolute path of the 3D beta map. */
  file: string;
  image: string;
  run: string;
}

/** Parse and check the table: the columns, every image an id of the set, one row per image and run. */
export function readBetaTable(path: string, imageIds: readonly string[]): BetaTableRow[] {
  const { header, rows } = readTsv(path);
  const col = (name: string) => header.indexOf(name);
  if (col('file') < 0 || col('image') < 0 || col('run') < 0)
    throw new InputError(
      `${path}: line 1: the header must have the columns "file", "image" and "run"; got ${header.join(', ')}`,
    );
  const ids = new Set(imageIds);
  const seen = new Map<string, number>();
  const list = [...ids].slice(0, 8).join(', ') + (ids.size > 8 ? ', ...' : '');
  return rows.map((r, i) => {
    const line = `${path}: line ${i + 2}`;
    const [file, image, run] = [r[col('file')], r[col('image')], r[col('run')]];
    if (!file) throw new InputError(`${line}: file is n/a; every row names one 3D beta map`);
    if (!image || !ids.has(image))
      throw new InputError(
        `${line}: image ${describeValue(image ?? 'n/a')} is not an image of the stimulus set (ids: ${list})`,
      );
    if (!run) throw new InputError(`${line}: run is n/a; every beta map needs a run label`);
    const key = `${run}\t${image}`;
    const first = seen.get(key);
    if (first !== undefined)
      throw new InputError(`${line}: image "${image}" of run "${run}" already has a beta map (line ${first})`);
    seen.set(key, i + 2);
    return { file: isAbsolute(file) ? file : join(dirname(path), file), image, run };
  });
}

/** The table's files in reading order (for a NiftiReadAhead). */
export function betaTableFiles(rows: readonly BetaTableRow[]): string[] {
  return rows.map((r) => r.file);
}

/**
 * Read every beta map of the table at the mask voxels `voxels` (grid indices of `mask`), checking
 * that each is one 3D volume on the mask's grid, into runs of image betas.
 */
export async function readBetaTableRuns(
  rows: readonly BetaTableRow[],
  mask: Volume,
  voxels: Int32Array,
  ahead: NiftiReadAhead,
): Promise<RunBetas[]> {
  const byRun = new Map<string, Map<string, Float32Array>>();
  for (const row of rows) {
    const preloaded = await ahead.take(row.file);
    const vol = readNiftiVoxels(row.file, voxels, {
      sameGridAs: { grid: mask, what: '--mask and the betas' },
      preloaded,
    });
    ahead.release(preloaded);
    if (vol.dims[3] !== 1)
      throw new InputError(`${row.file}: ${vol.dims[3]} volumes; a beta table names one 3D map per row`);
    if (!byRun.has(row.run)) byRun.set(row.run, new Map());
    byRun.get(row.run)!.set(row.image, vol.data);
  }
  return [...byRun.entries()].map(([run, images]) => ({ run, images }));
}

/**
 * Writes the maps of one output folder onto a reference grid and records each in the folder's
 * index.json. Values are given per mask voxel or as a whole grid; writes go through
 * `writeNiftiAsync` (gzip on libuv's pool, atomic rename), so many maps compress in parallel.
 */
import { join } from 'node:path';
import type { Affine } from '../io/affine';
import { allocateNifti, writeNiftiAsync, writeNiftiBytesAsync, type NiftiHeader, type WriteNiftiOptions } from '../io/nifti';
import type { OutputFile, OutputIndexBuilder } from './output-index';

export interface GridRef {
  dims: readonly [number, number, number];
  affine: Affine;
  /** Header whose sform/qform codes the maps keep (the BOLD run or the betas). */
  reference?: Pick<NiftiHeader, 'qformCode' | 'sformCode'>;
}

export function gridSize(grid: Pick<GridRef, 'dims'>): number {
  return grid.dims[0] * grid.dims[1] * grid.dims[2];
}

/** A whole grid filled with `fill`, holding values[k] at voxels[k]. */
export function toGrid(values: ArrayLike<number>, voxels: Int32Array, n: number, fill = Number.NaN): Float32Array {
  const out = new Float32Array(n).fill(fill);
  for (let k = 0; k < voxels.length; k++) out[voxels[k]!] = values[k]!;
  return out;
}

export class MapWriter {
  private readonly pending: Promise<void>[] = [];

  constructor(
    readonly dir: string,
    readonly grid: GridRef,
    readonly index: OutputIndexBuilder,
    /** gzip level of .nii.gz maps (1: fast; maps are mostly NaN and compress well anyway). */
    private readonly gzipLevel = 1,
  ) {}

  /** Write a whole-grid map at `path` (relative to the folder) and list it in index.json. */
  write(path: string, data: ArrayLike<number>, entry: Omit<OutputFile, 'path' | 'level'> & Partial<Pick<OutputFile, 'level'>>, options: WriteNiftiOptions = {}): void {
    if (data.length !== gridSize(this.grid)) throw new RangeError(`MapWriter: ${path} has ${data.length} values for a ${this.grid.dims.join('x')} grid`);
    this.pending.push(
      writeNiftiAsync(join(this.dir, path), { dims: this.grid.dims, data, affine: this.grid.affine }, {
        gzipLevel: this.gzipLevel,
        ...(this.grid.reference ? { reference: this.grid.reference } : {}),
        ...options,
      }),
    );
    this.index.add({ path, ...entry });
  }

  /**
   * Write a float32 map given at some voxels (`values[k]` at grid index `voxels[k]`, NaN elsewhere),
   * built straight into the file's bytes. Returns the whole-grid values, a view on those bytes
   * (read-only: they are being compressed).
   */
  writeAt(
    path: string,
    values: ArrayLike<number>,
    voxels: Int32Array,
    entry: Omit<OutputFile, 'path' | 'level'> & Partial<Pick<OutputFile, 'level'>>,
    options: Omit<WriteNiftiOptions, 'datatype'> = {},
  ): Float32Array {
    if (values.length !== voxels.length) throw new RangeError(`MapWriter: ${path} has ${values.length} values for ${voxels.length} voxels`);
    const opts = { ...(this.grid.reference ? { reference: this.grid.reference } : {}), ...options };
    const { bytes, values: grid } = allocateNifti({ dims: this.grid.dims, affine: this.grid.affine }, opts);
    const out = grid as Float32Array;
    out.fill(Number.NaN);
    for (let k = 0; k < voxels.length; k++) out[voxels[k]!] = values[k]!;
    this.pending.push(writeNiftiBytesAsync(join(this.dir, path), bytes, this.gzipLevel));
    this.index.add({ path, ...entry });
    return out;
  }

  /** Wait for every write; the first failure is thrown. */
  async flush(): Promise<void> {
    const all = this.pending.splice(0);
    await Promise.all(all);
  }
}

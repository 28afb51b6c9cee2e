/**
 * Writes the maps of one output folder onto a reference grid and records each in the folder's
 * index.json. Values are given per mask voxel or as a whole grid; maps are gzipped on libuv's pool
 * or, after `useEncoders`, built and gzipped on worker threads, so many maps compress in parallel;
 * every file is renamed into place whole.
 */
import { join } from 'node:path';
import { writeFileAtomic } from '@orthostim/protocol/node';
import type { Affine } from '../io/affine';
import { encodeGrid, type EncodeGridTask, type GridTransform } from '../io/encode-grid';
import {
  encodeNiftiHeader,
  niftiGzipLevel,
  writeNiftiAsync,
  writeNiftiBytesAsync,
  type NiftiHeader,
  type WriteNiftiOptions,
} from '../io/nifti';
import { TaskPool } from '../parallel/task-pool';
import type { IndexEntry, OutputIndexBuilder } from './output-index';

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
  private encoders: TaskPool | undefined;

  constructor(
    readonly dir: string,
    readonly grid: GridRef,
    readonly index: OutputIndexBuilder,
    /** gzip level of .nii.gz maps (1: fast; maps are mostly NaN and compress well anyway). */
    private readonly gzipLevel = 1,
  ) {}

  /** Write a whole-grid map at `path` (relative to the folder) and list it in index.json. */
  write(path: string, data: ArrayLike<number>, entry: Omit<IndexEntry, 'path'>, options: WriteNiftiOptions = {}): void {
    if (data.length !== gridSize(this.grid))
      throw new RangeError(`MapWriter: ${path} has ${data.length} values for a ${this.grid.dims.join('x')} grid`);
    this.pending.push(
      writeNiftiAsync(
        join(this.dir, path),
        { dims: this.grid.dims, data, affine: this.grid.affine },
        {
          gzipLevel: this.gzipLevel,
          ...(this.grid.reference ? { reference: this.grid.reference } : {}),
          ...options,
        },
      ),
    );
    this.index.add({ path, ...entry });
  }

  /**
   * Start worker threads that build and gzip the maps given to `writeAt` (the calling thread
   * does it otherwise). Call it early: the workers start while other work goes on.
   */
  useEncoders(threads: number): void {
    if (threads > 1 && !this.encoders) this.encoders = TaskPool.start(threads);
  }

  /**
   * Write a float32 map given at some voxels (`values[k]`, or its Fisher z, at grid index
   * `voxels[k]`; NaN elsewhere), built straight into the file's bytes, on the encoder threads
   * when started. `values` and `voxels` must not change until `flush`.
   */
  writeAt(
    path: string,
    values: Float32Array,
    voxels: Int32Array,
    entry: Omit<IndexEntry, 'path'>,
    options: Omit<WriteNiftiOptions, 'datatype'> = {},
    transform: GridTransform = 'none',
  ): void {
    if (values.length !== voxels.length)
      throw new RangeError(`MapWriter: ${path} has ${values.length} values for ${voxels.length} voxels`);
    const full = join(this.dir, path);
    const header = encodeNiftiHeader(
      { dims: this.grid.dims, affine: this.grid.affine },
      { ...(this.grid.reference ? { reference: this.grid.reference } : {}), ...options },
    );
    const task: EncodeGridTask = {
      header,
      gridSize: gridSize(this.grid),
      values,
      voxels,
      transform,
      fill: Number.NaN,
      gzipLevel: niftiGzipLevel(full, this.gzipLevel),
    };
    this.pending.push(
      this.encoders
        ? this.encoders.run('encode-grid', task).then((bytes) => writeFileAtomic(full, bytes))
        : writeNiftiBytesAsync(full, encodeGrid({ ...task, gzipLevel: null }), this.gzipLevel), // gzip on libuv's pool
    );
    this.index.add({ path, ...entry });
  }

  /** Wait for every write; the first failure is thrown. */
  async flush(): Promise<void> {
    const all = this.pending.splice(0);
    try {
      await Promise.all(all);
    } finally {
      await this.encoders?.close();
      this.encoders = undefined;
    }
  }
}

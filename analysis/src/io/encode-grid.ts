/**
 * One NIfTI map from values at some voxels: header bytes + a whole float32 grid (`fill` where no
 * value, optionally Fisher z of the values), gzipped. A pure function of its task, so the same
 * code runs in the calling thread and on TaskPool workers (parallel/tasks.ts).
 */
import { gzipSync } from 'node:zlib';
import { fisherZ } from '@orthostim/rdm';
import { GZIP_MEM_LEVEL, NIFTI_HEADER_BYTES } from './nifti-datatypes';

export type GridTransform = 'none' | 'fisher-z';

export interface EncodeGridTask {
  /** The 352 header bytes (vox_offset 352, float32; `encodeNiftiHeader`). */
  header: Uint8Array;
  /** Voxels of the grid. */
  gridSize: number;
  /** values[k] goes to grid index voxels[k]. Either may live on a SharedArrayBuffer. */
  values: Float32Array;
  voxels: Int32Array;
  transform: GridTransform;
  /** Value of voxels without one (NaN for statistic maps). */
  fill: number;
  /** gzip level, or null for an uncompressed .nii. */
  gzipLevel: number | null;
}

/** The file's bytes (gzipped when `gzipLevel` is set). */
export function encodeGrid(task: EncodeGridTask): Uint8Array {
  const { header, gridSize: n, values, voxels } = task;
  if (header.length !== NIFTI_HEADER_BYTES)
    throw new RangeError(`encodeGrid: header has ${header.length} bytes; expected ${NIFTI_HEADER_BYTES}`);
  if (values.length !== voxels.length)
    throw new RangeError(`encodeGrid: ${values.length} values for ${voxels.length} voxels`);
  const out = new Uint8Array(NIFTI_HEADER_BYTES + 4 * n);
  out.set(header);
  const grid = new Float32Array(out.buffer, NIFTI_HEADER_BYTES, n);
  if (task.fill !== 0) grid.fill(task.fill);
  const z = task.transform === 'fisher-z';
  for (let k = 0; k < voxels.length; k++) {
    const g = voxels[k]!;
    if (!(g >= 0 && g < n)) throw new RangeError(`encodeGrid: voxel index ${g} outside 0..${n - 1}`);
    grid[g] = z ? fisherZ(values[k]!) : values[k]!;
  }
  return task.gzipLevel === null ? out : gzipSync(out, { level: task.gzipLevel, memLevel: GZIP_MEM_LEVEL });
}

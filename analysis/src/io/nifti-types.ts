import { type Affine } from './affine';

export interface NiftiHeader {
  version: 1 | 2;
  littleEndian: boolean;
  /** A .hdr/.img pair (magic ni1/ni2) rather than a single .nii file. */
  pair: boolean;
  datatypeCode: number;
  datatypeName: string;
  bitsPerVoxel: number;
  /** dim[0..7] as stored. */
  dim: number[];
  /** pixdim[0..7] as stored. */
  pixdim: number[];
  voxOffset: number;
  sclSlope: number;
  sclInter: number;
  spatialUnit: string;
  temporalUnit: string;
  qformCode: number;
  sformCode: number;
  /** The qform as an affine (meaningful when qformCode > 0). */
  qform: Affine;
  /** The sform rows (meaningful when sformCode > 0). */
  sform: Affine;
  intentCode: number;
  intentParams: [number, number, number];
  intentName: string;
  description: string;
  sliceDuration: number;
  sliceCode: number;
  sliceStart: number;
  sliceEnd: number;
  dimInfo: number;
  calMin: number;
  calMax: number;
  toffset: number;
}

export type VolumeData = Float32Array | Float64Array;

/**
 * An image in memory. Voxel (i, j, k) of volume t is `data[i + nx * (j + ny * (k + nz * t))]`.
 * `dims` is [nx, ny, nz, nt]: missing spatial dims are 1, and nt is the product of dims 4-7
 * (1 for a 3D image), so a 5D file (e.g. [x, y, z, 1, 3]) reads as 3 volumes in file order.
 */
export interface Volume {
  /** The file it was read from (for error messages); '' for an image made in memory. */
  path: string;
  dims: [number, number, number, number];
  data: VolumeData;
  /** Voxel (i, j, k) -> world mm, row-major 4 x 4. */
  affine: Affine;
  affineSource: 'sform' | 'qform' | 'pixdim';
  /** Column norms of the affine. */
  voxelSizeMm: [number, number, number];
  /** Seconds between volumes (pixdim[4] in seconds); null for 3D images or when not stored. */
  repetitionTimeS: number | null;
  /** How the TR was read when it needed interpreting (e.g. "pixdim[4] 2000 labelled s read as ms"). */
  repetitionTimeNote?: string;
  header: NiftiHeader;
}

/** The geometry two images must share to be compared voxel by voxel. */
export interface Grid {
  path: string;
  dims: readonly number[];
  affine: Affine;
}

export interface ReadNiftiOptions {
  /** Element type of `data`: 'auto' (default) is float64 when float32 cannot hold every stored value. */
  precision?: 'auto' | 'float32' | 'float64';
}

import { gzipSync, gzip as gzipCb } from 'node:zlib';
import { promisify } from 'node:util';
import { writeFileAtomic } from '@orthostim/protocol/node';
import { type Affine, affineToQform } from './affine';
import {
  NIFTI_DATATYPES,
  NIFTI_INTENTS,
  NIFTI_OUTPUT_CODES,
  GZIP_MEM_LEVEL,
  NIFTI_HEADER_BYTES,
  type NiftiIntent,
  type NiftiOutputDatatype,
} from './nifti-datatypes';
import type { NiftiHeader } from './nifti-types';

const gzipAsync = promisify(gzipCb);

export interface WriteNiftiOptions {
  /** Stored datatype (default float32); integer types round and refuse values out of range. */
  datatype?: NiftiOutputDatatype;
  intent?: NiftiIntent;
  /** intent_p1..p3, e.g. [dof] for `ttest` and `correlation`. */
  intentParams?: number[];
  intentName?: string;
  /**
   * Header the image derives from (e.g. the BOLD run of a beta map): its sform/qform codes are
   * kept. Without it both codes are 2 (aligned anatomy).
   */
  reference?: Pick<NiftiHeader, 'qformCode' | 'sformCode'>;
  description?: string;
  /** pixdim[4] of a 4D image, in seconds. */
  repetitionTimeS?: number;
  /** gzip level for .nii.gz (default 6). */
  gzipLevel?: number;
}

export interface NiftiImage {
  dims: readonly number[];
  data: ArrayLike<number>;
  affine: Affine;
}

function putString(b: Uint8Array, at: number, max: number, s: string): void {
  const bytes = new TextEncoder().encode(s).subarray(0, max - 1);
  b.set(bytes, at);
}

/**
 * The 352 header bytes of a single-file NIfTI-1 image (little-endian, vox_offset 352, no
 * extensions) for `image`'s dims and affine; the values follow them in the file.
 */
export function encodeNiftiHeader(image: Omit<NiftiImage, 'data'>, options: WriteNiftiOptions = {}): Uint8Array {
  const [nx = 1, ny = 1, nz = 1, ntRaw = 1] = image.dims;
  const nt = ntRaw;
  for (const d of [nx, ny, nz, nt])
    if (!(Number.isInteger(d) && d >= 1 && d <= 32767))
      throw new RangeError(`encodeNifti: dims ${image.dims.join('x')} do not fit NIfTI-1`);
  const datatype = options.datatype ?? 'float32';
  const code = NIFTI_OUTPUT_CODES[datatype];
  const dt = NIFTI_DATATYPES[code]!;
  const out = new Uint8Array(NIFTI_HEADER_BYTES);
  const dv = new DataView(out.buffer);
  const le = true;
  dv.setInt32(0, 348, le);
  const ndim = nt > 1 ? 4 : 3;
  const dim = [ndim, nx, ny, nz, nt, 1, 1, 1];
  dim.forEach((v, i) => dv.setInt16(40 + 2 * i, v, le));
  const intent = NIFTI_INTENTS[options.intent ?? 'none'];
  const params = options.intentParams ?? [];
  for (let i = 0; i < 3; i++) dv.setFloat32(56 + 4 * i, params[i] ?? 0, le);
  dv.setInt16(68, intent.code, le);
  dv.setInt16(70, code, le);
  dv.setInt16(72, dt.bytes * 8, le);
  const q = affineToQform(image.affine);
  const pixdim = [q.qfac, q.zooms[0], q.zooms[1], q.zooms[2], nt > 1 ? (options.repetitionTimeS ?? 0) : 0, 0, 0, 0];
  pixdim.forEach((v, i) => dv.setFloat32(76 + 4 * i, v, le));
  dv.setFloat32(108, 352, le);
  dv.setFloat32(112, 1, le); // scl_slope 1, scl_inter 0: values are stored as they are
  dv.setFloat32(116, 0, le);
  out[123] = 2 | 8; // mm, s
  putString(out, 148, 80, options.description ?? 'orthostim');
  const ref = options.reference;
  const sformCode = ref && ref.sformCode > 0 ? ref.sformCode : ref && ref.qformCode > 0 ? ref.qformCode : 2;
  const qformCode = ref && ref.qformCode > 0 ? ref.qformCode : sformCode;
  dv.setInt16(252, qformCode, le);
  dv.setInt16(254, sformCode, le);
  [q.quaternB, q.quaternC, q.quaternD, q.qoffsetX, q.qoffsetY, q.qoffsetZ].forEach((v, i) =>
    dv.setFloat32(256 + 4 * i, v, le),
  );
  for (let i = 0; i < 12; i++) dv.setFloat32(280 + 4 * i, image.affine[i]!, le);
  putString(out, 328, 16, options.intentName ?? '');
  putString(out, 344, 4, 'n+1');
  // bytes 348-351 stay 0: no extensions
  return out;
}

/** The bytes of an uncompressed single-file NIfTI-1 image (little-endian, vox_offset 352). */
export function encodeNifti(image: NiftiImage, options: WriteNiftiOptions = {}): Uint8Array {
  const nvox = image.dims.slice(0, 4).reduce((a: number, b) => a * (b ?? 1), 1);
  if (image.data.length !== nvox)
    throw new RangeError(`encodeNifti: ${image.data.length} values for dims ${image.dims.join('x')} (${nvox})`);
  const datatype = options.datatype ?? 'float32';
  const dt = NIFTI_DATATYPES[NIFTI_OUTPUT_CODES[datatype]]!;
  const out = new Uint8Array(NIFTI_HEADER_BYTES + nvox * dt.bytes);
  out.set(encodeNiftiHeader(image, options));
  const target = dt.view(out.buffer, NIFTI_HEADER_BYTES, nvox) as Float32Array | Int16Array | Uint8Array;
  const dv = new DataView(out.buffer);
  const le = true;
  let calMin = Infinity;
  let calMax = -Infinity;
  if (datatype === 'float32') {
    target.set(image.data);
  } else {
    const lo = datatype === 'int16' ? -32768 : 0;
    const hi = datatype === 'int16' ? 32767 : 255;
    for (let i = 0; i < nvox; i++) {
      const v = Math.round(image.data[i]!);
      if (!(v >= lo && v <= hi))
        throw new RangeError(
          `encodeNifti: value ${image.data[i]} at index ${i} does not fit ${datatype} (${lo}..${hi})`,
        );
      target[i] = v;
    }
  }
  if (options.intent === 'label') {
    for (let i = 0; i < nvox; i++) {
      const v = target[i]!;
      if (v < calMin) calMin = v;
      if (v > calMax) calMax = v;
    }
    dv.setFloat32(124, calMax, le);
    dv.setFloat32(128, calMin, le);
  }
  return out;
}

function isGzPath(path: string): boolean {
  return /\.gz$/i.test(path);
}

function checkOutputPath(path: string): void {
  if (!/\.nii(\.gz)?$/i.test(path)) throw new RangeError(`writeNifti: ${path} must end in .nii or .nii.gz`);
}

/** Write a NIfTI-1 image atomically; `.nii.gz` paths are gzip-compressed. */
export function writeNifti(path: string, image: NiftiImage, options: WriteNiftiOptions = {}): void {
  checkOutputPath(path);
  const bytes = encodeNifti(image, options);
  writeFileAtomic(
    path,
    isGzPath(path) ? gzipSync(bytes, { level: options.gzipLevel ?? 6, memLevel: GZIP_MEM_LEVEL }) : bytes,
  );
}

/** As `writeNifti`, compressing on libuv's thread pool so several maps compress in parallel. */
export async function writeNiftiAsync(path: string, image: NiftiImage, options: WriteNiftiOptions = {}): Promise<void> {
  checkOutputPath(path);
  await writeNiftiBytesAsync(path, encodeNifti(image, options), options.gzipLevel);
}

/** Write the bytes of an encoded image, gzipped on libuv's pool for .nii.gz. */
export async function writeNiftiBytesAsync(path: string, bytes: Uint8Array, gzipLevel = 6): Promise<void> {
  checkOutputPath(path);
  writeFileAtomic(
    path,
    isGzPath(path) ? await gzipAsync(bytes, { level: gzipLevel, memLevel: GZIP_MEM_LEVEL }) : bytes,
  );
}

/** The gzip level a map at `path` gets: `level` for .nii.gz, null (stored as is) for .nii. */
export function niftiGzipLevel(path: string, level: number): number | null {
  checkOutputPath(path);
  return isGzPath(path) ? level : null;
}

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

/**
 * The NIfTI-1 header fields orthostim writes, by name: byte offset, type and count (nifti1.h).
 * Fields not listed stay zero.
 */
const HEADER_FIELDS = {
  sizeof_hdr: [0, 'i32', 1],
  dim: [40, 'i16', 8],
  intent_p: [56, 'f32', 3],
  intent_code: [68, 'i16', 1],
  datatype: [70, 'i16', 1],
  bitpix: [72, 'i16', 1],
  pixdim: [76, 'f32', 8],
  vox_offset: [108, 'f32', 1],
  scl_slope: [112, 'f32', 1],
  scl_inter: [116, 'f32', 1],
  xyzt_units: [123, 'u8', 1],
  cal_max: [124, 'f32', 1],
  cal_min: [128, 'f32', 1],
  descrip: [148, 'str', 80],
  qform_code: [252, 'i16', 1],
  sform_code: [254, 'i16', 1],
  quatern: [256, 'f32', 3],
  qoffset: [268, 'f32', 3],
  srow: [280, 'f32', 12],
  intent_name: [328, 'str', 16],
  magic: [344, 'str', 4],
} as const satisfies Record<string, readonly [number, 'i32' | 'i16' | 'u8' | 'f32' | 'str', number]>;

type HeaderField = keyof typeof HEADER_FIELDS;

/** Write header fields by name into the first 348 bytes of `bytes` (little-endian). */
function setHeaderFields(bytes: Uint8Array, values: Partial<Record<HeaderField, number | readonly number[] | string>>) {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, NIFTI_HEADER_BYTES);
  for (const [name, value] of Object.entries(values) as [HeaderField, number | readonly number[] | string][]) {
    const [at, type, count] = HEADER_FIELDS[name];
    if (type === 'str') {
      bytes.set(new TextEncoder().encode(value as string).subarray(0, count - 1), at);
      continue;
    }
    const list = typeof value === 'number' ? [value] : (value as readonly number[]);
    for (let i = 0; i < count; i++) {
      const v = list[i] ?? 0;
      if (type === 'i32') dv.setInt32(at + 4 * i, v, true);
      else if (type === 'i16') dv.setInt16(at + 2 * i, v, true);
      else if (type === 'u8') dv.setUint8(at + i, v);
      else dv.setFloat32(at + 4 * i, v, true);
    }
  }
}

/** sform/qform codes: the reference's (each falling back on the other), else 2 (aligned anatomy). */
function transformCodes(ref: WriteNiftiOptions['reference']): { qform_code: number; sform_code: number } {
  const sform = ref && ref.sformCode > 0 ? ref.sformCode : ref && ref.qformCode > 0 ? ref.qformCode : 2;
  const qform = ref && ref.qformCode > 0 ? ref.qformCode : sform;
  return { qform_code: qform, sform_code: sform };
}

/**
 * The 352 header bytes of a single-file NIfTI-1 image (little-endian, vox_offset 352, no
 * extensions) for `image`'s dims and affine; the values follow them in the file.
 */
export function encodeNiftiHeader(image: Omit<NiftiImage, 'data'>, options: WriteNiftiOptions = {}): Uint8Array {
  const [nx = 1, ny = 1, nz = 1, nt = 1] = image.dims;
  for (const d of [nx, ny, nz, nt])
    if (!(Number.isInteger(d) && d >= 1 && d <= 32767))
      throw new RangeError(`encodeNifti: dims ${image.dims.join('x')} do not fit NIfTI-1`);
  const code = NIFTI_OUTPUT_CODES[options.datatype ?? 'float32'];
  const q = affineToQform(image.affine);
  const out = new Uint8Array(NIFTI_HEADER_BYTES);
  setHeaderFields(out, {
    sizeof_hdr: 348,
    dim: [nt > 1 ? 4 : 3, nx, ny, nz, nt, 1, 1, 1],
    intent_p: options.intentParams ?? [],
    intent_code: NIFTI_INTENTS[options.intent ?? 'none'].code,
    datatype: code,
    bitpix: NIFTI_DATATYPES[code]!.bytes * 8,
    pixdim: [q.qfac, q.zooms[0], q.zooms[1], q.zooms[2], nt > 1 ? (options.repetitionTimeS ?? 0) : 0, 0, 0, 0],
    vox_offset: NIFTI_HEADER_BYTES,
    scl_slope: 1, // scl_slope 1, scl_inter 0: values are stored as they are
    scl_inter: 0,
    xyzt_units: 2 | 8, // mm, s
    descrip: options.description ?? 'orthostim',
    ...transformCodes(options.reference),
    quatern: [q.quaternB, q.quaternC, q.quaternD],
    qoffset: [q.qoffsetX, q.qoffsetY, q.qoffsetZ],
    srow: image.affine.slice(0, 12),
    intent_name: options.intentName ?? '',
    magic: 'n+1',
  });
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
    setHeaderFields(out, { cal_max: calMax, cal_min: calMin });
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

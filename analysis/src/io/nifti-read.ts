import { readHeader as readNiftiReaderHeader } from 'nifti-reader-js';
import { InputError } from '@orthostim/protocol';
import { type Affine, affineAxisCodes, affineVoxelSizes, baseAffine, qformToAffine } from './affine';
import { NIFTI_DATATYPES, UNSUPPORTED_NIFTI_DATATYPES } from './nifti-datatypes';
import type { Grid, NiftiHeader, ReadNiftiOptions, Volume, VolumeData } from './nifti-types';
import { pairPaths, readMaybeGzipSync, type PreloadedNifti } from './nifti-read-ahead';
import { assertSameGrid } from './nifti-grid';

const SPATIAL_UNITS: Record<number, string> = { 0: 'unknown', 1: 'm', 2: 'mm', 3: 'um' };
const TEMPORAL_UNITS: Record<number, string> = {
  0: 'unknown',
  8: 's',
  16: 'ms',
  24: 'us',
  32: 'Hz',
  40: 'ppm',
  48: 'rad/s',
};
/** Seconds per unit for the temporal units that are times. */
const SECONDS_PER_UNIT: Record<string, number> = { unknown: 1, s: 1, ms: 1e-3, us: 1e-6 };
/**
 * A TR this long "in seconds" is a TR in milliseconds mislabelled (some converters write pixdim[4]
 * in ms with the unit code for seconds); no BOLD sequence has a TR near 100 s.
 */
const TR_MS_MISLABEL_THRESHOLD_S = 100;

interface RawNifti {
  header: NiftiHeader;
  /** Bytes holding the voxel values, starting at `dataOffset`. */
  bytes: Uint8Array;
  dataOffset: number;
}

function headerVersion(path: string, b: Uint8Array): { version: 1 | 2; littleEndian: boolean } {
  if (b.length < 348)
    throw new InputError(`${path}: ${b.length} bytes is too short for a NIfTI header (348 or 540 bytes)`);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const le = dv.getInt32(0, true);
  const be = dv.getInt32(0, false);
  if (le === 348 || be === 348) {
    const magic = String.fromCharCode(b[344]!, b[345]!, b[346]!);
    if (magic !== 'n+1' && magic !== 'ni1') {
      throw new InputError(
        `${path}: not a NIfTI-1 file (magic ${JSON.stringify(magic)}, expected "n+1" or "ni1"; Analyze 7.5 is not supported)`,
      );
    }
    return { version: 1, littleEndian: le === 348 };
  }
  if (le === 540 || be === 540) return { version: 2, littleEndian: le === 540 };
  throw new InputError(`${path}: not a NIfTI file (sizeof_hdr is ${le}, expected 348 for NIfTI-1 or 540 for NIfTI-2)`);
}

function parseHeader(path: string, b: Uint8Array): NiftiHeader {
  const { version, littleEndian } = headerVersion(path, b);
  const size = version === 1 ? 348 : 540;
  if (b.length < size)
    throw new InputError(`${path}: truncated NIfTI-${version} header (${b.length} of ${size} bytes)`);
  // Only the fixed header: nifti-reader-js then skips extensions, which orthostim does not use.
  const headerBytes = new Uint8Array(b.subarray(0, size)).buffer; // a copy: Buffers may share a pool
  let h: ReturnType<typeof readNiftiReaderHeader>;
  try {
    h = readNiftiReaderHeader(headerBytes, true);
  } catch (err) {
    throw new InputError(`${path}: unreadable NIfTI header (${(err as Error).message})`);
  }
  const dv = new DataView(headerBytes);
  // The sform rows: nifti-reader-js keeps them only when it picks the sform, so read them here.
  const srowAt = version === 1 ? 280 : 400;
  const srow: number[] = [];
  for (let i = 0; i < 12; i++) {
    srow.push(
      version === 1 ? dv.getFloat32(srowAt + i * 4, littleEndian) : dv.getFloat64(srowAt + i * 8, littleEndian),
    );
  }
  const sform: Affine = [...srow, 0, 0, 0, 1];
  const dim = h.dims.slice(0, 8).map(Number);
  const pixdim = h.pixDims.slice(0, 8).map(Number);
  const qfac = pixdim[0] === -1 ? -1 : 1; // nibabel fixes any other pixdim[0] to 1
  const qform = qformToAffine({
    quaternB: h.quatern_b,
    quaternC: h.quatern_c,
    quaternD: h.quatern_d,
    qoffsetX: h.qoffset_x,
    qoffsetY: h.qoffset_y,
    qoffsetZ: h.qoffset_z,
    qfac,
    zooms: [pixdim[1] ?? 1, pixdim[2] ?? 1, pixdim[3] ?? 1],
  });
  const dtCode = h.datatypeCode;
  const dt = NIFTI_DATATYPES[dtCode];
  return {
    version,
    littleEndian,
    pair: ('isHDR' in h && h.isHDR === true) || /^ni[12]/.test(h.magic),
    datatypeCode: dtCode,
    datatypeName: dt?.name ?? UNSUPPORTED_NIFTI_DATATYPES[dtCode] ?? `code ${dtCode}`,
    bitsPerVoxel: h.numBitsPerVoxel,
    dim,
    pixdim,
    voxOffset: Math.round(Number(h.vox_offset)),
    sclSlope: h.scl_slope,
    sclInter: h.scl_inter,
    spatialUnit: SPATIAL_UNITS[h.xyzt_units & 7] ?? 'unknown',
    temporalUnit: TEMPORAL_UNITS[h.xyzt_units & 56] ?? 'unknown',
    qformCode: h.qform_code,
    sformCode: h.sform_code,
    qform,
    sform,
    intentCode: h.intent_code,
    intentParams: [h.intent_p1, h.intent_p2, h.intent_p3],
    intentName: h.intent_name.replace(/\0.*$/s, ''),
    description: h.description.replace(/\0.*$/s, ''),
    sliceDuration: h.slice_duration,
    sliceCode: h.slice_code,
    sliceStart: Number(h.slice_start),
    sliceEnd: Number(h.slice_end),
    dimInfo: h.dim_info,
    calMin: h.cal_min,
    calMax: h.cal_max,
    toffset: h.toffset,
  };
}

function loadRaw(path: string, preloaded?: PreloadedNifti): RawNifti {
  if (preloaded && preloaded.path !== path)
    throw new RangeError(`loadRaw: preloaded bytes are of ${preloaded.path}, not ${path}`);
  const readMaybeGzip = (p: string) => preloaded?.files.get(p) ?? readMaybeGzipSync(p);
  const pair = pairPaths(path);
  if (pair) {
    const hb = readMaybeGzip(pair.hdr);
    // A .hdr names a pair whatever its magic says (as nibabel decides by file name).
    const header = { ...parseHeader(pair.hdr, hb), pair: true };
    return { header, bytes: readMaybeGzip(pair.img), dataOffset: checkedVoxOffset(pair.hdr, header, 0) };
  }
  const bytes = readMaybeGzip(path);
  const header = parseHeader(path, bytes);
  if (header.pair)
    throw new InputError(
      `${path}: this header says its data is in a separate .img file (magic ni1); name the .hdr file`,
    );
  return { header, bytes, dataOffset: checkedVoxOffset(path, header, header.version === 1 ? 348 : 540) };
}

/** The header's vox_offset, refused when it points before the data can start (e.g. a negative offset). */
function checkedVoxOffset(path: string, header: NiftiHeader, min: number): number {
  const v = header.voxOffset;
  if (!Number.isSafeInteger(v) || v < min)
    throw new InputError(
      `${path}: vox_offset ${v} is not a valid data offset; expected a whole number >= ${min} (${min === 0 ? 'into the .img file' : `after the ${min}-byte header`})`,
    );
  return v;
}

/** Spatial and volume dims as `Volume.dims` (dims 4-7 folded into the volume count). */
export function volumeDims(header: Pick<NiftiHeader, 'dim'>): [number, number, number, number] {
  const nd = header.dim[0]!;
  const d = (i: number) => (i <= nd ? header.dim[i]! : 1);
  let nt = 1;
  for (let i = 4; i <= nd; i++) nt *= d(i);
  return [d(1), d(2), d(3), nt];
}

function checkedDims(path: string, header: NiftiHeader): [number, number, number, number] {
  const nd = header.dim[0]!;
  if (!(nd >= 1 && nd <= 7)) throw new InputError(`${path}: dim[0] is ${nd}; expected 1-7`);
  for (let i = 1; i <= nd; i++) {
    const v = header.dim[i]!;
    if (!Number.isInteger(v) || v < 1) throw new InputError(`${path}: dim[${i}] is ${v}; expected a positive size`);
  }
  return volumeDims(header);
}

function bestAffine(header: NiftiHeader, dims: readonly number[]): { affine: Affine; source: Volume['affineSource'] } {
  if (header.sformCode > 0 && header.sform.every(Number.isFinite))
    return { affine: header.sform.slice(), source: 'sform' };
  if (header.qformCode > 0) return { affine: header.qform.slice(), source: 'qform' };
  return {
    affine: baseAffine(dims, [header.pixdim[1] ?? 1, header.pixdim[2] ?? 1, header.pixdim[3] ?? 1]),
    source: 'pixdim',
  };
}

function repetitionTime(header: NiftiHeader, dims: readonly number[]): { tr: number | null; note?: string } {
  const raw = header.pixdim[4] ?? 0;
  if (dims[3]! <= 1 || !(raw > 0) || !Number.isFinite(raw)) return { tr: null };
  const unit = header.temporalUnit;
  const perUnit = SECONDS_PER_UNIT[unit];
  if (perUnit === undefined) return { tr: null, note: `pixdim[4] ${raw} is in ${unit}, not a time` };
  const tr = raw * perUnit;
  if ((unit === 's' || unit === 'unknown') && tr >= TR_MS_MISLABEL_THRESHOLD_S) {
    return {
      tr: raw / 1000,
      note: `pixdim[4] ${raw} labelled ${unit === 's' ? 'seconds' : 'with no unit'} read as milliseconds`,
    };
  }
  return { tr, ...(unit === 'unknown' ? { note: `pixdim[4] ${raw} has no time unit; read as seconds` } : {}) };
}

/** The stored values, native byte order and aligned, viewed by the datatype's typed array. */
function storedValues(path: string, raw: RawNifti, count: number) {
  const { header } = raw;
  const dt = NIFTI_DATATYPES[header.datatypeCode];
  if (!dt) {
    const why = UNSUPPORTED_NIFTI_DATATYPES[header.datatypeCode] ?? `unknown code ${header.datatypeCode}`;
    throw new InputError(
      `${path}: datatype ${why} is not supported; expected a scalar image (uint8, int8, int16, uint16, int32, uint32, int64, uint64, float32, float64)`,
    );
  }
  const nbytes = count * dt.bytes;
  if (raw.dataOffset + nbytes > raw.bytes.length) {
    throw new InputError(
      `${path}: file holds ${raw.bytes.length - raw.dataOffset} bytes of voxel data after offset ${raw.dataOffset}; the header needs ${nbytes} (${count} ${dt.name} values)`,
    );
  }
  let region = raw.bytes.subarray(raw.dataOffset, raw.dataOffset + nbytes);
  const swap = !header.littleEndian && dt.bytes > 1;
  // Typed arrays need aligned offsets; byte-swapping needs a buffer we may write (we own `bytes`).
  if (region.byteOffset % dt.bytes !== 0) region = region.slice();
  if (swap) {
    const b = Buffer.from(region.buffer, region.byteOffset, region.byteLength);
    if (dt.bytes === 2) b.swap16();
    else if (dt.bytes === 4) b.swap32();
    else b.swap64();
  }
  return { dt, values: dt.view(region.buffer, region.byteOffset, count) };
}

/** nibabel's rule: slope 0 or not finite means no scaling. */
function scaling(header: NiftiHeader, path: string): { slope: number; inter: number } | null {
  const { sclSlope: slope, sclInter: inter } = header;
  if (slope === 0 || !Number.isFinite(slope)) return null;
  if (!Number.isFinite(inter))
    throw new InputError(`${path}: scl_slope is ${slope} but scl_inter is ${inter}; expected a finite intercept`);
  if (slope === 1 && inter === 0) return null;
  return { slope, inter };
}

function fillScaled(
  out: VolumeData,
  values: ArrayLike<number> | BigInt64Array | BigUint64Array,
  bigint: boolean,
  scale: { slope: number; inter: number } | null,
): void {
  const n = out.length;
  if (bigint) {
    const v = values as BigInt64Array;
    for (let i = 0; i < n; i++) out[i] = Number(v[i]!);
  } else {
    out.set(values as ArrayLike<number>);
  }
  if (scale) {
    const { slope, inter } = scale;
    for (let i = 0; i < n; i++) out[i] = out[i]! * slope + inter;
  }
}

function volumeFromHeader(
  path: string,
  header: NiftiHeader,
  dims: [number, number, number, number],
  data: VolumeData,
): Volume {
  const { affine, source } = bestAffine(header, dims);
  const { tr, note } = repetitionTime(header, dims);
  return {
    path,
    dims,
    data,
    affine,
    affineSource: source,
    voxelSizeMm: affineVoxelSizes(affine),
    repetitionTimeS: tr,
    ...(note ? { repetitionTimeNote: note } : {}),
    header,
  };
}

/** Read a NIfTI-1/-2 image (.nii, .nii.gz, .hdr/.img[.gz]) with scaling applied. */
export function readNifti(path: string, options: ReadNiftiOptions = {}): Volume {
  const raw = loadRaw(path);
  const dims = checkedDims(path, raw.header);
  const count = dims[0] * dims[1] * dims[2] * dims[3];
  const { dt, values } = storedValues(path, raw, count);
  const precision = options.precision ?? 'auto';
  const use64 = precision === 'float64' || (precision === 'auto' && !dt.exactInFloat32);
  const data = use64 ? new Float64Array(count) : new Float32Array(count);
  fillScaled(data, values, dt.bigint === true, scaling(raw.header, path));
  return volumeFromHeader(path, raw.header, dims, data);
}

/**
 * A 3D image given as a mask, label image, atlas or template: refused, naming the file and its
 * role, when it holds several volumes (e.g. a 4D BOLD or beta file passed by mistake).
 */
export function readVolume3d(path: string, role: string): Volume {
  const v = readNifti(path);
  if (v.dims[3] !== 1)
    throw new InputError(
      `${path}: ${role} must be one 3D volume; this image has ${v.dims[3]} volumes (${v.dims.join('x')})`,
    );
  return v;
}

/** Header, dims, affine and TR of an image without converting its voxel values. */
export function readNiftiInfo(path: string): Omit<Volume, 'data'> {
  const raw = loadRaw(path);
  const dims = checkedDims(path, raw.header);
  const v = volumeFromHeader(path, raw.header, dims, new Float32Array(0));
  const { data: _unused, ...rest } = v;
  return rest;
}

export interface ReadVoxelsOptions {
  /**
   * 'time-major' (default): value of voxel i at volume t is data[t * n + i]. 'voxel-major': each
   * voxel's series is contiguous, data[i * nt + t] (what the GLM fits).
   */
  layout?: 'time-major' | 'voxel-major';
  /** Put `data` in a SharedArrayBuffer (for worker threads). */
  shared?: boolean;
  /** Refuse the image unless it is on this grid (checked before any voxel is read). */
  sameGridAs?: { grid: Grid; what: string };
  /** The file's bytes from `preloadNifti` (read ahead); otherwise the file is read now. */
  preloaded?: PreloadedNifti;
}

/**
 * Read the time series of chosen voxels of a 4D image (`voxels`: linear indices into one volume),
 * without building the whole 4D float array, so a 1 GB run costs its file bytes plus the series.
 */
export function readNiftiVoxels(
  path: string,
  voxels: Int32Array | Uint32Array,
  options: ReadVoxelsOptions = {},
): Omit<Volume, 'data'> & { data: Float32Array } {
  const raw = loadRaw(path, options.preloaded);
  const dims = checkedDims(path, raw.header);
  const info = volumeFromHeader(path, raw.header, dims, new Float32Array(0));
  if (options.sameGridAs) assertSameGrid(options.sameGridAs.grid, info, options.sameGridAs.what);
  const nvox = dims[0] * dims[1] * dims[2];
  const nt = dims[3];
  const { dt, values } = storedValues(path, raw, nvox * nt);
  const n = voxels.length;
  for (let i = 0; i < n; i++) {
    const v = voxels[i]!;
    if (!(v >= 0 && v < nvox)) throw new RangeError(`readNiftiVoxels: voxel index ${v} outside 0..${nvox - 1}`);
  }
  const scale = scaling(raw.header, path);
  const slope = scale?.slope ?? 1;
  const inter = scale?.inter ?? 0;
  const out = options.shared ? new Float32Array(new SharedArrayBuffer(n * nt * 4)) : new Float32Array(n * nt);
  const get: (j: number) => number = dt.bigint
    ? (j) => Number((values as BigInt64Array)[j]!)
    : (j) => (values as Float32Array)[j]!; // any numeric typed array; indexed reads only
  if (options.layout === 'voxel-major') {
    // Blocks of voxels: reads stay near each other within a volume, writes stay in cache.
    const B = 256;
    const src = values as Float32Array;
    for (let i0 = 0; i0 < n; i0 += B) {
      const i1 = Math.min(n, i0 + B);
      for (let t = 0; t < nt; t++) {
        const base = t * nvox;
        if (dt.bigint) for (let i = i0; i < i1; i++) out[i * nt + t] = get(base + voxels[i]!) * slope + inter;
        else for (let i = i0; i < i1; i++) out[i * nt + t] = src[base + voxels[i]!]! * slope + inter;
      }
    }
  } else {
    const src = values as Float32Array;
    for (let t = 0; t < nt; t++) {
      const base = t * nvox;
      const o = t * n;
      if (dt.bigint) for (let i = 0; i < n; i++) out[o + i] = get(base + voxels[i]!) * slope + inter;
      else for (let i = 0; i < n; i++) out[o + i] = src[base + voxels[i]!]! * slope + inter;
    }
  }
  return { ...info, data: out };
}

/**
 * The temporal mean of every voxel of a 4D image (scaling applied) as one float32 volume, without
 * building the 4D float array: a mean EPI for report backgrounds costs the file's bytes only.
 */
export function readNiftiMeanVolume(path: string): Omit<Volume, 'data'> & { data: Float32Array } {
  const raw = loadRaw(path);
  const dims = checkedDims(path, raw.header);
  const info = volumeFromHeader(path, raw.header, dims, new Float32Array(0));
  const nvox = dims[0] * dims[1] * dims[2];
  const nt = dims[3];
  const { dt, values } = storedValues(path, raw, nvox * nt);
  const sum = new Float64Array(nvox);
  if (dt.bigint) {
    const v = values as BigInt64Array;
    for (let t = 0; t < nt; t++) for (let i = 0, o = t * nvox; i < nvox; i++) sum[i] = sum[i]! + Number(v[o + i]!);
  } else {
    const v = values as Float32Array; // any numeric typed array; indexed reads only
    for (let t = 0; t < nt; t++) for (let i = 0, o = t * nvox; i < nvox; i++) sum[i] = sum[i]! + v[o + i]!;
  }
  const scale = scaling(raw.header, path);
  const slope = scale?.slope ?? 1;
  const inter = scale?.inter ?? 0;
  const data = new Float32Array(nvox);
  for (let i = 0; i < nvox; i++) data[i] = (sum[i]! / nt) * slope + inter;
  return { ...info, dims: [dims[0], dims[1], dims[2], 1], data };
}

/** Orientation of an image as nibabel's `aff2axcodes`, e.g. "RAS", "LAS". */
export function volumeAxisCodes(v: { affine: Affine }): string {
  return affineAxisCodes(v.affine);
}
